import { PermissionsRpc } from '@atrium/contracts';
import { ContractHarness, eventually, startContractHarness, testServiceConfig } from '@atrium/testing';
import { Pool } from 'pg';
import { DecisionFactsQuery } from '../src/decisions/decision-facts.query';
import { checkFacts, FactsMirror } from '../src/decisions/facts-mirror';
import { PermissionsModule } from '../src/permissions.module';
import { DataSource } from 'typeorm';

/*
 * The permissions service's copy of the facts in memory (FactsMirror) against the database it
 * copies: writers change grants, memberships, resources and accounts concurrently — inserts,
 * updates, deletes, key moves, rollbacks, transactions held open so that they commit after later
 * ones — and at every pause the copy must answer each (resource, user) pair exactly as the
 * database does.
 */
const OWNERS = 8;
const USERS = 40;
const RESOURCES = 120;
const id = (kind: string, n: number) => `${kind}${String(n).padStart(16, '0')}`;
const owner = (n: number) => id('o', n % OWNERS);
const user = (n: number) => id('u', n % USERS);
const resource = (n: number) => id('r', n % RESOURCES);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('facts in memory (FactsMirror) against the database (PostgreSQL + RabbitMQ)', () => {
  let h: ContractHarness;
  let mirror: FactsMirror;
  let query: DecisionFactsQuery;
  let pool: Pool;

  beforeAll(async () => {
    h = await startContractHarness('permissions', (url) => PermissionsModule.forRoot(testServiceConfig(url)));
    mirror = h.app.get(FactsMirror);
    query = h.app.get(DecisionFactsQuery);
    pool = new Pool({ connectionString: h.db.url, max: 6 });
    const accounts = [...Array(OWNERS).keys()].map(owner).concat([...Array(USERS).keys()].map(user));
    await pool.query(
      `INSERT INTO permissions.account_projection (id, username, username_lower, general_resource_access, share_runs_with_public_actor_creators, version)
       SELECT a, 'n' || a, 'n' || a, 'RESTRICTED', false, 1 FROM unnest($1::text[]) a`,
      [accounts],
    );
    await pool.query(
      `INSERT INTO permissions.resource_projection (id, type, owner_id, name, general_access, is_public, version, deleted)
       SELECT r, 'DATASET', o, NULL, 'FOLLOW_USER_SETTING', false, 1, false FROM unnest($1::text[], $2::text[]) AS x(r, o)`,
      [[...Array(RESOURCES).keys()].map(resource), [...Array(RESOURCES).keys()].map(owner)],
    );
    await eventually(async () => expect(mirror.loaded).toBe(true), 10_000);
  });
  afterAll(async () => {
    await pool?.end();
    await h?.close();
  });

  /** One random change of a random fact. */
  async function change(c: import('pg').PoolClient, rnd: () => number): Promise<void> {
    const r = Math.floor(rnd() * RESOURCES);
    const u = Math.floor(rnd() * USERS);
    const op = rnd();
    if (op < 0.35)
      await c.query(
        `INSERT INTO permissions."grant" (id, resource_type, resource_id, subject_id, permissions, granted_by, expires_at, not_before, hidden)
         VALUES ($1, 'DATASET', $2, $3, $4, $5, $6, $7, false)
         ON CONFLICT (resource_id, subject_id) DO UPDATE SET permissions = EXCLUDED.permissions, expires_at = EXCLUDED.expires_at, not_before = EXCLUDED.not_before`,
        [
          id('g', Math.floor(rnd() * 1e9)),
          resource(r),
          user(u),
          rnd() < 0.5 ? ['READ'] : ['READ', 'WRITE'],
          owner(r),
          rnd() < 0.2 ? new Date(Date.now() + 3_600_000) : null,
          rnd() < 0.1 ? new Date(Date.now() + 3_600_000) : null,
        ],
      );
    else if (op < 0.5)
      await c.query(`DELETE FROM permissions."grant" WHERE resource_id = $1 AND subject_id = $2`, [
        resource(r),
        user(u),
      ]);
    else if (op < 0.55)
      // A key move: the grant passes to another user.
      await c.query(
        `UPDATE permissions."grant" SET subject_id = $3 WHERE resource_id = $1 AND subject_id = $2
           AND NOT EXISTS (SELECT 1 FROM permissions."grant" WHERE resource_id = $1 AND subject_id = $3)`,
        [resource(r), user(u), user(u + 1)],
      );
    else if (op < 0.75)
      await c.query(
        `INSERT INTO permissions.membership_projection (account_id, user_id, kind, active, role_name, bindings, version)
         VALUES ($1, $2, $3, $4, 'member', '[]', 1)
         ON CONFLICT (account_id, user_id, kind) DO UPDATE SET active = EXCLUDED.active, version = membership_projection.version + 1`,
        [owner(r), user(u), rnd() < 0.5 ? 'ORGANIZATION' : 'COLLABORATION', rnd() < 0.6],
      );
    else if (op < 0.85)
      await c.query(
        `UPDATE permissions.resource_projection SET general_access = $2, deleted = $3, owner_id = $4, version = version + 1 WHERE id = $1`,
        [
          resource(r),
          rnd() < 0.5 ? 'RESTRICTED' : 'ANYONE_WITH_ID_CAN_READ',
          rnd() < 0.1,
          owner(Math.floor(rnd() * OWNERS)),
        ],
      );
    else
      await c.query(
        `UPDATE permissions.account_projection SET general_resource_access = $2, version = version + 1 WHERE id = $1`,
        [owner(r), rnd() < 0.5 ? 'RESTRICTED' : 'ANYONE_WITH_ID_CAN_READ'],
      );
  }

  /** Every (resource, user) pair from the copy (once fresh) and from the database: the pairs that differ. */
  async function differences(): Promise<string[]> {
    const normal = (f: unknown) =>
      JSON.stringify(f, (k, v: unknown) =>
        k === 'memberships' && Array.isArray(v)
          ? [...(v as { kind: string }[])].sort((a, b) => a.kind.localeCompare(b.kind))
          : v,
      );
    const differing: string[] = [];
    for (let r = 0; r < RESOURCES; r++)
      for (let u = 0; u < USERS; u += 3) {
        let remembered = mirror.lookup(resource(r), user(u));
        for (let i = 0; !remembered && i < 200; i++) {
          await sleep(5);
          remembered = mirror.lookup(resource(r), user(u));
        }
        const read = await query.load(resource(r), user(u));
        if (normal(remembered?.facts) !== normal(read)) differing.push(`${resource(r)} ${user(u)}`);
      }
    return differing;
  }

  it('answers every pair as the database does, under concurrent changes out of commit order', async () => {
    let seed = 42;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let running = true;
    let paused = false;
    let transactions = 0;
    const writer = async (w: number) => {
      while (running) {
        if (paused) {
          await sleep(5);
          continue;
        }
        const c = await pool.connect();
        try {
          await c.query('BEGIN');
          for (let i = 0, n = 1 + Math.floor(rnd() * 4); i < n; i++) await change(c, rnd);
          if (w % 2 === 0) await sleep(rnd() * 20); // committed after transactions that began later
          await c.query(rnd() < 0.1 ? 'ROLLBACK' : 'COMMIT');
          transactions++;
        } catch {
          await c.query('ROLLBACK').catch(() => undefined); // a conflict: another change instead
        } finally {
          c.release();
        }
      }
    };
    const writers = [0, 1, 2, 3].map(writer);
    try {
      for (let round = 0; round < 3; round++) {
        await sleep(1500);
        paused = true;
        await sleep(100); // the writers end the transactions they are in
        expect(await differences()).toEqual([]);
        paused = false;
      }
    } finally {
      running = false;
      await Promise.all(writers);
    }
    expect(transactions).toBeGreaterThan(100);
    expect(await differences()).toEqual([]);
  }, 60_000);

  it('loads again after a change too large to patch, and after a truncation', async () => {
    await pool.query(
      `INSERT INTO permissions."grant" (id, resource_type, resource_id, subject_id, permissions, granted_by, hidden)
       SELECT 'b' || lpad(n::text, 16, '0'), 'DATASET', 'r' || lpad((n % ${RESOURCES})::text, 16, '0'), 'x' || lpad(n::text, 16, '0'),
              ARRAY['READ'], 'o0000000000000000', false
       FROM generate_series(1, 12000) n`,
    );
    expect(await differences()).toEqual([]);
    const bulk = await eventually(async () => {
      const found = mirror.lookup(resource(5), `x${String(RESOURCES + 5).padStart(16, '0')}`);
      expect(found?.facts).toMatchObject({ grant: { permissions: ['READ'] } });
      return found;
    }, 20_000);
    expect(bulk).toBeDefined();
    await pool.query('TRUNCATE permissions."grant"');
    await eventually(async () => {
      const found = mirror.lookup(resource(5), `x${String(RESOURCES + 5).padStart(16, '0')}`);
      expect(found?.facts).toMatchObject({ grant: { permissions: [] } });
    }, 20_000);
    expect(await differences()).toEqual([]);
  }, 60_000);

  it('keeps no copy beyond PERMISSIONS_FACTS_MAX_ROWS, at load or as changes come', async () => {
    const { rows } = await pool.query<{ n: number }>(
      `SELECT (SELECT count(*) FROM permissions."grant") + (SELECT count(*) FROM permissions.resource_projection)
            + (SELECT count(*) FROM permissions.account_projection)
            + (SELECT count(DISTINCT (account_id, user_id)) FROM permissions.membership_projection WHERE active) AS n`,
    );
    const facts = Number(rows[0].n);
    const limited = (max: number) =>
      new FactsMirror(h.app.get(DataSource), {
        DATABASE_URL: h.db.url,
        PERMISSIONS_FACTS_IN_MEMORY: true,
        PERMISSIONS_FACTS_MAX_ROWS: max,
      });
    const tooSmall = limited(facts - 1);
    tooSmall.onApplicationBootstrap();
    await sleep(1500);
    expect(tooSmall.loaded).toBe(false);
    expect(tooSmall.lookup(resource(1), user(1))).toBeUndefined();
    await tooSmall.beforeApplicationShutdown();

    const justEnough = limited(facts + 2);
    justEnough.onApplicationBootstrap();
    try {
      await eventually(async () => expect(justEnough.loaded).toBe(true), 10_000);
      await pool.query(
        `INSERT INTO permissions."grant" (id, resource_type, resource_id, subject_id, permissions, granted_by, hidden)
         SELECT 'l' || lpad(n::text, 16, '0'), 'DATASET', $1, 'y' || lpad(n::text, 16, '0'), ARRAY['READ'], $2, false
         FROM generate_series(1, 3) n`,
        [resource(2), owner(2)],
      );
      justEnough.lookup(resource(2), user(2)); // checks come: it polls at once
      await eventually(async () => expect(justEnough.loaded).toBe(false), 5000);
    } finally {
      await justEnough.beforeApplicationShutdown();
    }
  });

  it('answers a check asked with acceptFactsAge from memory, saying how old; others from the database', async () => {
    const checkRequest = {
      principal: { userId: owner(1) },
      resourceType: 'DATASET' as const,
      resourceRef: resource(1),
      permission: 'READ' as const,
    };
    await pool.query(
      `UPDATE permissions.resource_projection SET deleted = false, owner_id = $2 WHERE id = $1`,
      [resource(1), owner(1)],
    );
    await eventually(async () => {
      const aged = await h.rpc.call(PermissionsRpc.check, { ...checkRequest, acceptFactsAge: true });
      expect(aged).toMatchObject({ allowed: true, rule: 'owner' });
      expect(aged.factsAgeMs).toBeLessThanOrEqual(10);
      expect(aged.factsVersion).toMatch(/^[0-9a-f]+:[0-9]+$/);
    });
    const counted = async (source: string) =>
      (await checkFacts.get()).values.find((v) => v.labels.source === source)?.value ?? 0;
    const [memory, database] = [await counted('memory'), await counted('database')];
    const read = await h.rpc.call(PermissionsRpc.check, checkRequest);
    expect(read).toMatchObject({ allowed: true, rule: 'owner' });
    expect(read.factsAgeMs).toBeUndefined();
    expect([await counted('memory'), await counted('database')]).toEqual([memory, database + 1]);
  });
});
