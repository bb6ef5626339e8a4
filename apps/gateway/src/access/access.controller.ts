import { Controller, Delete, Get, HttpCode, Param, PipeTransform, Post, Put } from '@nestjs/common';
import {
  AppError,
  grantBody,
  IdentityRpc,
  idSchema,
  PermissionsRpc,
  ResourcesRpc,
  STORAGE_TYPES,
  StorageType,
  updateGrantBody,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { queryInt } from '../http/api-query';
import { accessGrantView, accessListView, anyObject } from '../http/views';
import { ChangesAccess, ChangesNoAccess } from '../authorization/access-changes';
import { CollaboratorTokens } from '../apps/collaborator-tokens';

const accessListQuery = z.object({
  limit: queryInt(1, 1000).optional(),
  /** The `nextCursor` of the previous page of grants. */
  cursor: idSchema.optional(),
});

const MANAGE = { collectionParam: 'collection' } as const;

/** A grant id that is not an id names no grant: 404, as an unknown one. */
class GrantIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!idSchema.safeParse(value).success) throw AppError.notFound('The grant');
    return value;
  }
}

/** Who has access to a resource and why, and the grants its managers give and take back. */
@Controller('v2/:collection/:resourceId/access')
export class AccessController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly collaboratorTokens: CollaboratorTokens,
  ) {}

  @Get()
  @Authorize(MANAGE, 'MANAGE_ACCESS', 'resourceId')
  @Returns(accessListView)
  async list(
    @CurrentResource() resource: AuthorizedResource,
    @ValidQuery(accessListQuery) q: z.output<typeof accessListQuery>,
  ) {
    return {
      data: await this.rpc.call(PermissionsRpc.listAccess, {
        resourceType: resource.type,
        resourceId: resource.id,
        limit: q.limit ?? 1000,
        cursor: q.cursor,
      }),
    };
  }

  /** Replaces a storage's URL signing key: every link signed with the old key stops working at once. */
  @Post('signing-key/rotate')
  @ChangesNoAccess()
  @Authorize(MANAGE, 'MANAGE_ACCESS', 'resourceId')
  @Returns(anyObject)
  async rotateSigningKey(@CurrentResource() resource: AuthorizedResource) {
    if (!(STORAGE_TYPES as readonly string[]).includes(resource.type)) {
      throw AppError.notFound('Signing keys exist for storages only; the record');
    }
    return {
      data: await this.rpc.call(ResourcesRpc.rotateSigningKey, {
        type: resource.type as StorageType,
        id: resource.id,
      }),
    };
  }

  @Post('grants')
  @ChangesAccess('grant')
  @Authorize(MANAGE, 'MANAGE_ACCESS', 'resourceId')
  @HttpCode(201)
  @Returns(accessGrantView)
  async grant(
    @CurrentResource() resource: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidBody(grantBody, { required: true }) input: z.output<typeof grantBody>,
  ) {
    const subject = await this.rpc.call(IdentityRpc.resolveUser, { ref: input.user });
    const grant = await this.rpc.call(PermissionsRpc.createGrant, {
      resourceType: resource.type,
      resourceId: resource.id,
      subjectId: subject.id,
      permissions: input.permissions,
      expiresAt: input.expiresAt,
      notBefore: input.notBefore,
      grantedBy: user.userId,
      grantorHolds: resource.permissions,
    });
    return { data: grant };
  }

  @Put('grants/:grantId')
  @ChangesAccess('grant')
  @Authorize(MANAGE, 'MANAGE_ACCESS', 'resourceId')
  @Returns(accessGrantView)
  async update(
    @CurrentResource() resource: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @Param('grantId', GrantIdPipe) grantId: string,
    @ValidBody(updateGrantBody, { required: true }) changes: z.output<typeof updateGrantBody>,
  ) {
    const grant = await this.rpc.call(PermissionsRpc.updateGrant, {
      resourceType: resource.type,
      resourceId: resource.id,
      grantId,
      changes,
      updatedBy: user.userId,
      grantorHolds: resource.permissions,
    });
    // An app collaborator's personal access token follows its scopes, however they change.
    if (resource.type === 'APP' && grant.userId)
      await this.collaboratorTokens.follow(resource.id, grant.userId, grant.permissions);
    return { data: grant };
  }

  @Delete('grants/:grantId')
  @ChangesAccess('grant')
  @Authorize(MANAGE, 'MANAGE_ACCESS', 'resourceId')
  @HttpCode(204)
  @ReturnsNothing()
  async revoke(
    @CurrentResource() resource: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @Param('grantId', GrantIdPipe) grantId: string,
  ): Promise<void> {
    const appCollaborator =
      resource.type === 'APP' ? await this.collaboratorTokens.grantHolder(resource.id, grantId) : null;
    await this.rpc.call(PermissionsRpc.revokeGrant, {
      resourceType: resource.type,
      resourceId: resource.id,
      grantId,
      revokedBy: user.userId,
    });
    // Taking an app collaborator's grant removes the collaborator, its token with it.
    if (appCollaborator) await this.collaboratorTokens.removeCollaborator(resource.id, appCollaborator);
  }
}
