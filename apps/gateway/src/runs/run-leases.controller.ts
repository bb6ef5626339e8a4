import { Body, Controller, HttpCode, Inject, Param, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  AppError,
  LEASE_FINISH_STATUSES,
  LEASE_SECS,
  leaseSecsSchema,
  ID_PATTERN,
  idSchema,
  ResourcesRpc,
  RUN_LOG_APPEND_MAX_BYTES,
  RunLeasesRpc,
  RunView,
  workerNameSchema,
} from '@atrium/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, principalRef, UserPrincipal } from '../auth/principal';
import { ChangesNoAccess } from '../authorization/access-changes';
import { AccessDecisions } from '../authorization/access-decisions';
import {
  AnyCredential,
  Authorize,
  AuthorizedResource,
  CurrentResource,
} from '../authorization/authorize.decorator';
import { AnyBody, Returns, ReturnsNothing, ValidBody } from '../http/validated';
import { runView } from '../http/views';
import { named } from '../http/zod-openapi';

/** How often a long-polling claim asks again while there is no run to take. */
const CLAIM_POLL_MS = 500;
/**
 * Long polls one account may hold open on one gateway replica: a fleet of workers fits; thousands
 * of waiting claims, each asking the resources service twice a second, do not (found by the outside
 * attack pass: 6,000 open claims of one user slowed everyone's requests to seconds and 503s).
 */
const MAX_WAITING_CLAIMS = 32;
const actorRef = z.string().min(1).max(200);

const claimBody = z
  .object({
    actorIds: z.array(actorRef).min(1).max(50).optional(),
    runId: idSchema.optional(),
    worker: workerNameSchema,
    leaseSecs: leaseSecsSchema.default(LEASE_SECS.default),
    waitSecs: z.number().int().min(0).max(30).default(0),
  })
  .strict()
  .refine((b) => (b.actorIds === undefined) !== (b.runId === undefined), {
    message: 'give exactly one of "actorIds" or "runId"',
    path: ['actorIds'],
  });
const renewBody = z
  .object({ leaseId: z.string().uuid(), leaseSecs: leaseSecsSchema.default(LEASE_SECS.default) })
  .strict();
const finishBody = z
  .object({
    leaseId: z.string().uuid(),
    status: z.enum(LEASE_FINISH_STATUSES),
    statusMessage: z.string().max(1000).optional(),
    exitCode: z.number().int().min(-1000).max(1000).optional(),
  })
  .strict();

const leaseView = named('RunLease', z.object({ id: z.string(), expiresAt: z.string(), attempt: z.number() }));
const claimedRunView = named(
  'ClaimedRun',
  z
    .object({ run: runView.extend({ consoleUrl: z.string() }), runToken: z.string(), lease: leaseView })
    .nullable(),
);
const renewedLeaseView = named('RenewedLease', z.object({ status: z.string(), expiresAt: z.string() }));

/**
 * Runners act with an API token or a session; a token scoped to the Actors it runs (RUN, or WRITE
 * to take anyone's runs) is enough, each decision narrowed by its scope. A run token executes its
 * own run only: it takes and holds no leases.
 */
function requireRunnerCredential(user: UserPrincipal): void {
  if (user.credential === 'run-token')
    throw new AppError('insufficient-permissions', 'A run token cannot claim or hold runs: use an API token');
}

/** A path that names no run names no lease of the caller's. */
function requireRunId(runId: string): void {
  if (!ID_PATTERN.test(runId)) throw AppError.notFound('A lease of yours on the run');
}

/**
 * Runners (Atrium's extension of Apify's API): the `atrium` CLI on a user's machine claims READY
 * runs, executes them with the lease's run token, renews the lease, appends to the log and
 * finishes them (DESIGN.md: runs are executed by runners outside Atrium). Whoever may change an
 * Actor (WRITE) may execute any of its runs — they could make its code do anything with the
 * runs' tokens anyway; whoever may only RUN it executes their own runs of it.
 */
@Controller('v2')
export class RunLeasesController {
  /** Open long polls per account on this replica. */
  private readonly waiting = new Map<string, number>();

  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** As RunsController answers a run: with its console page. */
  private present(run: RunView) {
    return { ...run, consoleUrl: `${this.config.PUBLIC_BASE_URL}/actors/runs/${run.id}` };
  }

