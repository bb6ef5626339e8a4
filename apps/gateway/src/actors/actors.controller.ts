import { Body, Controller, Delete, Get, Headers, HttpCode, Ip, Post, Put } from '@nestjs/common';
import {
  ActorsRpc,
  ActorView,
  AppError,
  asInputSchema,
  BuildView,
  validateActorInput,
  buildRefSchema,
  createActorBody,
  updateActorBody,
  versionNumberSchema,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { AccessChanger, CurrentUser, principalRef, UserPrincipal } from '../auth/principal';
import {
  Authorize,
  AuthorizedResource,
  CurrentResource,
  InAccount,
  CurrentAccount,
  Lister,
  ListingCaller,
} from '../authorization/authorize.decorator';
import { paginationQuery, queryBoolean } from '../http/api-query';
import { ChangesAccess, ChangesNoAccess } from '../authorization/access-changes';
import { decideEach, listByOwnership, ownershipListQuery } from '../http/ownership-listing';
import { usernamesOf } from '../users/usernames';
import { presentBuild, waitForBuild } from './actor-builds.controller';
import { ClientGone } from '../http/request-done';
import { AccessDecisions } from '../authorization/access-decisions';
import { requireManageAccessToChange } from '../authorization/access-check';
import { waitForFinishParam } from '../http/wait-for-finish';
import { AnyBody, Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { actorView, anyObject, buildView, listOf } from '../http/views';

const listQuery = z.object({
  ...ownershipListQuery,
  /** apify-client's `my`: only Actors the caller owns, which is what `ownedByMe` lists anyway. */
  my: queryBoolean.optional(),
  sortBy: z.enum(['createdAt', 'stats.lastRunStartedAt']).optional(),
});
const buildsQuery = z.object(paginationQuery);
const createBuildQuery = z.object({
  version: versionNumberSchema.optional(),
  tag: buildRefSchema.optional(),
  useCache: queryBoolean.optional(),
  betaPackages: queryBoolean.optional(),
  waitForFinish: waitForFinishParam,
});
const defaultBuildQuery = z.object({ waitForFinish: waitForFinishParam });
const validateInputQuery = z.object({ build: buildRefSchema.optional() });

/**
 * Actors with Apify API v2's paths and shapes. apify-client 2.x addresses them as `/v2/actors`,
 * older clients and the documentation as `/v2/acts`: both are served.
 */
@Controller(['v2/acts', 'v2/actors'])
export class ActorsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  private async present(actors: ActorView[]): Promise<Record<string, unknown>[]> {
    const usernames = await usernamesOf(
      this.rpc,
      actors.map((a) => a.userId),
    );
    return actors.map((actor) => ({ ...actor, username: usernames.get(actor.userId) ?? null }));
  }

  private async presentOne(actor: ActorView): Promise<Record<string, unknown>> {
    return (await this.present([actor]))[0] as Record<string, unknown>;
  }

  @Get()
  @InAccount('ACTOR', 'READ')
  @Returns(listOf(actorView))
  async list(@Lister() lister: ListingCaller, @ValidQuery(listQuery) q: z.output<typeof listQuery>) {
    const page = await listByOwnership(this.rpc, this.access, lister, 'ACTOR', q, (req) =>
      this.rpc.call(ActorsRpc.listActors, req),
    );
    return { data: { ...page, items: await this.present(page.items.map((a) => a.view)) } };
  }

  @Post()
  @InAccount('ACTOR', 'CREATE')
  @HttpCode(201)
  @Returns(actorView)
  async create(
    @CurrentUser() user: UserPrincipal,
    @CurrentAccount() account: string,
    @ValidBody(createActorBody) actor: z.output<typeof createActorBody>,
  ) {
    const created = await this.rpc.call(ActorsRpc.createActor, {
      ownerId: account,
      createdBy: user.userId,
      actor,
    });
    return { data: await this.presentOne(created) };
  }

  @Get(':actorId')
  @Authorize('ACTOR', 'READ', 'actorId')
  @Returns(actorView)
  async get(@CurrentResource() resource: AuthorizedResource) {
    // Secret env var values of its versions only for those who may change it.
    const revealSecrets = resource.permissions.includes('WRITE');
    return {
      data: await this.presentOne(
        await this.rpc.call(ActorsRpc.getActor, { id: resource.id, revealSecrets }),
      ),
    };
  }

  @Put(':actorId')
  @ChangesAccess('resource')
  @Authorize('ACTOR', 'WRITE', 'actorId')
  @Returns(actorView)
  async update(
    @CurrentResource() resource: AuthorizedResource,
    @ValidBody(updateActorBody) changes: z.output<typeof updateActorBody>,
    @AccessChanger() changedBy: string | undefined,
  ) {
    await requireManageAccessToChange(this.rpc, changedBy, resource, changes);
    const actor = await this.rpc.call(ActorsRpc.updateActor, { id: resource.id, changes, changedBy });
    return { data: await this.presentOne(actor) };
  }

  @Delete(':actorId')
  @ChangesAccess('resource')
  @Authorize('ACTOR', 'WRITE', 'actorId')
  @HttpCode(204)
  @ReturnsNothing()
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(ActorsRpc.deleteActor, { id: resource.id });
  }

  @Get(':actorId/builds')
  @Authorize('ACTOR', 'READ', 'actorId')
  @Returns(listOf(buildView))
  async listBuilds(
    @CurrentResource() actor: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(buildsQuery) q: z.output<typeof buildsQuery>,
  ) {
    const page = { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 1000, 1000), desc: q.desc ?? false };
    const builds = await this.rpc.call(ActorsRpc.listBuilds, { actorId: actor.id, page });
    // Each build as its own GET would answer it.
    const items = await decideEach(this.access, principalRef(user), 'ACTOR_BUILD', builds.items, null);
    return {
      data: {
        ...builds,
        count: items.length,
        items: items.map((b) => presentBuild(b.view, b.permissions.includes('WRITE'))),
      },
    };
  }

  @Post(':actorId/builds')
  @ChangesNoAccess()
  @Authorize('ACTOR', 'BUILD', 'actorId')
  @HttpCode(201)
  @Returns(buildView, { errors: [402] })
  async build(
    @CurrentResource() actor: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(createBuildQuery) q: z.output<typeof createBuildQuery>,
    @Ip() clientIp: string,
    @ClientGone() gone: AbortSignal,
    @Headers('user-agent') userAgent?: string,
  ) {
    const build = await this.rpc.call(ActorsRpc.createBuild, {
      actorId: actor.id,
      version: q.version,
      tag: q.tag,
      options: { useCache: q.useCache, betaPackages: q.betaPackages },
      meta: { origin: 'API', clientIp: clientIp?.slice(0, 100), userAgent: userAgent?.slice(0, 500) },
      createdBy: user.userId,
    });
    const waited = q.waitForFinish ? await waitForBuild(this.rpc, build.id, q.waitForFinish, gone) : build;
    return { data: presentBuild(waited, true) };
  }

  /**
   * The build a run would use by default (`defaultRunOptions.build`, else `latest`), as its own
   * GET answers it: a caller who cannot read that build gets 404.
   */
  @Get(':actorId/builds/default')
  @Authorize('ACTOR', 'READ', 'actorId')
  @Returns(buildView)
  async defaultBuild(
    @CurrentResource() actor: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(defaultBuildQuery) q: z.output<typeof defaultBuildQuery>,
    @ClientGone() gone: AbortSignal,
  ) {
    const found = await this.rpc.call(ActorsRpc.resolveBuild, { actorId: actor.id });
    const decision = await this.access.check(principalRef(user), 'ACTOR_BUILD', found.id, 'READ');
    if (!decision.canRead) throw AppError.notFound('The default build');
    const build = q.waitForFinish ? await waitForBuild(this.rpc, found.id, q.waitForFinish, gone) : found;
    return { data: presentBuild(build, decision.permissions.includes('WRITE')) };
  }

  /**
   * Apify's input check before a run: against the input schema of the build (`build`, by default
   * the Actor's default build); a build without one accepts any input. Answers `{ valid: true }`
   * (no `data` envelope, as Apify's), or 400 naming the failing field.
   */
  @Post(':actorId/validate-input')
  @ChangesNoAccess()
  @Authorize('ACTOR', 'READ', 'actorId')
  @HttpCode(200)
  @AnyBody()
  @Returns(anyObject)
  async validateInput(
    @CurrentResource() actor: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(validateInputQuery) q: z.output<typeof validateInputQuery>,
    @Body() body: unknown,
  ) {
    let build: BuildView | null;
    try {
      build = await this.rpc.call(ActorsRpc.resolveBuild, { actorId: actor.id, ref: q.build });
    } catch (err) {
      // No default build yet: nothing to validate against. A build asked for by name must exist.
      if (q.build !== undefined || !(err instanceof AppError) || err.type !== 'record-not-found') throw err;
      build = null;
    }
    if (build && !(await this.access.check(principalRef(user), 'ACTOR_BUILD', build.id, 'READ')).canRead)
      throw AppError.notFound(`The build "${q.build ?? 'default'}"`);
    const schema = build?.inputSchema ? asInputSchema(JSON.parse(build.inputSchema)) : null;
    if (schema) {
      const input = Buffer.isBuffer(body) ? undefined : body;
      const problem = validateActorInput(schema, input);
      if (problem)
        throw new AppError(
          'invalid-input',
          `Input is not valid: Field "${problem.field}" ${problem.message}`,
        );
    }
    return { valid: true };
  }
}
