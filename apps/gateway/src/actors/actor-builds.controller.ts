import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ActorsRpc, BuildView, updateBuildBody } from '@atrium/contracts';
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
import { parseBody, parseQuery } from '../http/api-query';
import { requireManageAccessToChange } from '../authorization/access-check';
import { listByOwnership, ownershipListQuery } from '../http/ownership-listing';
import { AccessDecisions } from '../authorization/access-decisions';

const listQuery = z.object(ownershipListQuery);
const getQuery = z.object({
  /**
   * Accepted for apify-client (whose `waitForFinish()` sends up to 999999); Atrium records builds
   * without running them, so it never waits.
   */
  waitForFinish: z.coerce.number().int().min(0).max(999_999).optional(),
});

/** Who started a build and from where is shown to those who may change it, not to every reader. */
export function presentBuild(build: BuildView, detailed: boolean): BuildView {
  return detailed ? build : { ...build, meta: { origin: build.meta.origin } };
}

/** Builds by id (`/v2/actor-builds`), as in Apify API v2; an Actor's builds are under the Actor. */
@ApiTags('actors')
@Controller('v2/actor-builds')
export class ActorBuildsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  /** Builds of the caller's Actors, or of those shared with them. */
  @Get()
  @SignedIn()
  async list(@Lister() lister: ListingCaller, @Query() query: unknown) {
    const q = parseQuery(listQuery, query);
    const page = await listByOwnership(this.rpc, this.access, lister, 'ACTOR_BUILD', q, (req) =>
      this.rpc.call(ActorsRpc.listBuilds, req),
    );
    return {
      data: { ...page, items: page.items.map((b) => presentBuild(b.view, b.permissions.includes('WRITE'))) },
    };
  }

  @Get(':buildId')
  @Authorize('ACTOR_BUILD', 'READ', 'buildId')
  async get(@CurrentResource() resource: AuthorizedResource, @Query() query: unknown) {
    parseQuery(getQuery, query);
    const build = await this.rpc.call(ActorsRpc.getBuild, { id: resource.id });
    return { data: presentBuild(build, resource.permissions.includes('WRITE')) };
  }

  /** Its general access, as a run's: WRITE to call, MANAGE_ACCESS to change who may read it. */
  @Put(':buildId')
  @Authorize('ACTOR_BUILD', 'WRITE', 'buildId')
  async update(@CurrentResource() resource: AuthorizedResource, @Body() body: unknown) {
    const changes = parseBody(updateBuildBody, body ?? {});
    requireManageAccessToChange(resource, changes);
    const build = await this.rpc.call(ActorsRpc.updateBuild, { id: resource.id, changes });
    if (changes.generalAccess !== undefined) await this.access.refreshed('resource', resource.id);
    return { data: presentBuild(build, true) };
  }

  @Post(':buildId/abort')
  @Authorize('ACTOR_BUILD', 'WRITE', 'buildId')
  @HttpCode(200)
  async abort(@CurrentResource() resource: AuthorizedResource) {
    return { data: presentBuild(await this.rpc.call(ActorsRpc.abortBuild, { id: resource.id }), true) };
  }

  @Delete(':buildId')
  @Authorize('ACTOR_BUILD', 'WRITE', 'buildId')
  @HttpCode(204)
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(ActorsRpc.deleteBuild, { id: resource.id });
    await this.access.refreshed('resource', resource.id);
  }
}