  /** Which Actors' runs the caller may take: any run (WRITE on the Actor), or its own (RUN). */
  private async executable(user: UserPrincipal, refs: string[]) {
    const anyRunOf: string[] = [];
    const ownRunsOf: string[] = [];
    const decisions = await Promise.all(
      refs.map((ref) => this.access.check(principalRef(user), 'ACTOR', ref.replace('/', '~'), 'RUN')),
    );
    decisions.forEach((decision, i) => {
      const field = `body.actorIds[${i}]`;
      if (!decision.canRead || !decision.resourceId)
        throw AppError.notFound(`The Actor "${refs[i]}" (${field})`);
      if (decision.permissions.includes('WRITE')) anyRunOf.push(decision.resourceId);
      else if (decision.allowed) ownRunsOf.push(decision.resourceId);
      else
        throw new AppError(
          'insufficient-permissions',
          `You need RUN permission on the Actor "${refs[i]}" (${field})`,
        );
    });
    return { anyRunOf, ownRunsOf };
  }

  /** The one run `runId`: the caller's own run of an Actor it may RUN, or any run of an Actor it may WRITE. */
  private async executableRun(user: UserPrincipal, runId: string) {
    const run = await this.access.check(principalRef(user), 'ACTOR_RUN', runId, 'READ');
    const facts =
      run.canRead && run.resourceId
        ? await this.rpc.call(ResourcesRpc.getResourceFacts, { id: run.resourceId })
        : null;
    if (!facts?.actorId) throw AppError.notFound(`The run "${runId}" (body.runId)`);
    const actor = await this.access.check(principalRef(user), 'ACTOR', facts.actorId, 'RUN');
    if (actor.permissions.includes('WRITE'))
      return { runId: facts.id, anyRunOf: [facts.actorId], ownRunsOf: [] };
    if (actor.allowed && facts.ownerId === user.userId)
      return { runId: facts.id, anyRunOf: [], ownRunsOf: [facts.actorId] };
    throw new AppError(
      'insufficient-permissions',
      'You may execute only your own runs of an Actor you may run, or any run of an Actor you may change (WRITE)',
    );
  }

  /**
   * Whether the holder of a lease on the run may still execute it (as `executableRun` decides, on
   * the run's Actor): a revocation applies to its next renewal or finish. When it may not, its
   * lease ends now (the run is READY again for a worker that may, and its token stops working)
   * and the call is refused; someone else's lease stays as it is (404, as before).
   */
  private async requireStillExecutes(user: UserPrincipal, runId: string, leaseId: string): Promise<void> {
    const facts = await this.rpc.call(ResourcesRpc.getResourceFacts, { id: runId });
    if (!facts?.actorId) return;
    const actor = await this.access.check(principalRef(user), 'ACTOR', facts.actorId, 'RUN');
    if (actor.permissions.includes('WRITE') || (actor.allowed && facts.ownerId === user.userId)) return;
    await this.rpc.call(RunLeasesRpc.renew, {
      runId,
      userId: user.userId,
      leaseId,
      leaseSecs: LEASE_SECS.min,
      release: true,
    });
    throw new AppError(
      'insufficient-permissions',
      'You may no longer execute this run (no RUN or WRITE on its Actor): your lease on it has ended',
    );
  }

  /**
   * Takes the oldest READY run the caller may execute (or the one named) to RUNNING, with a lease
   * and the lease's own run token; `{ data: null }` when none came within `waitSecs`.
   */
  @Post('actor-runs/claim')
  @ChangesNoAccess()
  @AnyCredential()
  @HttpCode(200)
  @Returns(claimedRunView)
  async claim(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(claimBody) body: z.output<typeof claimBody>,
    @Req() request: FastifyRequest,
  ) {
    requireRunnerCredential(user);
    const lists = body.runId
      ? await this.executableRun(user, body.runId)
      : await this.executable(user, body.actorIds ?? []);
    if (body.waitSecs === 0 || body.runId) return this.claimNow(user, body, lists, request, 0);
    const open = this.waiting.get(user.userId) ?? 0;
    if (open >= MAX_WAITING_CLAIMS)
      throw new AppError(
        'rate-limit-exceeded',
        `At most ${MAX_WAITING_CLAIMS} claims of one account may wait at once (body.waitSecs): wait for one to end, or claim with waitSecs 0`,
      );
    this.waiting.set(user.userId, open + 1);
    try {
      return await this.claimNow(user, body, lists, request, body.waitSecs);
    } finally {
      const left = (this.waiting.get(user.userId) ?? 1) - 1;
      if (left > 0) this.waiting.set(user.userId, left);
      else this.waiting.delete(user.userId);
    }
  }

