import { INestMicroservice } from '@nestjs/common';
import { ServiceName } from '@atrium/contracts';
import { currentIdempotencyKey, startServiceApp } from '@atrium/messaging';
import { ServiceDataSource } from '@atrium/persistence';
import { FaultProxy, startFaultProxy, TEST_AMQP_URL, testServiceConfig, uniqueName } from '@atrium/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { SERVICE_MODULES } from '../src/atrium-stack';
import { Answer, FaultStack, sleep, startFaultStack, statusCounts } from './faults-stack';

/**
 * Issue 17, item 1: effectively-once write RPCs. The services handling the five writes
 * (resources: item pushes, record puts, request adds; permissions: grants; identity: accepted
 * memberships) run two replicas each. Two faults, each on every write made while it is on:
 * - death: replica A dies after its transaction committed, before it replied or acked. Its RPC
 *   server's connection goes through a fault proxy, reset at that moment (reconnections refused
 *   for 0.5 s), and the handler never returns: the broker redelivers the request to replica B.
 *   In one process a SIGKILL would kill every service; what the broker and replica B see is the
 *   same (a connection gone, an unacked request), see the report for the SIGKILL runs.
 * - cut: the gateway's AMQP connection is reset after the service committed, before its reply
 *   reached the gateway: the caller gets a 503 and retries with the same Idempotency-Key.
 * Every caller retries on 503 with its key; each write must be present exactly once and each
 * caller's final answer be the one correct answer.
 */
const HANDLERS: ServiceName[] = ['resources', 'permissions', 'identity'];
const TRIALS_PER_OPERATION = Number(process.env.IDEMPOTENCY_TRIALS ?? 100);
const WORKERS = 25;
const SETUP_WORKERS = 8;
const ORGANIZATIONS_PER_OWNER = 10;
const GATEWAY_RPC_TIMEOUT_MS = 3000;
const MAX_ATTEMPTS = 20;
const OPERATIONS = ['push', 'record', 'request', 'grant', 'membership'] as const;
type Operation = (typeof OPERATIONS)[number];
type Mode = 'death' | 'cut';

