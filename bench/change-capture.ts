/**
 * A spike for issue 18's next step (docs/SCALING.md, "Answering a check without the database"),
 * not product code: can a replica keep an exact copy of a table from a change log that triggers
 * write, polled by transaction snapshots? Writers change rows concurrently — inserts, updates,
 * deletes, key moves, rollbacks, and transactions held open so that commit order differs from
 * xid order —; a poller applies what each poll finds (every few milliseconds) to its copy; at
 * quiesce points and at the end the copy must equal the table. `--naive` polls by "xid above the
 * highest seen" instead, the control that shows the comparison can fail (it misses the
 * transactions that commit after a later one).
 *   node -r ./tools/register.js bench/change-capture.ts [--naive]
 * Environment: BENCH_DATABASE_URL (admin URL; a database of its own is created and dropped),
 * CAPTURE_ROUNDS (6 quiesce points, 5 s apart), CAPTURE_WRITERS (5).
 */
import { Client, Pool } from 'pg';
import { createBenchDatabase } from './lib/infra';
import { percentile, print, sleep } from './lib/log';

const KEYS = 5000;
const naive = process.argv.includes('--naive');
const rounds = Number(process.env.CAPTURE_ROUNDS) || 6;
const writerCount = Number(process.env.CAPTURE_WRITERS) || 5;
const adminUrl = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

const SCHEMA = `
  CREATE TABLE t (key int PRIMARY KEY, val int NOT NULL);
  -- What changed, by the transaction that changed it (its xid, written in the same transaction).
  CREATE TABLE change_log (xid xid8 NOT NULL DEFAULT pg_current_xact_id(), key int NOT NULL);
  CREATE INDEX ON change_log (xid);
  CREATE FUNCTION log_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    INSERT INTO change_log (key) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.key ELSE NEW.key END);
    IF TG_OP = 'UPDATE' AND OLD.key <> NEW.key THEN INSERT INTO change_log (key) VALUES (OLD.key); END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER log_change AFTER INSERT OR UPDATE OR DELETE ON t FOR EACH ROW EXECUTE FUNCTION log_change();
  INSERT INTO t SELECT g, 0 FROM generate_series(1, ${KEYS}) g;`;

/**
 * The keys of the transactions that committed after snapshot $1 (invisible to it, visible to this
 * statement), with their rows now, and this statement's snapshot — all one statement, one snapshot.
 */
const POLL = `
  SELECT pg_current_snapshot()::text AS snap, c.key, t.val
  FROM (SELECT 1) one
  LEFT JOIN (SELECT DISTINCT key FROM change_log
             WHERE xid >= pg_snapshot_xmin($1::pg_snapshot) AND NOT pg_visible_in_snapshot(xid, $1::pg_snapshot)) c ON true
  LEFT JOIN t ON t.key = c.key`;
const NAIVE_POLL = `
  SELECT c.xid::text AS xid, c.key, t.val FROM change_log c LEFT JOIN t ON t.key = c.key WHERE c.xid > $1::text::xid8`;