  /** Claims a run, asking again every CLAIM_POLL_MS for `waitSecs` while there is none. */
  private async claimNow(
    user: UserPrincipal,
    body: z.output<typeof claimBody>,
    lists: { runId?: string; anyRunOf: string[]; ownRunsOf: string[] },
    request: FastifyRequest,
    waitSecs: number,
  ) {
    const deadline = Date.now() + waitSecs * 1000;
    for (;;) {
      // A worker that stopped waiting (Ctrl+C) would never hear of a run claimed for it now.
      if (request.raw.socket?.destroyed) return { data: null };
      const claimed = await this.rpc.call(RunLeasesRpc.claim, {
        userId: user.userId,
        worker: body.worker,
        leaseSecs: body.leaseSecs,
        ...lists,
      });
      if (claimed) return { data: { ...claimed, run: this.present(claimed.run) } };
      const left = deadline - Date.now();
      if (body.runId || left <= 0) return { data: null };
      await new Promise((resolve) => setTimeout(resolve, Math.min(CLAIM_POLL_MS, left)));
    }
  }

  /** Extends the caller's lease; `status` tells the worker when the run was aborted meanwhile. */
  @Post('actor-runs/:runId/lease')
  @ChangesNoAccess()
  @AnyCredential()
  @HttpCode(200)
  @Returns(renewedLeaseView, { errors: [404, 409] })
  async renew(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(renewBody) body: z.output<typeof renewBody>,
    @Param('runId') runId: string,
  ) {
    requireRunnerCredential(user);
    requireRunId(runId);
    await this.requireStillExecutes(user, runId, body.leaseId);
    return { data: await this.rpc.call(RunLeasesRpc.renew, { runId, userId: user.userId, ...body }) };
  }

  /** Ends the run with its process's outcome, while the caller's lease holds (fencing). */
  @Post('actor-runs/:runId/finish')
  @ChangesNoAccess()
  @AnyCredential()
  @HttpCode(200)
  @Returns(runView, { errors: [404, 409] })
  async finish(
    @CurrentUser() user: UserPrincipal,
    @ValidBody(finishBody) body: z.output<typeof finishBody>,
    @Param('runId') runId: string,
  ) {
    requireRunnerCredential(user);
    requireRunId(runId);
    await this.requireStillExecutes(user, runId, body.leaseId);
    const run = await this.rpc.call(RunLeasesRpc.finish, { runId, userId: user.userId, ...body });
    return { data: this.present(run) };
  }

  /** Appends text (text/plain, at most 1 MiB a request) to a running run's log: WRITE on the run (its token). */
  @Post('actor-runs/:runId/log')
  @ChangesNoAccess()
  @Authorize('ACTOR_RUN', 'WRITE', 'runId')
  @HttpCode(204)
  @AnyBody()
  @ReturnsNothing()
  async appendLog(@CurrentResource() run: AuthorizedResource, @Body() body: unknown): Promise<void> {
    if (body === undefined || body === null) return;
    if (!Buffer.isBuffer(body))
      throw new AppError('invalid-input', 'The body must be the text to append, sent as text/plain');
    if (body.length > RUN_LOG_APPEND_MAX_BYTES)
      throw new AppError(
        'payload-too-large',
        `One append to a log may be at most ${RUN_LOG_APPEND_MAX_BYTES} bytes`,
      );
    if (body.length === 0) return;
    await this.rpc.call(RunLeasesRpc.appendLog, { runId: run.id, text: body.toString('utf8') });
  }
}
