import { Controller, Delete, Get, HttpCode, Logger, Param, Patch, PipeTransform, Post } from '@nestjs/common';
import {
  addCollaboratorBody,
  APP_SCOPES,
  AppCollaboratorRecord,
  AppCollaboratorView,
  AppError,
  AppScope,
  AppsRpc,
  expandAppScopes,
  GrantView,
  IdentityRpc,
  idSchema,
  Permission,
  PermissionsRpc,
  updateCollaboratorBody,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { paginationQuery } from '../http/api-query';
import { ChangesAccess } from '../authorization/access-changes';
import { CollaboratorTokens } from './collaborator-tokens';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { appCollaboratorView, listOf } from '../http/views';

const listQuery = z.object(paginationQuery);
const isScope = (p: Permission): p is AppScope => (APP_SCOPES as readonly string[]).includes(p);

/** A collaborator is named by its user id; anything else names no collaborator. */
class CollaboratorIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!idSchema.safeParse(value).success) throw AppError.notFound('The collaborator');
    return value;
  }
}

/**
 * No one gives a scope it does not hold on the app (the owner holds them all): a collaborator
 * with `Collaborators:Add` shares at most what it has.
 */
function requireHeld(app: AuthorizedResource, scopes: readonly AppScope[]): void {
  const lacking = scopes.find((s) => !app.permissions.includes(s));
  if (lacking) {
    throw new AppError(
      'insufficient-permissions',
      `Field "body.scopes" gives ${lacking}, which you do not hold on this app: you can only give scopes you hold`,
    );
  }
}

/**
 * Clarifai's app collaborators: a grant on the app whose permissions are scopes, given without an
 * acceptance step, plus a personal access token scoped to the app for the collaborator.
 */
@Controller('v2/apps/:appId/collaborators')
export class AppCollaboratorsController {
  private readonly logger = new Logger(AppCollaboratorsController.name);

  constructor(
    private readonly rpc: RpcClient,
    private readonly collaboratorTokens: CollaboratorTokens,
  ) {}

