import { Controller, Delete, Get, HttpCode, Inject, Post, Put, Res } from '@nestjs/common';
import { ACTOR_JOB_TERMINAL_STATUSES, ActorsRpc, BuildView, updateBuildBody } from '@atrium/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import type { FastifyReply } from 'fastify';
import { waitForFinish, waitForFinishParam } from '../http/wait-for-finish';
import { buildOpenApiDefinition } from './build-openapi';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import {
  Authorize,
  AuthorizedResource,
  CurrentResource,
  Lister,
  ListingCaller,
  SignedIn,
} from '../authorization/authorize.decorator';
import { ChangesAccess, ChangesNoAccess } from '../authorization/access-changes';
import { requireManageAccessToChange } from '../authorization/access-check';
import { AccessChanger } from '../auth/principal';
import { listByOwnership, ownershipListQuery } from '../http/ownership-listing';
import { AccessDecisions } from '../authorization/access-decisions';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { ClientGone } from '../http/request-done';
import { anyObject, buildView, listOf, rawBody } from '../http/views';

const listQuery = z.object(ownershipListQuery);
const getQuery = z.object({ waitForFinish: waitForFinishParam });

/**
 * The build once it has finished, or as it is after `seconds` (60 at most): Atrium runs no
 * builder, so this waits for whoever builds it to set its status (`PUT`), or for an abort.
 */
export function waitForBuild(
  rpc: RpcClient,
  id: string,
  seconds: number,
  gone: AbortSignal,
): Promise<BuildView> {
  return waitForFinish(
    () => rpc.call(ActorsRpc.getBuild, { id }),
    ACTOR_JOB_TERMINAL_STATUSES,
    seconds,
    gone,
  );
}

/** Who started a build and from where is shown to those who may change it, not to every reader. */
export function presentBuild(build: BuildView, detailed: boolean): BuildView {
  return detailed ? build : { ...build, meta: { origin: build.meta.origin } };
}

/** Builds by id (`/v2/actor-builds`), as in Apify API v2; an Actor's builds are under the Actor. */
@Controller('v2/actor-builds')
export class ActorBuildsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Builds of the caller's Actors, or of those shared with them. */
  @Get()
  @SignedIn()
  @Returns(listOf(buildView))
  async list(@Lister() lister: ListingCaller, @ValidQuery(listQuery) q: z.output<typeof listQuery>) {
    const page = await listByOwnership(this.rpc, this.access, lister, 'ACTOR_BUILD', q, (req) =>
      this.rpc.call(ActorsRpc.listBuilds, req),
    );
    return {
      data: { ...page, items: page.items.map((b) => presentBuild(b.view, b.permissions.includes('WRITE'))) },
    };
  }

  @Get(':buildId')
  @Authorize('ACTOR_BUILD', 'READ', 'buildId')
  @Returns(buildView)
  async get(
    @CurrentResource() resource: AuthorizedResource,
    @ValidQuery(getQuery) q: z.output<typeof getQuery>,
    @ClientGone() gone: AbortSignal,
  ) {
    const build = q.waitForFinish
      ? await waitForBuild(this.rpc, resource.id, q.waitForFinish, gone)
      : await this.rpc.call(ActorsRpc.getBuild, { id: resource.id });
    return { data: presentBuild(build, resource.permissions.includes('WRITE')) };
  }

  /** What happened to the build, as text (apify-client's `build(id).log().get()`). */
  @Get(':buildId/log')
  @Authorize('ACTOR_BUILD', 'READ', 'buildId')
  @Returns(rawBody, { envelope: false, contentType: 'text/plain' })
  async log(
    @CurrentResource() resource: AuthorizedResource,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { log } = await this.rpc.call(ActorsRpc.getBuildLog, { id: resource.id });
    void reply.header('content-type', 'text/plain; charset=utf-8');
    return log;
  }

  /**
   * An OpenAPI 3 document for running the built Actor through this API, its request body the
   * build's input schema (any JSON object when the build has none).
   */
  @Get(':buildId/openapi.json')
  @Authorize('ACTOR_BUILD', 'READ', 'buildId')
  @Returns(anyObject, { envelope: false })
  async openApiDefinition(@CurrentResource() resource: AuthorizedResource) {
    const build = await this.rpc.call(ActorsRpc.getBuild, { id: resource.id });
    return buildOpenApiDefinition(build, this.config.PUBLIC_BASE_URL);
  }

  /**
   * Its status, moved forward by whoever builds it (as a run's), and its general access: WRITE
   * to call, MANAGE_ACCESS to change who may read it.
   */
  @Put(':buildId')
  @ChangesAccess('resource', { ifBody: ['generalAccess'] })
  @Authorize('ACTOR_BUILD', 'WRITE', 'buildId')
  @Returns(buildView)
  async update(
    @CurrentResource() resource: AuthorizedResource,
    @ValidBody(updateBuildBody) changes: z.output<typeof updateBuildBody>,
    @AccessChanger() changedBy: string | undefined,
  ) {
    await requireManageAccessToChange(this.rpc, changedBy, resource, changes);
    const build = await this.rpc.call(ActorsRpc.updateBuild, { id: resource.id, changes });
    return { data: presentBuild(build, true) };
  }

  @Post(':buildId/abort')
  @ChangesNoAccess()
  @Authorize('ACTOR_BUILD', 'WRITE', 'buildId')
  @HttpCode(200)
  @Returns(buildView)
  async abort(@CurrentResource() resource: AuthorizedResource) {
    return { data: presentBuild(await this.rpc.call(ActorsRpc.abortBuild, { id: resource.id }), true) };
  }

  @Delete(':buildId')
  @ChangesAccess('resource')
  @Authorize('ACTOR_BUILD', 'WRITE', 'buildId')
  @HttpCode(204)
  @ReturnsNothing()
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(ActorsRpc.deleteBuild, { id: resource.id });
  }
}
