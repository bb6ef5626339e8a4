import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Post,
  Put,
  Req,
  Res,
} from '@nestjs/common';
import {
  AppError,
  buildRefSchema,
  RunsRpc,
  ListPage,
  RunView,
  runOptionsSchema,
  STATUS_MESSAGE_LEVELS,
  runStatusFilter,
  TERMINAL_RUN_STATUSES,
  updateRunBody,
  isWritableTime,
  WRITABLE_TIME_MESSAGE,
} from '@atrium/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { RpcClient } from '@atrium/messaging';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AccessChanger, CurrentUser, principalRef, UserPrincipal } from '../auth/principal';
import {
  Authorize,
  AuthorizedResource,
  CurrentResource,
  Lister,
  ListingCaller,
  SignedIn,
} from '../authorization/authorize.decorator';
import { queryBoolean, queryInt } from '../http/api-query';
import {
  AccessChangeLog,
  AccessChanges,
  ChangesAccess,
  ChangesNoAccess,
} from '../authorization/access-changes';
import { AccessDecisions } from '../authorization/access-decisions';
import { requireManageAccessToChange, requireActorRunOf } from '../authorization/access-check';
import { decideEach, listByOwnership, ownershipListQuery } from '../http/ownership-listing';
import { runRoutes } from './run-references';
import { waitForFinish, waitForFinishParam } from '../http/wait-for-finish';
import { ClientGone } from '../http/request-done';
import { RunLogs } from './run-logs';
import { AnyBody, Fails, Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { listOf, rawBody, runView, startedRunView } from '../http/views';

const startQuery = z.object({
  timeout: queryInt(0, 7 * 24 * 3600).optional(),
  memory: queryInt(128, 65536).optional(),
  build: buildRefSchema.optional(),
  waitForFinish: waitForFinishParam,
});
/**
 * `startedAfter` / `startedBefore`: apify-client sends a Date as its ISO string. ISO 8601 only
 * (`Date` alone also reads `2026`, `Jan 15 2026` or `1/2/2026`, the last as the server's local
 * time); a day alone, or a time without an offset, is UTC. Both bounds are inclusive (as Apify
 * documents them) and start times are whole milliseconds, so a bound finer than that rounds
 * inward: `startedAfter` up, `startedBefore` down.
 */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?$/;
const ISO_MESSAGE = 'must be an ISO 8601 date or date and time, e.g. 2026-01-15T08:00:00Z';
function queryTime(round: 'up' | 'down') {
  return z
    .string()
    .max(40)
    .superRefine((v, ctx) => {
      const time = utcDate(v).getTime();
      const problem = !ISO_TIME.test(v)
        ? ISO_MESSAGE
        : !isCalendarDate(v)
          ? 'names a day that does not exist'
          : Number.isNaN(time) // an hour 25, a minute 60, an offset +24:00
            ? ISO_MESSAGE
            : !isWritableTime(time)
              ? WRITABLE_TIME_MESSAGE
              : undefined;
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    })
    .transform((v) => {
      const time = utcDate(v).getTime();
      const finer = /[1-9]/.test(/\.\d{3}(\d*)/.exec(v)?.[1] ?? '');
      return new Date(round === 'up' && finer && isWritableTime(time + 1) ? time + 1 : time).toISOString();
    })
    .openapi({
      description: 'ISO 8601 date, or date and time (UTC unless it gives an offset); inclusive',
      example: '2026-01-15T08:00:00Z',
    });
}

/** An ISO 8601 date or date and time, UTC unless it names its offset. */
function utcDate(v: string): Date {
  return new Date(/T[^Z+-]*$/.test(v) ? `${v}Z` : v);
}

/** Whether a leading `YYYY-MM-DD` names a day that exists (`Date` reads 2026-02-30 as March 2). */
function isCalendarDate(v: string): boolean {
  const ymd = /^(\d{4})-(\d{2})-(\d{2})/.exec(v);
  if (!ymd) return false;
  const [y, m, d] = ymd.slice(1).map(Number);
  const day = new Date(Date.UTC(2000, m - 1, d));
  day.setUTCFullYear(y);
  return day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
}
const listQuery = z.object({
  ...ownershipListQuery,
  status: runStatusFilter,
  startedAfter: queryTime('up').optional(),
  startedBefore: queryTime('down').optional(),
});
/** `resurrect({ build, memory, timeout })`, sent as query parameters. */
const resurrectQuery = startQuery.omit({ waitForFinish: true });
const logQuery = z.object({
  stream: queryBoolean.optional(),
  raw: queryBoolean.optional(),
  download: queryBoolean.optional(),
});
/**
 * PUT's body: the run's changes, and what Apify's clients send with them: `runId` (in Apify's
 * documented body; it must name this run) and `level` (apify-client's `setStatusMessage()`, the
 * level the SDK has already logged the message at; the run keeps the message, not its level).
 */
const updateRunRequest = updateRunBody
  .extend({ runId: z.string().optional(), level: z.enum(STATUS_MESSAGE_LEVELS).optional() })
  .strict();
const waitQuery = z.object({ waitForFinish: waitForFinishParam });

/** The request body becomes the run's INPUT record, with its content type. */
function toInput(
  body: unknown,
  contentType: string | undefined,
): { contentType: string; base64: string } | null {
  if (body === undefined || body === null || (Buffer.isBuffer(body) && body.length === 0)) return null;
  if (Buffer.isBuffer(body))
    return { contentType: contentType ?? 'application/octet-stream', base64: body.toString('base64') };
  return {
    contentType: 'application/json; charset=utf-8',
    base64: Buffer.from(JSON.stringify(body)).toString('base64'),
  };
}

/** Runs: started from an Actor or a task, each with its own default storages, as in Apify API v2. */
@Controller('v2')
export class RunsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
    private readonly logs: RunLogs,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  private present(run: RunView) {
    return { ...run, consoleUrl: `${this.config.PUBLIC_BASE_URL}/actors/runs/${run.id}` };
  }

  /** The caller's runs, each as its own GET would answer it (a scoped token: only what its scope reaches). */
  private async decided(user: UserPrincipal, runs: ListPage<RunView>) {
    const items = await decideEach(this.access, principalRef(user), 'ACTOR_RUN', runs.items, user.userId);
    return { ...runs, count: items.length, items: items.map((r) => this.present(r.view)) };
  }

  /** Apify's run-list filters: `status` (one or several), `startedAfter`, `startedBefore`. */
  private filters(q: z.output<typeof listQuery>) {
    return { status: q.status, startedAfter: q.startedAfter, startedBefore: q.startedBefore };
  }

  private page(q: z.output<typeof listQuery>) {
    return { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 1000, 1000), desc: q.desc ?? false };
  }

  private async start(
    user: UserPrincipal,
    actorId: string,
    taskId: string | null,
    q: z.output<typeof startQuery>,
    body: unknown,
    contentType: string | undefined,
    gone: AbortSignal,
  ) {
    const options = runOptionsSchema.parse({
      build: q.build,
      timeoutSecs: q.timeout,
      memoryMbytes: q.memory,
    });
    const started = await this.rpc.call(RunsRpc.start, {
      actorId,
      taskId,
      userId: user.userId,
      input: toInput(body, contentType),
      options,
    });
    const run = q.waitForFinish
      ? { ...started, ...(await this.waitForFinish(started.id, q.waitForFinish, gone)) }
      : started;
    return { data: this.present(run) };
  }

  private waitForFinish(id: string, seconds: number, gone: AbortSignal): Promise<RunView> {
    return waitForFinish(() => this.rpc.call(RunsRpc.get, { id }), TERMINAL_RUN_STATUSES, seconds, gone);
  }

  // apify-client addresses Actors as /v2/actors; API.md as /v2/acts: both are served.
  @Post(['acts/:actorId/runs', 'actors/:actorId/runs'])
  @ChangesNoAccess()
  @Authorize('ACTOR', 'RUN', 'actorId')
  @HttpCode(201)
  @AnyBody()
  @Returns(startedRunView, { errors: [402] })
  startActor(
    @CurrentResource() actor: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(startQuery) query: z.output<typeof startQuery>,
    @Body() body: unknown,
    @ClientGone() gone: AbortSignal,
    @Headers('content-type') contentType?: string,
  ) {
    return this.start(user, actor.id, null, query, body, contentType, gone);
  }

  /** Running a task needs READ on the task and RUN on its Actor. */
  @Post('actor-tasks/:actorTaskId/runs')
  @ChangesNoAccess()
  @Authorize('ACTOR_TASK', 'READ', 'actorTaskId')
  @HttpCode(201)
  @AnyBody()
  @Returns(startedRunView, { errors: [402] })
  async startTask(
    @CurrentResource() task: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(startQuery) query: z.output<typeof startQuery>,
    @Body() body: unknown,
    @ClientGone() gone: AbortSignal,
    @Headers('content-type') contentType?: string,
  ) {
    const actorId = await requireActorRunOf(this.access, this.rpc, user, task.id, 'the task');
    return this.start(user, actorId, task.id, query, body, contentType, gone);
  }

  @Get(['acts/:actorId/runs', 'actors/:actorId/runs'])
  @Authorize('ACTOR', 'READ', 'actorId')
  @Returns(listOf(runView))
  async listActorRuns(
    @CurrentResource() actor: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(listQuery) q: z.output<typeof listQuery>,
  ) {
    // A run token sees its own run, not the starter's other runs of the Actor.
    if (user.credential === 'run-token')
      throw new AppError('insufficient-permissions', 'A run token cannot list runs');
    const runs = await this.rpc.call(RunsRpc.list, {
      userId: user.userId,
      actorId: actor.id,
      ...this.filters(q),
      page: this.page(q),
    });
    return { data: await this.decided(user, runs) };
  }

  @Get('actor-tasks/:actorTaskId/runs')
  @Authorize('ACTOR_TASK', 'READ', 'actorTaskId')
  @Returns(listOf(runView))
  async listTaskRuns(
    @CurrentResource() task: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(listQuery) q: z.output<typeof listQuery>,
  ) {
    const runs = await this.rpc.call(RunsRpc.list, {
      userId: user.userId,
      taskId: task.id,
      ...this.filters(q),
      page: this.page(q),
    });
    return { data: await this.decided(user, runs) };
  }

  @Get('actor-runs')
  @SignedIn()
  @Returns(listOf(runView))
  async list(@Lister() lister: ListingCaller, @ValidQuery(listQuery) q: z.output<typeof listQuery>) {
    const runs = await listByOwnership(this.rpc, this.access, lister, 'ACTOR_RUN', q, (req) =>
      this.rpc.call(
        RunsRpc.list,
        req.ownerId
          ? { userId: req.ownerId, ...this.filters(q), page: req.page }
          : { ids: req.ids, ...this.filters(q), page: req.page },
      ),
    );
    return { data: { ...runs, items: runs.items.map((r) => this.present(r.view)) } };
  }

  /**
   * A run by id, or the caller's last run of an Actor or task (apify-client's `lastRun()`,
   * optionally of a `status`): see run-references.ts. So are the routes below.
   */
  @Get(runRoutes())
  @Authorize('ACTOR_RUN', 'READ', 'runId')
  @Returns(runView)
  async get(
    @CurrentResource() run: AuthorizedResource,
    @ValidQuery(waitQuery) query: z.output<typeof waitQuery>,
    @ClientGone() gone: AbortSignal,
  ) {
    const { waitForFinish } = query;
    const found = waitForFinish
      ? await this.waitForFinish(run.id, waitForFinish, gone)
      : await this.rpc.call(RunsRpc.get, { id: run.id });
    return { data: this.present(found) };
  }

  @Put(runRoutes())
  @ChangesAccess('resource', { ifBody: ['generalAccess'] })
  @Authorize('ACTOR_RUN', 'WRITE', 'runId')
  @Returns(runView)
  async update(
    @CurrentResource() run: AuthorizedResource,
    @ValidBody(updateRunRequest) body: z.output<typeof updateRunRequest>,
    @AccessChanger() changedBy: string | undefined,
  ) {
    const { runId, level: _level, ...changes } = body;
    if (runId !== undefined && runId !== run.id)
      throw new AppError('invalid-input', 'Field "body.runId" must be the id of the run in the path');
    await requireManageAccessToChange(this.rpc, changedBy, run, changes);
    const updated = await this.rpc.call(RunsRpc.update, { id: run.id, changes, changedBy });
    return { data: this.present(updated) };
  }

  @Post(runRoutes('/abort'))
  @ChangesNoAccess()
  @Authorize('ACTOR_RUN', 'WRITE', 'runId')
  @HttpCode(200)
  @Returns(runView)
  async abort(@CurrentResource() run: AuthorizedResource) {
    return { data: this.present(await this.rpc.call(RunsRpc.abort, { id: run.id })) };
  }

  /**
   * Deletes a finished run (WRITE on it: its starter, or whom they let), with its default storages
   * that are still unnamed, as Apify does; a default storage the user named is kept.
   */
  @Delete('actor-runs/:runId')
  @ChangesAccess('resource')
  @Authorize('ACTOR_RUN', 'WRITE', 'runId')
  @HttpCode(204)
  @ReturnsNothing()
  async delete(
    @CurrentResource() run: AuthorizedResource,
    @AccessChanges() accessChanges: AccessChangeLog,
  ): Promise<void> {
    const { deletedStorageIds } = await this.rpc.call(RunsRpc.delete, { id: run.id });
    accessChanges.resource(...deletedStorageIds);
  }

  /** Apify's resurrect: a finished run RUNNING again with the same storages (its token works again). */
  @Post(runRoutes('/resurrect'))
  @ChangesNoAccess()
  @Authorize('ACTOR_RUN', 'WRITE', 'runId')
  @HttpCode(200)
  @Returns(runView, { errors: [402] })
  async resurrect(
    @CurrentResource() run: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @ValidQuery(resurrectQuery) q: z.output<typeof resurrectQuery>,
  ) {
    // Running it again is starting its Actor again (found by the outside attack pass: a run of an
    // Actor made private since was brought back, and its token with it).
    await requireActorRunOf(this.access, this.rpc, user, run.id, 'the run');
    const options = runOptionsSchema.parse({
      build: q.build,
      timeoutSecs: q.timeout,
      memoryMbytes: q.memory,
    });
    return { data: this.present(await this.rpc.call(RunsRpc.resurrect, { id: run.id, options })) };
  }

  /** Reboot and metamorph restart or replace a run's container: Atrium runs none (runners do, outside it). */
  @Post([...runRoutes('/reboot'), ...runRoutes('/metamorph')])
  @ChangesNoAccess()
  @Authorize('ACTOR_RUN', 'WRITE', 'runId')
  @Fails(405)
  notExecuted(@Req() request: FastifyRequest): never {
    const action = request.url.split('?')[0].endsWith('/reboot') ? 'rebooted' : 'metamorphed';
    throw new AppError(
      'method-not-allowed',
      `A run cannot be ${action} on Atrium: Atrium executes no containers (runs are executed by runners outside it, which report their status)`,
    );
  }

  /** Pay-per-event charging: no Actor on Atrium has pay-per-event pricing (Atrium charges nothing). */
  @Post('actor-runs/:runId/charge')
  @ChangesNoAccess()
  @Authorize('ACTOR_RUN', 'WRITE', 'runId')
  @Fails(400)
  charge(): never {
    throw new AppError(
      'invalid-input',
      'Field "body.eventName" is invalid: the Actor has no pay-per-event pricing (Atrium prices and charges nothing)',
    );
  }

  @Get([...runRoutes('/log'), 'logs/:runId'])
  @Authorize('ACTOR_RUN', 'READ', 'runId')
  @Returns(rawBody, { envelope: false, contentType: 'text/plain' })
  async log(
    @CurrentResource() run: AuthorizedResource,
    @ValidQuery(logQuery) q: z.output<typeof logQuery>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    void reply.header('content-type', 'text/plain; charset=utf-8');
    if (q.download) void reply.header('content-disposition', `attachment; filename="${run.id}.log"`);
    if (q.stream) return this.logs.stream(run.id, { raw: q.raw ?? false });
    const { log } = await this.rpc.call(RunsRpc.getLog, { id: run.id });
    return q.raw ? log : this.logs.clean(log);
  }
}