  @Get()
  @Authorize('APP', 'Collaborators:Get', 'appId')
  @Returns(listOf(appCollaboratorView))
  async list(
    @CurrentResource() app: AuthorizedResource,
    @ValidQuery(listQuery) q: z.output<typeof listQuery>,
  ) {
    const page = { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 1000, 1000), desc: q.desc ?? false };
    const [grants, records] = await Promise.all([
      this.grants(app.id),
      this.rpc.call(AppsRpc.listCollaborators, { appId: app.id }),
    ]);
    const ordered = page.desc ? [...grants].reverse() : grants;
    const slice = ordered.slice(page.offset, page.offset + page.limit);
    const items = await Promise.all(slice.map((g) => this.view(g, records)));
    return { data: { total: grants.length, ...page, count: items.length, items } };
  }

  @Post()
  @ChangesAccess('grant', { anyResource: true })
  @Authorize('APP', 'Collaborators:Add', 'appId')
  @HttpCode(201)
  @Returns(appCollaboratorView)
  async add(
    @CurrentResource() app: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidBody(addCollaboratorBody) input: z.output<typeof addCollaboratorBody>,
  ) {
    const scopes = expandAppScopes(input.scopes);
    requireHeld(app, scopes);
    const subject = await this.rpc
      .call(IdentityRpc.resolveUser, { ref: input.user })
      .catch((err: unknown) => {
        if (err instanceof AppError && err.type === 'record-not-found')
          throw AppError.notFound(`The user "${input.user}" (body.user)`);
        throw err;
      });
    const { userId: ownerId } = await this.rpc.call(AppsRpc.getApp, { id: app.id });
    if (subject.id === ownerId) {
      throw new AppError(
        'invalid-input',
        `Field "body.user" is invalid: ${subject.username} owns this app and holds every scope`,
      );
    }
    const grant = await this.rpc
      .call(PermissionsRpc.createGrant, {
        resourceType: 'APP',
        resourceId: app.id,
        subjectId: subject.id,
        permissions: scopes,
        grantedBy: user.userId,
      })
      .catch((err: unknown) => {
        if (err instanceof AppError && err.type === 'conflict') {
          throw new AppError(
            'conflict',
            `${subject.username} is already a collaborator of this app; change its scopes with PATCH /v2/apps/${app.id}/collaborators/${subject.id}`,
          );
        }
        throw err;
      });
    try {
      await this.giveToken(app.id, subject.id, user.userId, scopes);
    } catch (err) {
      // No collaborator without its token: the grant is taken back.
      await this.revokeGrant(app.id, grant.id, user.userId);
      throw err;
    }
    return { data: await this.view(grant, [], subject.username) };
  }

  /** Issues the collaborator's token and records it; a token left from before is revoked. */
  private async giveToken(
    appId: string,
    userId: string,
    addedBy: string,
    scopes: readonly AppScope[],
  ): Promise<void> {
    const token = await this.collaboratorTokens.issue(appId, userId, scopes);
    try {
      const { previousTokenId } = await this.rpc.call(AppsRpc.recordCollaborator, {
        appId,
        userId,
        tokenId: token.id,
        addedBy,
      });
      if (previousTokenId) await this.collaboratorTokens.revokeQuietly(userId, previousTokenId);
    } catch (err) {
      await this.collaboratorTokens.revokeQuietly(userId, token.id);
      throw err;
    }
  }

  @Patch(':collaboratorId')
  @ChangesAccess('grant', { anyResource: true })
  @Authorize('APP', 'Collaborators:Add', 'appId')
  @Returns(appCollaboratorView)
  async update(
    @CurrentResource() app: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @Param('collaboratorId', CollaboratorIdPipe) collaboratorId: string,
    @ValidBody(updateCollaboratorBody) input: z.output<typeof updateCollaboratorBody>,
  ) {
    if (collaboratorId === user.userId) {
      throw new AppError('insufficient-permissions', 'You cannot change your own scopes on this app');
    }
    const grant = await this.grantOf(app.id, collaboratorId);
    const scopes = expandAppScopes(input.scopes);
    const held = grant.permissions.filter(isScope);
    requireHeld(
      app,
      scopes.filter((s) => !held.includes(s)),
    );
    // Taking scopes away is part of removing: a caller without Collaborators:Delete takes away
    // only scopes it holds itself.
    const removed = held.filter((s) => !scopes.includes(s));
    const notOwn = removed.find((s) => !app.permissions.includes(s));
    if (notOwn && !app.permissions.includes('Collaborators:Delete'))
      throw new AppError(
        'insufficient-permissions',
        `Field "body.scopes" takes away ${notOwn}, which you do not hold on this app: you need Collaborators:Delete for that`,
      );
    // Permissions other than scopes (given through /access/grants) stay as they are.
    const others = grant.permissions.filter((p) => !isScope(p));
    const updated = await this.rpc.call(PermissionsRpc.updateGrant, {
      resourceType: 'APP',
      resourceId: app.id,
      grantId: grant.id,
      changes: { permissions: [...others, ...scopes] },
      updatedBy: user.userId,
    });
    // The collaborator's token follows at once (a retry of a failed change converges).
    await this.collaboratorTokens.follow(app.id, collaboratorId, scopes);
    const records = await this.rpc.call(AppsRpc.listCollaborators, { appId: app.id, userId: collaboratorId });
    return { data: await this.view(updated, records) };
  }

  /** Removes the collaborator: its grant and its token stop working on the next request. */
  @Delete(':collaboratorId')
  @ChangesAccess('grant', { anyResource: true })
  @Authorize('APP', 'Collaborators:Delete', 'appId')
  @HttpCode(204)
  @ReturnsNothing()
  async remove(
    @CurrentResource() app: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @Param('collaboratorId', CollaboratorIdPipe) collaboratorId: string,
  ): Promise<void> {
    const grant = await this.grantOf(app.id, collaboratorId);
    const records = await this.rpc.call(AppsRpc.listCollaborators, { appId: app.id, userId: collaboratorId });
    // Token first: a retry after a failure still finds the grant, and so the collaborator.
    for (const record of records) await this.collaboratorTokens.revoke(record.userId, record.tokenId);
    await this.rpc.call(PermissionsRpc.revokeGrant, {
      resourceType: 'APP',
      resourceId: app.id,
      grantId: grant.id,
      revokedBy: user.userId,
    });
    await this.rpc.call(AppsRpc.forgetCollaborator, { appId: app.id, userId: collaboratorId });
  }

  /** The grants on the app that make collaborators (hidden ones serve other purposes). */
  private async grants(appId: string): Promise<GrantView[]> {
    const all: GrantView[] = [];
    let cursor: string | undefined;
    do {
      const listing = await this.rpc.call(PermissionsRpc.listAccess, {
        resourceType: 'APP',
        resourceId: appId,
        cursor,
      });
      all.push(...listing.grants);
      cursor = listing.nextCursor ?? undefined;
    } while (cursor);
    // In the order they were added.
    return all.filter((g) => !g.hidden).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  private async grantOf(appId: string, userId: string): Promise<GrantView> {
    const grant = (await this.grants(appId)).find((g) => g.userId === userId);
    if (!grant) throw AppError.notFound('The collaborator');
    return grant;
  }

  private async revokeGrant(appId: string, grantId: string, revokedBy: string): Promise<void> {
    await this.rpc
      .call(PermissionsRpc.revokeGrant, { resourceType: 'APP', resourceId: appId, grantId, revokedBy })
      .catch((err: unknown) =>
        this.logger.error(`Could not undo grant ${grantId} on app ${appId}: ${(err as Error).message}`),
      );
  }

  private async view(
    grant: GrantView,
    records: AppCollaboratorRecord[],
    username?: string,
  ): Promise<AppCollaboratorView> {
    const record = records.find((r) => r.userId === grant.userId);
    const name =
      username ??
      (await this.rpc
        .call(IdentityRpc.getAccountFacts, { id: grant.userId })
        .then((facts) => facts.username)
        .catch(() => null));
    return {
      id: grant.userId,
      userId: grant.userId,
      username: name,
      appId: grant.resourceId,
      scopes: grant.permissions.filter(isScope),
      addedBy: record?.addedBy ?? grant.grantedBy,
      createdAt: grant.createdAt,
      modifiedAt: grant.modifiedAt,
    };
  }
}
