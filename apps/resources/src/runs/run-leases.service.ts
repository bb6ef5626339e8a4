import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import {
  AppError,
  ClaimedRunView,
  Events,
  RpcPayload,
  RUN_LOG_APPEND_MAX_BYTES,
  RUN_LOG_MAX_BYTES,
  RUN_MAX_ATTEMPTS,
  RunLeasesRpc,
  RunView,
  TERMINAL_RUN_STATUSES,
} from '@atrium/contracts';
import { generateRunToken } from '@atrium/auth';
import { addToOutbox, PollingWorker, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { randomUUID } from 'node:crypto';
import { CatalogueService } from '../catalogue/catalogue.service';
import { RunEntity } from './run.entity';
import { RunsService } from './runs.service';
import { withLogLine } from './log-line';

/** What a lease's checks and its renewal read of a run. */
const LEASE_COLUMNS = {
  id: true,
  status: true,
  leaseId: true,
  leaseHolder: true,
  leaseHolderUserId: true,
  leaseExpiresAt: true,
} as const;

/** Tells the permissions service's audit log who took, finished or lost the run (run.lease-changed). */
function declareLease(
  manager: EntityManager,
  starterId: string,
  run: RunEntity,
  change: 'claimed' | 'finished' | 'lost',
  worker = run.leaseHolder ?? '',
): Promise<void> {
  return addToOutbox(manager, Events.runLeaseChanged, {
    runId: run.id,
    starterId,
    runnerUserId: run.leaseHolderUserId ?? '',
    worker,
    attempt: run.attempt,
    change,
    status: run.status,
  });
}

/** How often expired leases are looked for: a lost worker's run is retried within about a second. */
const SWEEP_INTERVAL_MS = 1000;
const SWEEP_BATCH = 20;
export const LOG_TRUNCATED_LINE = '[log truncated]';

/**
 * Runners' leases on runs (DESIGN.md: runs are executed outside Atrium, by the `atrium` CLI).
 * A claim takes the oldest READY run the caller may execute to RUNNING with a lease and a fresh
 * run token for it; the worker renews the lease while the run's process works and finishes the
 * run holding it. A lease not renewed in time (a worker killed, a machine gone) gives the run
 * back to READY once and fails it the second time; its token stops working when it expires, so
 * an orphaned process can no longer write (fencing).
 *
 * Every change locks the run's catalogue row as RunsService does (abort, PUT), so that a status
 * change and a lease change never overwrite each other; claims and the sweeper skip rows another
 * transaction holds (FOR UPDATE SKIP LOCKED): two workers never get the same run.
 */
@Injectable()
export class RunLeasesService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RunLeasesService.name);
  private readonly sweeper = new PollingWorker(
    () => this.sweep(),
    SWEEP_INTERVAL_MS,
    this.logger,
    'Run lease sweeper will retry',
  );

  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly runs: RunsService,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  onApplicationBootstrap(): void {
    this.sweeper.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.sweeper.stop();
  }

  async claim(req: RpcPayload<typeof RunLeasesRpc.claim>): Promise<ClaimedRunView | null> {
    if (!req.anyRunOf.length && !req.ownRunsOf.length) return null;
    const claimed = await this.dataSource.transaction(async (manager) => {
      const params: unknown[] = [req.anyRunOf, req.ownRunsOf, req.userId];
      if (req.runId) params.push(req.runId);
      const rows = (await manager.query(
        `SELECT r.id FROM resources.actor_run r JOIN resources.resource c ON c.id = r.id
          WHERE r.status = 'READY'
            AND (r.actor_id = ANY($1) OR (r.actor_id = ANY($2) AND c.owner_id = $3))
            ${req.runId ? 'AND r.id = $4' : ''}
          ORDER BY r.started_at, r.id LIMIT 1
          FOR UPDATE OF r, c SKIP LOCKED`,
        params,
      )) as { id: string }[];
      if (!rows.length) return null;
      const row = await this.catalogue.loadRow(manager, 'ACTOR_RUN', RunEntity, rows[0].id);
      const { state: run } = row;
      const token = generateRunToken(run.id);
      run.attempt += 1;
      run.leaseId = randomUUID();
      run.leaseHolder = req.worker;
      run.leaseHolderUserId = req.userId;
      run.leaseExpiresAt = new Date(Date.now() + req.leaseSecs * 1000);
      run.leaseTokenHash = token.secretHash;
      run.log = withLogLine(
        run.log,
        `Run taken by worker ${req.worker} (attempt ${run.attempt} of ${RUN_MAX_ATTEMPTS})`,
      );
      await this.runs.moveTo(manager, { resource: row.resource, run }, 'RUNNING');
      await manager.save(run);
      await declareLease(manager, row.resource.ownerId, run, 'claimed');
      return {
        run: (await this.runs.viewIn(manager, run.id)) as RunView,
        runToken: token.token,
        lease: { id: run.leaseId, expiresAt: run.leaseExpiresAt.toISOString(), attempt: run.attempt },
      };
    });
    this.outbox.kick();
    return claimed;
  }

  /** The run, locked, when `leaseId` is the caller's lease on it (a finished run answers its status). */
  private async leased(
    manager: EntityManager,
    { runId, userId, leaseId }: { runId: string; userId: string; leaseId: string },
    { withLog }: { withLog: boolean },
  ) {
    const resource = await this.catalogue.load(manager, 'ACTOR_RUN', runId, true);
    // A renewal (every few seconds a run) reads no log: with a runner's output it may be 10 MiB.
    const run = await manager.findOneOrFail(RunEntity, {
      where: { id: runId },
      ...(withLog ? {} : { select: LEASE_COLUMNS }),
    });
    const row = { resource, state: run };
    // Someone else's lease (or none of the caller's ever) is no business of theirs: not found.
    if (run.leaseHolderUserId !== userId) throw AppError.notFound('A lease of yours on the run');
    if (run.leaseId !== leaseId)
      throw new AppError(
        'lease-lost',
        `The lease was lost: ${run.leaseId ? `the run is leased to worker ${run.leaseHolder} now` : `the run is ${run.status} again`}`,
      );
    const finished = TERMINAL_RUN_STATUSES.includes(run.status);
    if (!finished && (run.status !== 'RUNNING' || !run.leaseExpiresAt || run.leaseExpiresAt <= new Date()))
      throw new AppError('lease-lost', 'The lease expired: the run may be executed by another worker now');
    return { row, finished };
  }

  /**
   * Extends the lease (or, `release`, ends it now: the sweeper gives the run back at once and its
   * token stops working); a run aborted meanwhile answers ABORTED (the worker then stops its process).
   */
  async renew(
    req: RpcPayload<typeof RunLeasesRpc.renew>,
  ): Promise<{ status: RunView['status']; expiresAt: string }> {
    return this.dataSource.transaction(async (manager) => {
      const { row, finished } = await this.leased(manager, req, { withLog: false });
      const { state: run } = row;
      if (!finished) {
        run.leaseExpiresAt = new Date(Date.now() + (req.release ? 0 : req.leaseSecs * 1000));
        await manager.update(RunEntity, { id: run.id }, { leaseExpiresAt: run.leaseExpiresAt });
      }
      return { status: run.status, expiresAt: (run.leaseExpiresAt ?? new Date()).toISOString() };
    });
  }

  /** A terminal status, only while holding the lease; a run already finished (aborted) stays as it is. */
  async finish(req: RpcPayload<typeof RunLeasesRpc.finish>): Promise<RunView> {
    const view = await this.dataSource.transaction(async (manager) => {
      const { row, finished } = await this.leased(manager, req, { withLog: true });
      const { state: run } = row;
      if (!finished) {
        const code = req.exitCode === undefined ? '' : ` (exit code ${req.exitCode})`;
        run.log = withLogLine(run.log, `Worker ${run.leaseHolder} finished the run: ${req.status}${code}`);
        if (req.statusMessage !== undefined) {
          run.statusMessage = req.statusMessage;
          run.isStatusMessageTerminal = true;
        }
        await this.runs.moveTo(manager, { resource: row.resource, run }, req.status);
        run.leaseTokenHash = null;
        await manager.save(run);
        await declareLease(manager, row.resource.ownerId, run, 'finished');
      }
      return (await this.runs.viewIn(manager, run.id)) as RunView;
    });
    this.outbox.kick();
    return view;
  }

  /**
   * Appends a runner's output to the run's log, up to RUN_LOG_MAX_BYTES in all; past it, one
   * "[log truncated]" line and nothing more. The text is appended in the database: a 10 MiB log
   * is not read to add a line to it.
   */
  async appendLog({
    runId,
    text,
  }: RpcPayload<typeof RunLeasesRpc.appendLog>): Promise<{ length: number; truncated: boolean }> {
    return this.dataSource.transaction(async (manager) => {
      await this.catalogue.load(manager, 'ACTOR_RUN', runId, true);
      const [current] = (await manager.query(
        // Only a log longer than the cap less one append can have been truncated: shorter ones are not searched.
        `SELECT status, octet_length(log) AS bytes,
                CASE WHEN octet_length(log) > $3 THEN strpos(log, $2) > 0 ELSE false END AS truncated
           FROM resources.actor_run WHERE id = $1`,
        [runId, LOG_TRUNCATED_LINE, RUN_LOG_MAX_BYTES - RUN_LOG_APPEND_MAX_BYTES],
      )) as { status: RunView['status']; bytes: number; truncated: boolean }[];
      if (!current) throw AppError.notFound('The run');
      if (TERMINAL_RUN_STATUSES.includes(current.status))
        throw new AppError('conflict', `The run has already finished (${current.status}): its log is closed`);
      // Once truncated, a log takes nothing more (not even what would fit in what is left).
      const fits = !current.truncated && Number(current.bytes) + Buffer.byteLength(text) <= RUN_LOG_MAX_BYTES;
      let append = text;
      if (!fits) append = current.truncated ? '' : withLogLine('\n', LOG_TRUNCATED_LINE);
      if (append)
        await manager.query(`UPDATE resources.actor_run SET log = log || $2 WHERE id = $1`, [runId, append]);
      return { length: Number(current.bytes) + Buffer.byteLength(append), truncated: !fits };
    });
  }

  /** Runs whose worker stopped renewing its lease: READY again the first time, FAILED the second. */
  private async sweep(): Promise<void> {
    if (!this.dataSource.isInitialized) return;
    for (;;) {
      const swept = await this.dataSource.transaction(async (manager) => {
        const rows = (await manager.query(
          `SELECT r.id FROM resources.actor_run r JOIN resources.resource c ON c.id = r.id
            WHERE r.status = 'RUNNING' AND r.lease_id IS NOT NULL AND r.lease_expires_at < $1
            ORDER BY r.lease_expires_at LIMIT ${SWEEP_BATCH}
            FOR UPDATE OF r, c SKIP LOCKED`,
          [new Date()],
        )) as { id: string }[];
        for (const { id } of rows) await this.expire(manager, id);
        return rows.length;
      });
      if (swept) this.outbox.kick();
      if (swept < SWEEP_BATCH || this.sweeper.isStopped) return;
    }
  }

  private async expire(manager: EntityManager, id: string): Promise<void> {
    const row = await this.catalogue.loadRow(manager, 'ACTOR_RUN', RunEntity, id);
    const { state: run } = row;
    const lost = `Worker ${run.leaseHolder} stopped renewing its lease (attempt ${run.attempt} of ${RUN_MAX_ATTEMPTS})`;
    const fields = { leaseId: null, leaseHolder: null, leaseExpiresAt: null, leaseTokenHash: null };
    const worker = run.leaseHolder ?? '';
    if (run.attempt < RUN_MAX_ATTEMPTS) {
      run.log = withLogLine(run.log, `${lost}: the run is READY again for another worker`);
      Object.assign(run, fields, { status: 'READY' });
      await manager.save(run);
      await declareLease(manager, row.resource.ownerId, run, 'lost', worker);
      return;
    }
    run.log = withLogLine(run.log, `${lost}: the run fails`);
    run.statusMessage = `The run's worker was lost ${RUN_MAX_ATTEMPTS} times (last: worker ${run.leaseHolder} stopped renewing its lease)`;
    run.isStatusMessageTerminal = true;
    await this.runs.moveTo(manager, { resource: row.resource, run }, 'FAILED');
    Object.assign(run, { leaseTokenHash: null, leaseExpiresAt: null });
    await manager.save(run);
    await declareLease(manager, row.resource.ownerId, run, 'lost', worker);
  }
}