describe('faults: write RPCs effectively once (issue 17)', () => {
  let t: FaultStack;
  let gatewayProxy: FaultProxy;
  const replicaProxies = new Map<ServiceName, FaultProxy>();
  const replicasB = new Map<ServiceName, INestMicroservice>();
  const dataSources: { service: ServiceName; replica: 'A' | 'B'; ds: ServiceDataSource }[] = [];
  let mode: Mode | undefined;
  const faultedKeys = new Set<string>();
  const faulted: Record<Mode, number> = { death: 0, cut: 0 };
  let release!: () => void;
  const released = new Promise<void>((done) => (release = done));
  const down = new Set<ServiceName>();
  let pendingCut: Promise<void> | undefined;
  /** While set, keyed transactions stall this long after their work, before COMMIT. */
  let stallMs = 0;

  /** Replica A's death: its RPC connection reset, reconnections refused for a while. */
  const die = (service: ServiceName) => {
    if (down.has(service)) return;
    down.add(service);
    const proxy = replicaProxies.get(service)!;
    proxy.refuse();
    proxy.reset();
    setTimeout(() => {
      proxy.restore();
      down.delete(service);
    }, 500);
  };
  /** One reset of the gateway's connection for every commit made within 50 ms. */
  const cutGateway = () =>
    (pendingCut ??= sleep(50).then(() => {
      gatewayProxy.reset();
      pendingCut = undefined;
    }));

  const hook = (service: ServiceName, replica: 'A' | 'B', ds: ServiceDataSource) => {
    dataSources.push({ service, replica, ds });
    const original = ds.transaction.bind(ds) as (...args: unknown[]) => Promise<unknown>;
    (ds as unknown as { transaction: unknown }).transaction = async (...args: unknown[]) => {
      const key = currentIdempotencyKey();
      const last = args.length - 1;
      const work = args[last] as (manager: unknown) => Promise<unknown>;
      if (key && stallMs)
        args[last] = async (manager: unknown) => {
          const done = await work(manager);
          await sleep(stallMs);
          return done;
        };
      const result = await original(...args);
      if (!mode || !key || faultedKeys.has(key)) return result;
      if (mode === 'death' && replica === 'A') {
        faultedKeys.add(key);
        faulted.death++;
        die(service);
        await released; // a dead replica never answers
      } else if (mode === 'cut') {
        faultedKeys.add(key);
        faulted.cut++;
        await cutGateway();
      }
      return result;
    };
  };

  beforeAll(async () => {
    gatewayProxy = await startFaultProxy({ port: Number(new URL(TEST_AMQP_URL).port || 5672) });
    for (const service of HANDLERS)
      replicaProxies.set(
        service,
        await startFaultProxy({ port: Number(new URL(TEST_AMQP_URL).port || 5672) }),
      );
    t = await startFaultStack({
      amqp: { gateway: gatewayProxy.url(TEST_AMQP_URL) },
      rpcServerAmqp: Object.fromEntries(HANDLERS.map((s) => [s, replicaProxies.get(s)!.url(TEST_AMQP_URL)])),
      // A reply lost with the gateway's connection is found at this deadline; then the caller retries.
      gatewayEnv: { RPC_TIMEOUT_MS: String(GATEWAY_RPC_TIMEOUT_MS) },
    });
    for (const service of HANDLERS) {
      const config = testServiceConfig(t.db.url, { AMQP_URL: TEST_AMQP_URL });
      const app = await startServiceApp(SERVICE_MODULES[service].forRoot(config), service, {
        amqpUrl: TEST_AMQP_URL,
        logLevel: config.LOG_LEVEL,
      });
      replicasB.set(service, app);
      hook(service, 'A', t.services.get(service)!.get(DataSource) as ServiceDataSource);
      hook(service, 'B', app.get(DataSource) as ServiceDataSource);
    }
    await t.waitReady(30_000);
  }, 120_000);

  afterAll(async () => {
    mode = undefined;
    release();
    await sleep(200);
    for (const app of replicasB.values()) await app.close();
    await t?.close();
    await gatewayProxy?.close();
    for (const proxy of replicaProxies.values()) await proxy.close();
  }, 120_000);

  const countOf = async (query: string, params: unknown[]) =>
    Number((await t.sql.query(query, params)).rows[0].n);

  /** Runs `count` times `work` on WORKERS concurrent callers. */
  async function inParallel(count: number, work: (i: number) => Promise<void>, workers = WORKERS) {
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(workers, count) }, async () => {
        while (next < count) await work(next++);
      }),
    );
  }

  /** A request sent until it gets a non-503 answer (the machine is loaded; a 503 may be its fault). */
  async function retried(send: () => Promise<Answer>): Promise<Answer & { attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      const answer = await send();
      if ((answer.status !== 503 && answer.status !== 0) || attempt === MAX_ATTEMPTS)
        return { ...answer, attempts: attempt };
      await sleep(200);
    }
  }

  /** A write sent until it gets a non-503 answer, always with the same key. */
  function keyed(method: string, path: string, token: string, body: unknown) {
    const key = randomUUID();
    return retried(() => t.api(method, path, token, body, 10_000, { 'idempotency-key': key }));
  }

  /** A user signed up with a keyed, retried request (hashing a password takes a while here). */
  async function signUp(prefix: string): Promise<{ id: string; username: string; token: string }> {
    const username = uniqueName(prefix);
    const res = await keyed('POST', '/v2/auth/signup', '', {
      email: `${username}@example.com`,
      username,
      password: 'correct horse battery',
    });
    if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { id: res.body.data.user.id, username, token: res.body.data.accessToken };
  }

  it.each<Mode>(['death', 'cut'])(
    'writes each of %s-faulted pushes, puts, request adds, grants and memberships once',
    async (fault) => {
      const started = Date.now();
      const alice = await signUp(`${fault}-alice`);
      const bob = await signUp(`${fault}-bob`);
      const n = TRIALS_PER_OPERATION;
      const created = async (path: string, token = alice.token, body?: unknown) => {
        // Retried with its key as the trials are: the machine is loaded, a 503 is no failure here.
        const res = await keyed('POST', path, token, body);
        if (res.status !== 201) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
        return res.body.data.id as string;
      };
      // Targets made before the fault is on: one store of each kind per caller, and one dataset
      // to share and one organization invitation to accept per trial.
      const datasets: string[] = [];
      const stores: string[] = [];
      const queues: string[] = [];
      const granted: string[] = [];
      const invitations: { org: string; invitation: string }[] = [];
      await inParallel(
        WORKERS,
        async (i) => {
          datasets[i] = await created(`/v2/datasets?name=${uniqueName('d')}`);
          stores[i] = await created(`/v2/key-value-stores?name=${uniqueName('s')}`);
          queues[i] = await created(`/v2/request-queues?name=${uniqueName('q')}`);
        },
        SETUP_WORKERS,
      );
      // One user may own 10 organizations: one owner per 10 invitations.
      const owners: string[] = [];
      await inParallel(
        Math.ceil(n / ORGANIZATIONS_PER_OWNER),
        async (i) => {
          owners[i] = (await signUp(`${fault}-owner`)).token;
        },
        SETUP_WORKERS,
      );
      await inParallel(
        n,
        async (i) => {
          granted[i] = await created(`/v2/datasets?name=${uniqueName('g')}`);
          const owner = owners[Math.floor(i / ORGANIZATIONS_PER_OWNER)];
          const org = await created('/v2/organizations', owner, { username: uniqueName('org') });
          const roles = await retried(() => t.api('GET', `/v2/organizations/${org}/roles`, owner));
          if (roles.status !== 200) throw new Error(`roles: ${roles.status} ${JSON.stringify(roles.body)}`);
          const roleId = roles.body.data.items.find((r: { name: string }) => r.name !== 'Owner')?.id;
          const invitation = await created(`/v2/organizations/${org}/invitations`, owner, {
            user: bob.username,
            roleId,
          });
          invitations[i] = { org, invitation };
        },
        SETUP_WORKERS,
      );
      const setupMs = Date.now() - started;

      const marker = `${fault}-${randomUUID().slice(0, 8)}`;
      const before = { ...faulted };
      const replayedBefore = dataSources.reduce((sum, d) => sum + d.ds.replayedTransactions, 0);
      const answers: Record<Operation, (Answer & { attempts: number })[]> = {
        push: [],
        record: [],
        request: [],
        grant: [],
        membership: [],
      };
      mode = fault;
      const faultStarted = Date.now();
      await inParallel(n * OPERATIONS.length, async (j) => {
        const op = OPERATIONS[j % OPERATIONS.length];
        const i = Math.floor(j / OPERATIONS.length);
        const w = i % WORKERS;
        const id = `${marker}-${i}`;
        if (op === 'push')
          answers.push[i] = await keyed('POST', `/v2/datasets/${datasets[w]}/items`, alice.token, [
            { m: id },
          ]);
        else if (op === 'record')
          answers.record[i] = await keyed(
            'PUT',
            `/v2/key-value-stores/${stores[w]}/records/${id}`,
            alice.token,
            {
              m: id,
            },
          );
        else if (op === 'request')
          answers.request[i] = await keyed('POST', `/v2/request-queues/${queues[w]}/requests`, alice.token, {
            uniqueKey: id,
            url: `https://example.com/${id}`,
          });
        else if (op === 'grant')
          answers.grant[i] = await keyed('POST', `/v2/datasets/${granted[i]}/access/grants`, alice.token, {
            user: bob.username,
            permissions: ['READ'],
          });
        else
          answers.membership[i] = await keyed(
            'POST',
            `/v2/invitations/${invitations[i].invitation}/accept`,
            bob.token,
            undefined,
          );
      });
      mode = undefined;
      const faultMs = Date.now() - faultStarted;

      // What is stored: exactly one of each write.
      const like = `${marker}-%`;
      const stored = {
        push: await countOf(`SELECT count(*) AS n FROM resources.dataset_item WHERE data->>'m' LIKE $1`, [
          like,
        ]),
        record: await countOf(`SELECT count(*) AS n FROM resources.key_value_record WHERE key LIKE $1`, [
          like,
        ]),
        request: await countOf(`SELECT count(*) AS n FROM resources.queue_request WHERE unique_key LIKE $1`, [
          like,
        ]),
        grant: await countOf(`SELECT count(*) AS n FROM permissions.grant WHERE resource_id = ANY($1)`, [
          granted,
        ]),
        membership: await countOf(
          `SELECT count(*) AS n FROM identity.organization_member WHERE user_id = $1 AND organization_id = ANY($2) AND active`,
          [bob.id, invitations.map((x) => x.org)],
        ),
      };
      const distinctPushes = await countOf(
        `SELECT count(DISTINCT data->>'m') AS n FROM resources.dataset_item WHERE data->>'m' LIKE $1`,
        [like],
      );
      const recordCounts = await countOf(
        `SELECT coalesce(sum(record_count), 0) AS n FROM resources.key_value_store WHERE id = ANY($1)`,
        [stores],
      );
      const grantIds = new Set(
        (
          await t.sql.query(`SELECT id FROM permissions.grant WHERE resource_id = ANY($1)`, [granted])
        ).rows.map((r) => r.id),
      );
      const distinctTargets = {
        grant: await countOf(
          `SELECT count(DISTINCT resource_id) AS n FROM permissions.grant WHERE resource_id = ANY($1)`,
          [granted],
        ),
        membership: await countOf(
          `SELECT count(DISTINCT organization_id) AS n FROM identity.organization_member WHERE user_id = $1 AND organization_id = ANY($2) AND active`,
          [bob.id, invitations.map((x) => x.org)],
        ),
      };
      // What each caller was finally told: the one correct answer, or a 503 (its write being
      // there exactly once all the same: the counts above).
      const correct: Record<Operation, (a: Answer) => boolean> = {
        push: (a) => a.status === 201,
        record: (a) => a.status === 201 || a.status === 200,
        request: (a) => a.status === 201 && a.body.data.wasAlreadyPresent === false,
        grant: (a) => a.status === 201 && grantIds.has(a.body.data.id),
        membership: (a) => a.status === 200,
      };
      // Distinct writes stored (one per trial at most: records and requests by their unique key).
      const distinct: Record<Operation, number> = {
        push: distinctPushes,
        record: stored.record,
        request: stored.request,
        grant: distinctTargets.grant,
        membership: distinctTargets.membership,
      };
      const figures = OPERATIONS.map((op) => ({
        op,
        trials: answers[op].length,
        stored: stored[op],
        duplicates: stored[op] - distinct[op],
        // Acknowledged writes not stored (a 503 after every retry may or may not have been written).
        lost: Math.max(0, answers[op].filter((a) => correct[op](a)).length - distinct[op]),
        wrongAnswers: answers[op].filter((a) => a.status !== 503 && !correct[op](a)).length,
        unanswered: answers[op].filter((a) => a.status === 503).length,
        retried: answers[op].filter((a) => a.attempts > 1).length,
        statuses: statusCounts(answers[op]),
      }));
      const replayed = dataSources.reduce((sum, d) => sum + d.ds.replayedTransactions, 0) - replayedBefore;
      console.log(
        `[${fault}] ${n * OPERATIONS.length} trials in ${(faultMs / 1000).toFixed(1)} s (setup ${(setupMs / 1000).toFixed(1)} s); ` +
          `commits faulted: ${faulted[fault] - before[fault]}; keyed transactions answered from the record: ${replayed}\n` +
          figures.map((f) => `  ${JSON.stringify(f)}`).join('\n'),
      );
      for (const f of figures) {
        expect({ op: f.op, duplicates: f.duplicates, lost: f.lost, wrongAnswers: f.wrongAnswers }).toEqual({
          op: f.op,
          duplicates: 0,
          lost: 0,
          wrongAnswers: 0,
        });
        // Every trial's write is there unless its caller was finally told 503.
        expect(distinct[f.op]).toBeGreaterThanOrEqual(n - f.unanswered);
      }
      expect(recordCounts).toBe(stored.record);
      // The fault really happened, and the record answered it. (Deaths hit only the requests that
      // replica A took: about half, fewer while it is down and B takes them all: 82-127 of 500.)
      expect(faulted[fault] - before[fault]).toBeGreaterThan(n / 4);
      expect(replayed).toBeGreaterThan(0);
    },
    240_000,
  );

  it("never commits a write whose transaction is still open at its caller's deadline", async () => {
    const alice = await signUp('stall-alice');
    const dataset = await keyed('POST', `/v2/datasets?name=${uniqueName('stalled')}`, alice.token, undefined);
    expect(dataset.status).toBe(201);
    const marker = `stall-${randomUUID()}`;
    // The consumer stalls past the gateway's deadline before COMMIT.
    stallMs = GATEWAY_RPC_TIMEOUT_MS + 500;
    const answer = await t.api('POST', `/v2/datasets/${dataset.body.data.id}/items`, alice.token, [
      { m: marker },
    ]);
    await sleep(stallMs + 500);
    stallMs = 0;
    const stored = await countOf(`SELECT count(*) AS n FROM resources.dataset_item WHERE data->>'m' = $1`, [
      marker,
    ]);
    console.log(`[deadline] push answered ${answer.status} in ${answer.ms} ms; items stored: ${stored}`);
    expect(answer.status).toBe(503);
    expect(stored).toBe(0);
    // The same push with no stall is written (the rollback was the deadline's doing).
    const again = await t.api('POST', `/v2/datasets/${dataset.body.data.id}/items`, alice.token, [
      { m: marker },
    ]);
    expect(again.status).toBe(201);
    expect(
      await countOf(`SELECT count(*) AS n FROM resources.dataset_item WHERE data->>'m' = $1`, [marker]),
    ).toBe(1);
  }, 30_000);
});
