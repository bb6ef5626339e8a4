/**
 * The soak: a mixed workload for a long while on the distributed mode (two processes of every
 * service, two gateways, a fresh database and RabbitMQ vhost), through a broker restart, a
 * database restart and the SIGKILL of one replica; then checks that every acknowledged write is
 * there exactly once, that no read was served after its revocation's answer, what the errors and
 * latencies were, and that no process's memory grew. Prints a Markdown summary; exits 1 if a
 * check fails. Not part of `npm test`.
 *
 *   npm run soak [-- --minutes 30] [--real-restarts] [--rate 30] [--users 10]
 *
 * By default the restarts are simulated: every connection of the run's processes to the broker
 * and to the database goes through a fault proxy, and a "restart" cuts them all and refuses new
 * ones for OUTAGE_MS. --real-restarts restarts the servers themselves (rabbitmqctl stop_app /
 * start_app; pg_ctlcluster --skip-systemctl-redirect stop / start): only on a machine whose
 * PostgreSQL and RabbitMQ nobody else is using.
 */
import { mkdtempSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { Client } from 'pg';
import { TEST_ADMIN_DATABASE_URL, TEST_AMQP_URL } from '@atrium/testing';
import { progress, print, sleep } from './lib/log';
import { SoakStack, startSoakStack } from './lib/soak-stack';
import { OTHER_GATEWAY_GRACE_MS, SoakWorkload } from './lib/soak-workload';

const OUTAGE_MS = 5000;
const KILL_DOWN_MS = 5000;
const KILLED = 'resources#2';
/** Errors this long after a fault's end still count as the fault's. */
const RECOVERY_MS = 30_000;
/** When things happen, as fractions of the duration. */
const AT = { rssStart: 0.1, broker: 0.3, rssMiddle: 0.5, database: 0.55, kill: 0.75 };
const RSS_FACTOR = 1.3;
const RSS_SLACK_MB = 30;

interface Args {
  minutes: number;
  realRestarts: boolean;
  rate: number;
  virtualUsers: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { minutes: 30, realRestarts: false, rate: 30, virtualUsers: 10 };
  const number = (name: string, raw: string | undefined, min: number, max: number) => {
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) {
      process.stderr.write(`${name} must be a number from ${min} to ${max}, got ${raw}\n`);
      process.exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=');
    const value = () => inline ?? argv[++i];
    if (flag === '--minutes') args.minutes = number('--minutes', value(), 0.5, 24 * 60);
    else if (flag === '--rate') args.rate = number('--rate', value(), 1, 500);
    else if (flag === '--users') args.virtualUsers = number('--users', value(), 1, 200);
    else if (flag === '--real-restarts') args.realRestarts = true;
    else {
      process.stderr.write(
        `unknown argument ${argv[i]}\nusage: npm run soak -- [--minutes N] [--rate R] [--users U] [--real-restarts]\n`,
      );
      process.exit(2);
    }
  }
  return args;
}

const percentile = (values: number[], p: number) => {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

interface KindCheck {
  kind: string;
  acknowledged: number;
  presentOnce: number;
  lost: number;
  duplicated: number;
  /** Kind-specific: revoked or removed but still there, or with another role. */
  wrongState: number;
  unacknowledgedPresent: number;
}

async function checkDatabase(stack: SoakStack, w: SoakWorkload): Promise<KindCheck[]> {
  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const { ledger } = w;
    const checks: KindCheck[] = [];

    const items = await db.query<{ m: string; dataset_id: string; n: string }>(
      `SELECT data->>'soakMarker' AS m, dataset_id, count(*) AS n FROM resources.dataset_item
        WHERE data->>'soakMarker' IS NOT NULL GROUP BY 1, 2`,
    );
    const itemCount = new Map<string, number>();
    for (const r of items.rows) itemCount.set(r.m, (itemCount.get(r.m) ?? 0) + Number(r.n));
    const item: KindCheck = {
      kind: 'dataset items',
      acknowledged: ledger.items.size,
      presentOnce: 0,
      lost: 0,
      duplicated: 0,
      wrongState: 0,
      unacknowledgedPresent: 0,
    };
    for (const m of ledger.items.keys()) {
      const n = itemCount.get(m) ?? 0;
      if (n === 1) item.presentOnce++;
      else if (n === 0) item.lost++;
      else item.duplicated++;
    }
    for (const [m, n] of itemCount) {
      if (ledger.items.has(m)) continue;
      item.unacknowledgedPresent++;
      if (n > 1) item.duplicated++;
    }
    checks.push(item);

    const records = await db.query<{ store_id: string; key: string; value: string }>(
      `SELECT store_id, key, convert_from(value, 'UTF8') AS value FROM resources.key_value_record WHERE key LIKE 'k-%'`,
    );
    const recordValue = new Map(records.rows.map((r) => [`${r.store_id}/${r.key}`, r.value]));
    const record: KindCheck = {
      kind: 'key-value records',
      acknowledged: ledger.records.size,
      presentOnce: 0,
      lost: 0,
      duplicated: 0,
      wrongState: 0,
      unacknowledgedPresent: 0,
    };
    for (const [key, mark] of ledger.records) {
      const value = recordValue.get(key);
      if (value === undefined) record.lost++;
      else if (!value.includes(mark)) record.wrongState++;
      else record.presentOnce++;
    }
    record.unacknowledgedPresent = [...recordValue.keys()].filter((k) => !ledger.records.has(k)).length;
    checks.push(record);

    const requests = await db.query<{ queue_id: string; unique_key: string; n: string }>(
      `SELECT queue_id, unique_key, count(*) AS n FROM resources.queue_request GROUP BY 1, 2`,
    );
    const requestCount = new Map(requests.rows.map((r) => [`${r.queue_id}/${r.unique_key}`, Number(r.n)]));
    const request: KindCheck = {
      kind: 'queue requests',
      acknowledged: ledger.requests.size,
      presentOnce: 0,
      lost: 0,
      duplicated: 0,
      wrongState: 0,
      unacknowledgedPresent: 0,
    };
    for (const key of ledger.requests) {
      const n = requestCount.get(key) ?? 0;
      if (n === 1) request.presentOnce++;
      else if (n === 0) request.lost++;
      else request.duplicated++;
    }
    request.unacknowledgedPresent = [...requestCount.keys()].filter((k) => !ledger.requests.has(k)).length;
    checks.push(request);

    const grants = await db.query<{ resource_id: string; subject_id: string; n: string }>(
      `SELECT resource_id, subject_id, count(*) AS n FROM permissions."grant" WHERE NOT hidden GROUP BY 1, 2`,
    );
    const grantCount = new Map(grants.rows.map((r) => [`${r.resource_id}/${r.subject_id}`, Number(r.n)]));
    const grant: KindCheck = {
      kind: 'grants (revoked: absent)',
      acknowledged: 0,
      presentOnce: 0,
      lost: 0,
      duplicated: 0,
      wrongState: 0,
      unacknowledgedPresent: 0,
    };
    for (const [key, access] of ledger.grants) {
      const n = grantCount.get(key) ?? 0;
      if (access.state === 'active') {
        grant.acknowledged++;
        if (n === 1) grant.presentOnce++;
        else if (n === 0) grant.lost++;
        else grant.duplicated++;
      } else if (access.state === 'revoked') {
        grant.acknowledged++;
        if (n === 0) grant.presentOnce++;
        else grant.wrongState++;
      } else if (n > 0) grant.unacknowledgedPresent++;
    }
    checks.push(grant);

    const members = await db.query<{
      organization_id: string;
      user_id: string;
      role_id: string;
      active: boolean;
    }>(`SELECT organization_id, user_id, role_id, active FROM identity.organization_member`);
    const member = new Map(members.rows.map((r) => [`${r.organization_id}/${r.user_id}`, r]));
    const membership: KindCheck = {
      kind: 'memberships (removed: inactive)',
      acknowledged: 0,
      presentOnce: 0,
      lost: 0,
      duplicated: 0,
      wrongState: 0,
      unacknowledgedPresent: 0,
    };
    for (const [key, m] of ledger.memberships) {
      const row = member.get(key);
      if (m.state === 'active') {
        membership.acknowledged++;
        if (!row || !row.active) membership.lost++;
        else if (row.role_id !== m.roleId) membership.wrongState++;
        else membership.presentOnce++;
      } else if (m.state === 'revoked') {
        membership.acknowledged++;
        if (row?.active) membership.wrongState++;
        else membership.presentOnce++;
      } else if (row?.active) membership.unacknowledgedPresent++;
    }
    checks.push(membership);
    return checks;
  } finally {
    await db.end();
  }
}

async function waitReady(urls: string[], deadlineMs: number): Promise<boolean> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const states = await Promise.all(
      urls.map(async (url) => {
        try {
          const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(3000) });
          await res.arrayBuffer();
          return res.status === 200;
        } catch {
          return false;
        }
      }),
    );
    if (states.every(Boolean)) return true;
    if (Date.now() > deadline) return false;
    await sleep(500);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const durationMs = args.minutes * 60_000;
  const logDir = mkdtempSync(join(tmpdir(), 'atrium-soak-'));
  progress(
    `soak: ${args.minutes} min, ${args.virtualUsers} virtual users at ≤ ${args.rate} req/s, ` +
      `${args.realRestarts ? 'REAL server restarts' : 'restarts simulated by fault proxies'}`,
  );
  const stack = await startSoakStack({
    realRestarts: args.realRestarts,
    adminDatabaseUrl: TEST_ADMIN_DATABASE_URL,
    amqpBaseUrl: TEST_AMQP_URL,
    logDir,
  });
  let failed: string[] = [];
  const onSignal = () => {
    progress('interrupted: stopping');
    void stack.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (!(await waitReady(stack.gatewayUrls, 60_000))) throw new Error('the gateways never became ready');
    progress(`stack up: ${stack.processes.map((p) => `${p.label}=${p.child.pid}`).join(' ')}`);
    const w = new SoakWorkload({
      gatewayUrls: stack.gatewayUrls,
      virtualUsers: args.virtualUsers,
      requestsPerSecond: args.rate,
      initialUsers: 12,
      log: progress,
    });
    await w.populate();
    progress(`populated: ${w.userCount} users, ${w.orgCount} organizations`);

    const faults: { name: string; fromMs: number; toMs: number }[] = [];
    const rss: Record<'start' | 'middle' | 'end', Record<string, number>> = {
      start: {},
      middle: {},
      end: {},
    };
    const t0 = w.elapsedMs;
    const at = (fraction: number) => sleep(Math.max(0, t0 + fraction * durationMs - w.elapsedMs));
    const fault = async (name: string, act: () => Promise<void>) => {
      const fromMs = w.elapsedMs;
      progress(`fault: ${name}`);
      try {
        await act();
      } catch (err) {
        failed.push(`fault ${name} could not be injected: ${(err as Error).message}`);
      }
      faults.push({ name, fromMs, toMs: w.elapsedMs });
      progress(`fault over: ${name} (${w.elapsedMs - fromMs} ms)`);
    };
    const running = w.run();
    const script = (async () => {
      await at(AT.rssStart);
      rss.start = stack.rss();
      progress(`warm-up over; RSS ${JSON.stringify(rss.start)}`);
      await at(AT.broker);
      await fault('broker restart', () => stack.restartBroker(OUTAGE_MS));
      await at(AT.rssMiddle);
      rss.middle = stack.rss();
      await at(AT.database);
      await fault('database restart', () => stack.restartDatabase(OUTAGE_MS));
      await at(AT.kill);
      await fault(`SIGKILL ${KILLED}, restarted after ${KILL_DOWN_MS / 1000} s`, () =>
        stack.killAndRestart(KILLED, KILL_DOWN_MS),
      );
      await at(1);
    })();
    const progressTimer = setInterval(() => {
      const total = [...w.statuses.values()].reduce(
        (s, m) => s + [...m.values()].reduce((a, b) => a + b, 0),
        0,
      );
      progress(`${Math.round((w.elapsedMs - t0) / 1000)} s: ${total} requests, ${w.userCount} users`);
    }, 30_000);
    await script;
    w.stop();
    await running;
    clearInterval(progressTimer);
    const workloadMs = w.elapsedMs - t0;
    const ready = await waitReady(stack.gatewayUrls, 60_000);
    if (!ready) failed.push('the gateways were not ready 60 s after the workload');
    // Outboxes and consumers settle before the database is read.
    await sleep(5000);
    rss.end = stack.rss();
    const checks = await checkDatabase(stack, w);
    const errorLines = stack.errorLines();
    const deadLetters = await stack.deadLetters();

    // --- report ----------------------------------------------------------------------------
    const lines: string[] = [];
    const total = [...w.statuses.values()].reduce(
      (s, m) => s + [...m.values()].reduce((a, b) => a + b, 0),
      0,
    );
    lines.push(
      `### Soak run ${new Date().toISOString().slice(0, 16)}Z: ${args.minutes} min, ` +
        `${args.realRestarts ? 'real server restarts' : 'restarts simulated by fault proxies'}`,
      '',
      `Distributed mode: 2 processes of each of identity, resources, permissions, issues; 2 gateways; ` +
        `fresh database and vhost. ${args.virtualUsers} virtual users, each request to a random gateway; ` +
        `${total} requests in ${Math.round(workloadMs / 1000)} s (${(total / (workloadMs / 1000)).toFixed(1)} req/s); ` +
        `${w.userCount} users, ${w.orgCount} organizations at the end.`,
      '',
      `Faults: ${faults.map((f) => `${f.name} at ${Math.round((f.fromMs - t0) / 1000)} s (${((f.toMs - f.fromMs) / 1000).toFixed(1)} s)`).join('; ')}.`,
      '',
      '| acknowledged writes | in ledger | present exactly once | lost | duplicated | wrong state | unacknowledged, present |',
      '|---|--:|--:|--:|--:|--:|--:|',
    );
    for (const c of checks) {
      lines.push(
        `| ${c.kind} | ${c.acknowledged} | ${c.presentOnce} | ${c.lost} | ${c.duplicated} | ${c.wrongState} | ${c.unacknowledgedPresent} |`,
      );
      if (c.lost) failed.push(`${c.kind}: ${c.lost} acknowledged lost`);
      if (c.duplicated) failed.push(`${c.kind}: ${c.duplicated} duplicated`);
      if (c.wrongState) failed.push(`${c.kind}: ${c.wrongState} in the wrong state`);
    }
    const r = w.reads;
    lines.push(
      '',
      '| reads judged by the ledger | checked | served (2xx) |',
      '|---|--:|--:|',
      `| after the revocation's answer (same gateway, or other gateway ≥ ${OTHER_GATEWAY_GRACE_MS} ms later) | ${r.afterRevocation} | ${r.afterRevocationServed} |`,
      `| other gateway, < ${OTHER_GATEWAY_GRACE_MS} ms after the revocation's answer (allowed) | ${r.inGraceWindow} | ${r.inGraceWindowServed} |`,
      `| never shared (owner RESTRICTED) | ${r.unshared} | ${r.unsharedServed} |`,
      `| acknowledged grant or membership, not revoked (should be served) | ${r.shared} | ${r.shared - r.sharedDenied} |`,
    );
    if (r.afterRevocationServed)
      failed.push(`${r.afterRevocationServed} reads served after their revocation's answer`);
    if (r.unsharedServed) failed.push(`${r.unsharedServed} reads of never-shared resources served`);
    if (r.sharedDenied) failed.push(`${r.sharedDenied} reads with acknowledged access denied`);

    // A request counts as the fault's when it was in flight at any time from the fault's start to
    // RECOVERY_MS after its end.
    const inFault = (e: { at: number; ms: number }) =>
      faults.some((f) => e.at + e.ms >= f.fromMs && e.at <= f.toMs + RECOVERY_MS);
    const statusesSeen = [...new Set([...w.statuses.values()].flatMap((m) => [...m.keys()]))].sort(
      (a, b) => a - b,
    );
    lines.push(
      '',
      `| operation | requests | ${statusesSeen.map((s) => (s === 0 ? 'no answer' : String(s))).join(' | ')} | p50 ms | p99 ms |`,
      `|---|--:|${statusesSeen.map(() => '--:|').join('')}--:|--:|`,
    );
    for (const [op, byStatus] of [...w.statuses.entries()].sort()) {
      const n = [...byStatus.values()].reduce((a, b) => a + b, 0);
      const lat = w.latencies.get(op) ?? [];
      lines.push(
        `| ${op} | ${n} | ${statusesSeen.map((s) => byStatus.get(s) ?? 0).join(' | ')} | ${percentile(lat, 50)} | ${percentile(lat, 99)} |`,
      );
    }
    const unavailable = w.timeline.filter((e) => e.status === 503 || e.status === 504);
    const outside = unavailable.filter((e) => !inFault(e));
    const broken = w.timeline.filter(
      (e) => e.status === 0 || (e.status >= 500 && e.status !== 503 && e.status !== 504),
    );
    lines.push(
      '',
      `503/504 answers: ${unavailable.length}, of which ${unavailable.length - outside.length} during a fault or the ` +
        `${RECOVERY_MS / 1000} s after it and ${outside.length} outside. Other 5xx or no answer (failures): ${broken.length}.`,
    );
    if (outside.length)
      lines.push(
        '',
        `503/504 outside faults: ${outside
          .slice(0, 15)
          .map((e) => `${e.op} at ${((e.at - t0) / 1000).toFixed(1)} s`)
          .join(', ')}${outside.length > 15 ? ', …' : ''}.`,
      );
    // An event in an events dead-letter queue is an effect lost (a projection not updated); an RPC
    // request there expired unanswered in its queue, its caller answered 503 at its deadline.
    const dlq = (suffix: string) => Object.entries(deadLetters).filter(([q]) => q.endsWith(suffix));
    const sum = (entries: [string, number][]) => entries.reduce((a, [, n]) => a + n, 0);
    const list = (entries: [string, number][]) =>
      entries.length ? ` (${entries.map(([q, n]) => `${q}: ${n}`).join(', ')})` : '';
    const [events, rpcs] = [dlq('.events.dlq'), dlq('.rpc.dlq')];
    lines.push(
      '',
      `Dead-lettered at the end: ${sum(events)} events${list(events)} (failures: effects lost); ` +
        `${sum(rpcs)} RPC requests${list(rpcs)} (expired in their queue; their callers got 503).`,
    );
    if (sum(events)) failed.push(`${sum(events)} events dead-lettered`);
    if (broken.length) failed.push(`${broken.length} answers were a 5xx other than 503/504, or none`);

    lines.push(
      '',
      `| process | RSS MB after warm-up | middle | end | verdict (end ≤ start × ${RSS_FACTOR} + ${RSS_SLACK_MB} MB) | error log lines |`,
      '|---|--:|--:|--:|---|--:|',
    );
    for (const p of stack.processes) {
      const [s, m, e] = [rss.start[p.label], rss.middle[p.label], rss.end[p.label]];
      const flat = e <= s * RSS_FACTOR + RSS_SLACK_MB;
      const verdict = p.restarts
        ? 'killed and restarted (new process): not judged'
        : flat
          ? 'flat'
          : 'GROWING';
      if (!p.restarts && !flat) failed.push(`${p.label} RSS grew from ${s} MB to ${e} MB`);
      lines.push(`| ${p.label} | ${s} | ${m} | ${e} | ${verdict} | ${errorLines[p.label]} |`);
    }
    failed = [...new Set(failed)];
    lines.push(
      '',
      failed.length ? `**Verdict: FAIL** — ${failed.join('; ')}` : '**Verdict: PASS** (every check above)',
    );
    if (r.examples.length) {
      lines.push('', 'Examples of what failed:', '', ...r.examples.slice(0, 20).map((e) => `- ${e}`));
    }
    lines.push('', `Process logs: ${logDir}`);
    print(lines.join('\n'));
  } catch (err) {
    failed.push((err as Error).message);
    progress(`soak aborted: ${(err as Error).stack ?? err}`);
  } finally {
    await stack.close();
  }
  process.exit(failed.length ? 1 : 0);
}

void main();
