import { Controller, Delete, Get, HttpCode, Post, Put } from '@nestjs/common';
import { AppsRpc, createAppBody, updateAppBody } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { AccessDecisions } from '../authorization/access-decisions';
import {
  Authorize,
  AuthorizedResource,
  CurrentAccount,
  CurrentResource,
  InAccount,
  Lister,
  ListingCaller,
} from '../authorization/authorize.decorator';
import { ChangesAccess } from '../authorization/access-changes';
import { listByOwnership, ownershipListQuery } from '../http/ownership-listing';
import { CollaboratorTokens } from './collaborator-tokens';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { appView, listOf } from '../http/views';

const listQuery = z.object(ownershipListQuery);

/** Apps (Clarifai): resources whose contents are guarded by scopes and shared with collaborators. */
@Controller('v2/apps')
export class AppsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
    private readonly collaboratorTokens: CollaboratorTokens,
  ) {}

  @Get()
  @InAccount('APP', 'READ')
  @Returns(listOf(appView))
  async list(@Lister() lister: ListingCaller, @ValidQuery(listQuery) q: z.output<typeof listQuery>) {
    const page = await listByOwnership(this.rpc, this.access, lister, 'APP', q, (req) =>
      this.rpc.call(AppsRpc.listApps, req),
    );
    return { data: { ...page, items: page.items.map((a) => a.view) } };
  }

  @Post()
  @InAccount('APP', 'CREATE')
  @HttpCode(201)
  @Returns(appView)
  async create(
    @CurrentUser() user: UserPrincipal,
    @CurrentAccount() account: string,
    @ValidBody(createAppBody) app: z.output<typeof createAppBody>,
  ) {
    return {
      data: await this.rpc.call(AppsRpc.createApp, { ownerId: account, createdBy: user.userId, app }),
    };
  }

  @Get(':appId')
  @Authorize('APP', 'READ', 'appId')
  @Returns(appView)
  async get(@CurrentResource() resource: AuthorizedResource) {
    return { data: await this.rpc.call(AppsRpc.getApp, { id: resource.id }) };
  }

  @Put(':appId')
  @ChangesAccess('resource', { ifBody: ['name'] })
  @Authorize('APP', 'WRITE', 'appId')
  @Returns(appView)
  async update(
    @CurrentResource() resource: AuthorizedResource,
    @ValidBody(updateAppBody) changes: z.output<typeof updateAppBody>,
  ) {
    const app = await this.rpc.call(AppsRpc.updateApp, { id: resource.id, changes });
    // A new name addresses the app (`username~name`) from the very next request.
    return { data: app };
  }

  /** Deletes the app with everything in it; its collaborators' tokens are revoked with it. */
  @Delete(':appId')
  @ChangesAccess('resource')
  @Authorize('APP', 'WRITE', 'appId')
  @HttpCode(204)
  @ReturnsNothing()
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    const { collaboratorTokens } = await this.rpc.call(AppsRpc.deleteApp, { id: resource.id });
    for (const { userId, tokenId } of collaboratorTokens)
      await this.collaboratorTokens.revoke(userId, tokenId);
  }
}