async function main(): Promise<void> {
  const db = await createBenchDatabase(adminUrl, 'atrium_capture');
  const admin = new Client({ connectionString: db.url });
  const poller = new Client({ connectionString: db.url });
  const pool = new Pool({ connectionString: db.url, max: writerCount + 1 });
  try {
    await admin.connect();
    await poller.connect();
    await admin.query(SCHEMA);
    print(
      `${writerCount} writers change a table of ${KEYS} rows; a poller keeps a copy of it from the change log ` +
        (naive
          ? 'by "xid above the highest seen" (--naive: the control, expected to miss rows)'
          : 'by transaction snapshots') +
        `. Every 5 s the writers pause ("quiesce") and the copy is compared with the table, ${rounds} times, then once at the end.`,
    );
    // The copy, loaded in one snapshot that the first poll starts from.
    const copy = new Map<number, number>();
    await admin.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
    let snap = ((await admin.query('SELECT pg_current_snapshot()::text AS s')).rows[0] as { s: string }).s;
    for (const r of (await admin.query('SELECT key, val FROM t')).rows as { key: number; val: number }[])
      copy.set(r.key, r.val);
    await admin.query('COMMIT');

    let highest = 0n;
    let polls = 0;
    let changes = 0;
    const pollMs: number[] = [];
    const apply = (rows: { key: number | null; val: number | null }[]) => {
      for (const r of rows) {
        if (r.key === null) continue;
        changes++;
        if (r.val === null) copy.delete(r.key);
        else copy.set(r.key, r.val);
      }
    };
    const poll = async () => {
      const started = performance.now();
      if (naive) {
        const { rows } = await poller.query(NAIVE_POLL, [highest.toString()]);
        for (const r of rows as { xid: string }[]) if (BigInt(r.xid) > highest) highest = BigInt(r.xid);
        apply(rows as { key: number; val: number | null }[]);
      } else {
        const { rows } = await poller.query({ name: 'poll', text: POLL, values: [snap] });
        snap = (rows[0] as { snap: string }).snap;
        apply(rows as { key: number | null; val: number | null }[]);
      }
      pollMs.push(performance.now() - started);
      polls++;
    };

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
          for (let i = 0, n = 1 + Math.floor(Math.random() * 5); i < n; i++) {
            const k = 1 + Math.floor(Math.random() * KEYS * 1.2);
            const op = Math.random();
            if (op < 0.7)
              await c.query('INSERT INTO t VALUES ($1, 1) ON CONFLICT (key) DO UPDATE SET val = t.val + 1', [
                k,
              ]);
            else if (op < 0.85) await c.query('DELETE FROM t WHERE key = $1', [k]);
            else
              await c.query(
                'UPDATE t SET key = $2 WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM t WHERE key = $2)',
                [k, KEYS * 2 + Math.floor(Math.random() * KEYS)],
              );
          }
          // Some transactions stay open a while: an xid taken early, committed after later ones.
          if (w % 3 === 0) await sleep(Math.random() * 30);
          await c.query(Math.random() < 0.1 ? 'ROLLBACK' : 'COMMIT');
          transactions++;
        } catch {
          await c.query('ROLLBACK').catch(() => undefined); // a deadlock or a conflict: retried as another
        } finally {
          c.release();
        }
      }
    };
    const writers = Array.from({ length: writerCount }, (_, w) => writer(w));
    const polling = (async () => {
      while (running) {
        await poll();
        await sleep(2);
      }
    })();
    let mismatches = 0;
    const compare = async (label: string) => {
      paused = true;
      await sleep(100); // the writers finish the transaction they are in
      await poll();
      const rows = (await admin.query('SELECT key, val FROM t')).rows as { key: number; val: number }[];
      const truth = new Map(rows.map((r) => [r.key, r.val]));
      let differing = 0;
      for (const [k, v] of truth) if (copy.get(k) !== v) differing++;
      for (const k of copy.keys()) if (!truth.has(k)) differing++;
      mismatches += differing;
      print(
        `${label}: ${truth.size} rows, copy ${copy.size}, differing ${differing}; ${transactions} transactions, ${polls} polls, ${changes} changes applied`,
      );
      paused = false;
    };
    for (let i = 0; i < rounds; i++) {
      await sleep(5000);
      await compare(`quiesce ${i + 1}`);
    }
    running = false;
    await Promise.all([...writers, polling]);
    await compare('end');
    print(
      `${naive ? 'naive (xid above the highest seen)' : 'snapshots'}: poll p50 ${percentile(pollMs, 0.5).toFixed(2)} ms, p99 ${percentile(pollMs, 0.99).toFixed(2)} ms; ` +
        (mismatches
          ? `MISMATCH (${mismatches} rows over the comparisons)`
          : 'the copy was exact at every comparison'),
    );
    process.exitCode = mismatches && !naive ? 1 : 0;
  } finally {
    await Promise.all([pool.end(), poller.end(), admin.end()]).catch(() => undefined);
    await db.drop();
  }
}

void main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? String(err)}\n`);
  process.exit(1);
});
