import { Controller, HttpCode, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { createEnvironmentGroupBody, EnvironmentGroupsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { CurrentAccount, InAccount } from '../authorization/authorize.decorator';
import { ValidBody } from '../http/validated';

/**
 * What is special about environment groups: their create, in the caller's account or, with
 * `ownerId`, in a primary whose collaboration lets the caller create there, under `parentId`.
 * Their list, get, update and delete: `EnvironmentGroupsCatalogueController`.
 */
@ApiTags('environments')
@Controller('v2/environment-groups')
export class EnvironmentGroupsController {
  constructor(private readonly rpc: RpcClient) {}

  @Post()
  @InAccount('ENVIRONMENT_GROUP', 'CREATE', { ownerFrom: 'ownerId', groupFrom: 'parentId' })
  @HttpCode(201)
  async create(
    @CurrentUser() user: UserPrincipal,
    @CurrentAccount() account: string,
    @ValidBody(createEnvironmentGroupBody) input: z.output<typeof createEnvironmentGroupBody>,
  ) {
    const group = await this.rpc.call(EnvironmentGroupsRpc.create, {
      ownerId: account,
      createdBy: user.userId,
      name: input.name,
      parentId: input.parentId ?? null,
    });
    return { data: group };
  }
}
