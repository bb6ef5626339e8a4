import { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import {
  AccountFacts,
  MAX_FACTS_AGE_MS,
  MembershipFacts,
  Permission,
  ResourceFacts,
} from '@atrium/contracts';
import { PermissionsConfig } from '@atrium/config';
import { CHANGE_LOG_TABLE, changeVersionExpression } from '@atrium/persistence';
import { Client } from 'pg';
import { Counter, Gauge } from 'prom-client';
import { messagingMetrics } from '@atrium/messaging';
import { DataSource } from 'typeorm';
import { grantInForce } from '../grants/grants.service';
import { DecisionFactsRow, MEMBERSHIP_FACTS_JSON } from './decision-facts.query';

const SCHEMA = 'permissions';
const LOG = `"${SCHEMA}"."${CHANGE_LOG_TABLE}"`;
const VERSION = changeVersionExpression(SCHEMA);

/** Checks by where their facts came from (`METRICS_PORT`'s `/metrics`; the embedded gateway's). */
export const checkFacts = new Counter({
  name: 'atrium_permissions_check_facts_total',
  help: 'Checks by id by where their facts came from: the copy in memory (FactsMirror) or the database',
  labelNames: ['source'],
  registers: [messagingMetrics],
});
/** The copies of this process (one; tests make more). */
const mirrors = new Set<FactsMirror>();
new Gauge({
  name: 'atrium_permissions_facts_rows',
  help: 'Rows of facts (grants, resources, accounts, memberships) kept in memory; 0 while none is',
  registers: [messagingMetrics],
  collect() {
    this.set([...mirrors].reduce((n, m) => n + m.rows, 0));
  },
});

/** Keys changed since the last poll beyond which the copy is loaded again (a bulk change) rather than patched. */
const MAX_CHANGES_PER_POLL = 10_000;
const LOAD_PAGE = 10_000;
/** The pause between polls while checks come (ms), and once none came for IDLE_AFTER_MS. */
const BUSY_POLL_MS = 4;
const IDLE_POLL_MS = 500;
const IDLE_AFTER_MS = 1000;
/**
 * Change-log rows are deleted once every snapshot taken RETENTION_MS ago saw their transaction;
 * a copy whose last poll is older than half that is loaded again instead of patched.
 */
const RETENTION_MS = 10 * 60_000;
const PRUNE_EVERY_MS = 30_000;
const RETRY_MS = 1000;
const TOO_LARGE_RETRY_MS = 10 * 60_000;

/**
 * Each table's rows as the copy reads them (load and poll alike): the key it keeps them by, and
 * each row's facts; loaded in pages by `page` (its primary key), or at once, a key's rows together.
 */
const ROWS = {
  resource_projection: {
    from: `"${SCHEMA}"."resource_projection" r`,
    key: 'r.id',
    page: 'r.id',
    row: `json_build_array(r.id, r.type, r.owner_id, r.name, r.general_access, r.is_public, r.actor_id, r.task_id, r.run_id, r.group_id, r.version, r.deleted)`,
  },
  account_projection: {
    from: `"${SCHEMA}"."account_projection" a`,
    key: 'a.id',
    page: 'a.id',
    row: `json_build_array(a.id, a.username, a.general_resource_access, a.share_runs_with_public_actor_creators, a.version)`,
  },
  membership_projection: {
    from: `"${SCHEMA}"."membership_projection" m`,
    key: `m.account_id || '|' || m.user_id`,
    // As DecisionFactsQuery reads them: the active ones.
    row: MEMBERSHIP_FACTS_JSON,
    where: 'm.active',
  },
  grant: {
    from: `"${SCHEMA}"."grant" g`,
    key: `g.resource_id || '|' || g.subject_id`,
    page: 'g.id',
    row: `json_build_array(g.permissions, floor(extract(epoch FROM g.expires_at) * 1000), floor(extract(epoch FROM g.not_before) * 1000))`,
  },
} as const;
type Table = keyof typeof ROWS;
type ResourceRow = [
  string,
  ResourceFacts['type'],
  string,
  string | null,
  ResourceFacts['generalAccess'],
  boolean,
  string | null,
  string | null,
  string | null,
  string | null,
  number,
  boolean,
];
type AccountRow = [string, string, AccountFacts['generalResourceAccess'], boolean, number];
type GrantRow = [Permission[], number | null, number | null];

/**
 * The grants, without an object each (a million of them would cost the collector more than the
 * lookups save): their key's slot in columns, the permissions as an index into the distinct sets.
 */
class GrantTable {
  private readonly slots = new Map<string, number>();
  private sets = new Uint16Array(1024);
  private expires = new Float64Array(1024);
  private notBefore = new Float64Array(1024);
  private readonly free: number[] = [];
  private readonly permissionSets: Permission[][] = [];
  private readonly setIndex = new Map<string, number>();

  get size(): number {
    return this.slots.size;
  }

  set(key: string, [permissions, expiresAt, notBefore]: GrantRow): void {
    let slot = this.slots.get(key) ?? this.free.pop();
    if (slot === undefined) {
      slot = this.slots.size;
      if (slot >= this.sets.length) this.grow();
    }
    this.slots.set(key, slot);
    const setKey = permissions.join(',');
    let set = this.setIndex.get(setKey);
    if (set === undefined) {
      set = this.permissionSets.push(permissions) - 1;
      this.setIndex.set(setKey, set);
    }
    this.sets[slot] = set;
    this.expires[slot] = expiresAt ?? NaN;
    this.notBefore[slot] = notBefore ?? NaN;
  }

  delete(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    this.free.push(slot);
  }

  get(key: string): { permissions: Permission[]; expiresAt: Date | null; notBefore: Date | null } | null {
    const slot = this.slots.get(key);
    if (slot === undefined) return null;
    const date = (ms: number) => (Number.isNaN(ms) ? null : new Date(ms));
    return {
      permissions: this.permissionSets[this.sets[slot]],
      expiresAt: date(this.expires[slot]),
      notBefore: date(this.notBefore[slot]),
    };
  }

  private grow(): void {
    const grown = <T extends Uint16Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    this.sets = grown(this.sets);
    this.expires = grown(this.expires);
    this.notBefore = grown(this.notBefore);
  }
}

/** One copy of the facts, as of one snapshot. */
class Facts {
  readonly resources = new Map<string, ResourceFacts | 'deleted'>();
  readonly accounts = new Map<string, AccountFacts>();
  /** Active memberships by `accountId|userId`. */
  readonly memberships = new Map<string, MembershipFacts[]>();
  readonly grants = new GrantTable();

  get rows(): number {
    return this.resources.size + this.accounts.size + this.memberships.size + this.grants.size;
  }

  /** Applies a key's rows now (none: it is gone). */
  apply(table: Table, key: string, rows: unknown[] | null): void {
    if (table === 'grant') return rows ? this.grants.set(key, rows[0] as GrantRow) : this.grants.delete(key);
    if (table === 'membership_projection') {
      if (rows) this.memberships.set(key, rows as MembershipFacts[]);
      else this.memberships.delete(key);
    } else if (table === 'account_projection') {
      if (!rows) return void this.accounts.delete(key);
      const [id, username, generalResourceAccess, share, version] = rows[0] as AccountRow;
      this.accounts.set(key, {
        id,
        username,
        generalResourceAccess,
        shareRunsWithPublicActorCreators: share,
        version,
      });
    } else {
      if (!rows) return void this.resources.delete(key);
      const [
        id,
        type,
        ownerId,
        name,
        generalAccess,
        isPublic,
        actorId,
        taskId,
        runId,
        groupId,
        version,
        deleted,
      ] = rows[0] as ResourceRow;
      this.resources.set(
        key,
        deleted
          ? 'deleted'
          : { id, type, ownerId, name, generalAccess, isPublic, actorId, taskId, runId, groupId, version },
      );
    }
  }
}

/** The copy loaded again from scratch: a bulk change, a truncation, a restore, or a pause longer than the log is kept. */
class Reload extends Error {}
/** More rows of facts than PERMISSIONS_FACTS_MAX_ROWS: no copy, tried again TOO_LARGE_RETRY_MS later. */
class TooLarge extends Error {}

/** A snapshot's xmin (`pg_snapshot` text is `xmin:xmax:xip,…`); a change version's epoch (`epoch:count`). */
const beforeColon = (text: string) => text.slice(0, text.indexOf(':'));

/**
 * The facts of the check path's common case (resources, their owners' accounts, active
 * memberships, grants) kept in memory, so that a check the gateway asks with `acceptFactsAge`
 * reads no database: the round trip to PostgreSQL was most of a cache miss's time (issue 18,
 * docs/SCALING.md).
 *
 * Exact, from the change log (`changeLogMigration`): loaded in one snapshot, then kept by polls
 * that each read, in one statement, the keys of the transactions that committed since the
 * previous poll's snapshot (invisible to it, visible to its own) with their rows now, and its own
 * snapshot — so transactions that commit out of their id's order are not missed. The log's rows are
 * deleted once every snapshot taken RETENTION_MS earlier saw them.
 *
 * Fresh: the copy answers only if the last poll applied was sent at most MAX_FACTS_AGE_MS before
 * (polls follow each other every BUSY_POLL_MS while checks come), and says how old it was: the
 * gateway takes the decision as asked that much earlier. Otherwise — and for a resource the copy
 * does not hold — the check reads the database as before.
 */
export class FactsMirror implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(FactsMirror.name);
  private facts: Facts | null = null;
  /** The snapshot the copy shows, the change version read in it, and when (monotonic clock) its statement was sent. */
  private snapshot = '';
  private version = '';
  private sentAt = -Infinity;
  private lastLookupAt = -Infinity;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** (monotonic time, xmin) of past snapshots, for the log's retention. */
  private readonly horizons: { at: number; xmin: string }[] = [];
  private lastPruneAt = -Infinity;
  private readonly pollSql: string;
  /** The copy's own connection (load and polls): see `connection`. */
  private client: Client | undefined;
  /** False once the server turned out to give every connection one session (PGlite's socket). */
  private enabled: boolean;
  /** While more rows of facts than allowed: when to try again (monotonic clock). */
  private offUntil = -Infinity;
  /** The last warning logged, so that a retry failing alike says nothing more. */
  private warned: string | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: Pick<
      PermissionsConfig,
      'DATABASE_URL' | 'PERMISSIONS_FACTS_IN_MEMORY' | 'PERMISSIONS_FACTS_MAX_ROWS'
    >,
  ) {
    this.enabled = config.PERMISSIONS_FACTS_IN_MEMORY;
    const [p1, p2] = ["split_part(c.key, '|', 1)", "split_part(c.key, '|', 2)"];
    const rowsOf = (table: Table, where: string) => {
      const t = ROWS[table];
      return `(SELECT json_agg(${t.row}) FROM ${t.from} WHERE ${where}${'where' in t ? ` AND ${t.where}` : ''})`;
    };
    this.pollSql = `
      WITH c AS (SELECT DISTINCT tbl, key FROM ${LOG}
                 WHERE xid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(xid, $1::pg_snapshot)
                 LIMIT ${MAX_CHANGES_PER_POLL + 1})
      SELECT pg_current_snapshot()::text AS snap, ${VERSION} AS version, NULL::text AS tbl, NULL::text AS key, NULL::json AS rows
      UNION ALL
      SELECT NULL, NULL, c.tbl, c.key, CASE c.tbl
        WHEN 'resource_projection' THEN ${rowsOf('resource_projection', 'r.id = c.key')}
        WHEN 'account_projection' THEN ${rowsOf('account_projection', 'a.id = c.key')}
        WHEN 'membership_projection' THEN ${rowsOf('membership_projection', `m.account_id = ${p1} AND m.user_id = ${p2}`)}
        WHEN 'grant' THEN ${rowsOf('grant', `g.resource_id = ${p1} AND g.subject_id = ${p2}`)}
      END FROM c`;
  }

  onApplicationBootstrap(): void {
    mirrors.add(this);
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    mirrors.delete(this);
    this.wake?.();
    await this.loop;
    this.disconnect();
  }

  /** Whether the copy is loaded (for tests and the log). */
  get loaded(): boolean {
    return this.facts !== null;
  }

  /** Rows of facts in the copy (0: none). */
  get rows(): number {
    return this.facts?.rows ?? 0;
  }

  /**
   * The facts of `resourceId` for `userId` from the copy, how old the copy is (ms) and its change
   * version; undefined when it cannot answer: not fresh enough, not loaded, or it does not hold
   * the resource (created since, or never projected).
   */
  lookup(
    resourceId: string,
    userId: string | null,
  ): { facts: DecisionFactsRow | 'deleted'; ageMs: number; version: string } | undefined {
    const now = performance.now();
    const idle = now - this.lastLookupAt > IDLE_AFTER_MS;
    this.lastLookupAt = now;
    if (idle) this.wake?.();
    const ageMs = now - this.sentAt;
    const facts = this.facts;
    if (!facts || ageMs > MAX_FACTS_AGE_MS) return undefined;
    const resource = facts.resources.get(resourceId);
    if (!resource) return undefined;
    if (resource === 'deleted') return { facts: 'deleted', ageMs, version: this.version };
    return {
      facts: {
        resource,
        owner: facts.accounts.get(resource.ownerId),
        grant: grantInForce(userId ? facts.grants.get(`${resourceId}|${userId}`) : null),
        memberships: (userId && facts.memberships.get(`${resource.ownerId}|${userId}`)) || [],
      },
      ageMs,
      version: this.version,
    };
  }

  private async run(): Promise<void> {
    if (!this.enabled)
      this.logger.log(
        'Facts of checks not kept in memory (PERMISSIONS_FACTS_IN_MEMORY=false): checks read the database',
      );
    while (!this.stopped) {
      let pause = this.enabled ? IDLE_POLL_MS : PRUNE_EVERY_MS;
      try {
        if (this.enabled && performance.now() >= this.offUntil) {
          if (!this.facts || performance.now() - this.sentAt > RETENTION_MS / 2) await this.load();
          else await this.poll();
          this.warned = undefined;
          if (performance.now() - this.lastLookupAt <= IDLE_AFTER_MS) pause = BUSY_POLL_MS;
        }
      } catch (err) {
        this.facts = null;
        if (err instanceof Reload) {
          this.logger.log(`Loading the facts again: ${err.message}`);
          continue;
        }
        if (err instanceof TooLarge) this.offUntil = performance.now() + TOO_LARGE_RETRY_MS;
        else pause = RETRY_MS;
        this.disconnect();
        // Once per cause, not once per retry.
        const warning = `Facts not kept in memory: ${(err as Error).message}; checks read the database`;
        if (!this.stopped && warning !== this.warned) this.logger.warn(warning);
        this.warned = warning;
      }
      if (this.stopped) break;
      await this.prune().catch((err: Error) =>
        this.logger.warn(`The change log was not pruned: ${err.message}`),
      );
      await this.sleep(pause);
    }
  }

  /** A pause that `wake` (a check after a quiet while, or the shutdown) ends early. */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.stopped) return resolve();
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * A connection of the copy's own, so that polls never wait for the pool the checks use. JIT
   * off: a poll is planned for the log's size (after a bulk change, a million rows), and JIT
   * compiling it took 20 ms of a 1 ms statement.
   */
  private async connection(): Promise<Client> {
    if (this.client) return this.client;
    const client = new Client({
      connectionString: this.config.DATABASE_URL,
      options: '-c jit=off',
      application_name: 'atrium-permissions-facts',
    });
    client.on('error', () => undefined); // the query under way fails too: `run` disconnects
    this.client = client;
    await client.connect();
    // The embedded PGlite serves every connection in one session: a transaction here would take
    // in every other connection's statements (the embedded mode sets PERMISSIONS_FACTS_IN_MEMORY
    // false; this is for a server that behaves the same).
    const pid = 'SELECT pg_backend_pid() AS pid';
    const [
      {
        rows: [own],
      },
      [pooled],
    ] = await Promise.all([
      client.query<{ pid: number }>(pid),
      this.dataSource.query(pid) as Promise<{ pid: number }[]>,
    ]);
    if (own.pid === pooled.pid) {
      this.enabled = false;
      throw new Error('the database gives every connection one session: facts are not kept in memory');
    }
    return client;
  }

  private disconnect(): void {
    void this.client?.end().catch(() => undefined);
    this.client = undefined;
  }

  /** Loads every fact in one snapshot, then swaps the copy in. */
  private async load(): Promise<void> {
    const started = performance.now();
    this.facts = null;
    const client = await this.connection();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      const sentAt = performance.now();
      const {
        rows: [{ snap, version }],
      } = await client.query<{ snap: string; version: string }>(
        `SELECT pg_current_snapshot()::text AS snap, ${VERSION} AS version`,
      );
      const facts = new Facts();
      for (const table of Object.keys(ROWS) as Table[]) {
        const t: { from: string; key: string; row: string; page?: string; where?: string } = ROWS[table];
        let after = '';
        for (;;) {
          const { rows } = await client.query<{ p?: string; k: string; rows: unknown[] }>(
            t.page
              ? `SELECT ${t.page} AS p, ${t.key} AS k, json_build_array(${t.row}) AS rows FROM ${t.from}
                  WHERE ${t.page} > $1 ORDER BY ${t.page} LIMIT ${LOAD_PAGE}`
              : `SELECT ${t.key} AS k, json_agg(${t.row}) AS rows FROM ${t.from} WHERE ${t.where ?? 'true'} GROUP BY 1`,
            t.page ? [after] : [],
          );
          for (const r of rows) facts.apply(table, r.k, r.rows);
          this.assertWithinLimit(facts);
          if (!t.page || rows.length < LOAD_PAGE) break;
          after = rows[rows.length - 1].p!;
        }
      }
      await client.query('COMMIT');
      this.facts = facts;
      this.snapshot = snap;
      this.version = version;
      this.sentAt = sentAt;
      this.logger.log(
        `Facts in memory: ${facts.grants.size} grants, ${facts.resources.size} resources, ${facts.accounts.size} accounts, ` +
          `${facts.memberships.size} memberships, loaded in ${Math.round(performance.now() - started)} ms; ` +
          `heap ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MB`,
      );
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /** Applies what committed since the copy's snapshot. */
  private async poll(): Promise<void> {
    const sentAt = performance.now();
    const client = await this.connection();
    const { rows } = await client.query<{
      snap: string | null;
      version: string | null;
      tbl: Table;
      key: string | null;
      rows: unknown[] | null;
    }>({ name: 'facts-poll', text: this.pollSql, values: [this.snapshot] });
    const head = rows.find((r) => r.snap !== null)!;
    const changes = rows.filter((r) => r.snap === null);
    if (changes.length > MAX_CHANGES_PER_POLL)
      throw new Reload(`more than ${MAX_CHANGES_PER_POLL} keys changed`);
    if (changes.some((c) => c.key === null)) throw new Reload('a table was truncated');
    // Another epoch: the schema was made again (a restore) under this replica.
    if (beforeColon(head.version!) !== beforeColon(this.version))
      throw new Reload('the change version has another epoch');
    const facts = this.facts!;
    for (const c of changes) if (c.tbl in ROWS) facts.apply(c.tbl, c.key!, c.rows);
    this.assertWithinLimit(facts);
    this.snapshot = head.snap!;
    this.version = head.version!;
    this.sentAt = sentAt;
  }

  private assertWithinLimit(facts: Facts): void {
    const max = this.config.PERMISSIONS_FACTS_MAX_ROWS;
    if (facts.rows > max)
      throw new TooLarge(
        `more than PERMISSIONS_FACTS_MAX_ROWS (${max}) rows of facts; tried again in 10 minutes`,
      );
  }

  /**
   * Deletes the log's rows that every snapshot taken RETENTION_MS ago saw (each replica does;
   * deleting twice is harmless). A copy whose snapshot is older than half that is loaded again.
   */
  private async prune(): Promise<void> {
    const now = performance.now();
    if (now - this.lastPruneAt < PRUNE_EVERY_MS) return;
    this.lastPruneAt = now;
    const [{ snap }] = (await this.dataSource.query(`SELECT pg_current_snapshot()::text AS snap`)) as {
      snap: string;
    }[];
    this.horizons.push({ at: now, xmin: beforeColon(snap) });
    let horizon: string | undefined;
    while (this.horizons.length && now - this.horizons[0].at >= RETENTION_MS)
      horizon = this.horizons.shift()!.xmin;
    if (horizon) await this.dataSource.query(`DELETE FROM ${LOG} WHERE xid < $1::xid8`, [horizon]);
  }
}
