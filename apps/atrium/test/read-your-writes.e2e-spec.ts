import { createGatewayApp } from '@atrium/gateway';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { TEST_PASSWORD } from '@atrium/testing';
import {
  createActor,
  createDataset,
  createOrganization,
  replicaGatewayConfig,
  restrictResourceAccess,
  SignedUpUser,
  signUpEach,
  startTestStack,
  TEST_DISTRIBUTED,
  TEST_EMBEDDED,
  TestOrganization,
  TestStack,
} from './test-stack';

/**
 * Trials per case: 100 in `npm test`; 10 when CI runs the e2e suites again in the embedded and
 * distributed modes (the same code, other transports). docs/RELIABILITY.md's figures are from
 * READ_YOUR_WRITES_TRIALS=200.
 */
const TRIALS = Number(process.env.READ_YOUR_WRITES_TRIALS ?? (TEST_EMBEDDED || TEST_DISTRIBUTED ? 10 : 100));
/**
 * Read-your-writes on EVERY replica: when a call that gives access answers on gateway 1, the very
 * next request — sent at once, to gateway 2 — already has that access. Gateway 2 is first made to
 * hold what it would have cached before the change (a 403 on the permission about to be given),
 * so a stale cache fails the trial as surely as a grant not yet applied.
 */
describe('read-your-writes of access, across gateway replicas', () => {
  let t: TestStack;
  let replica: NestFastifyApplication;
  let alice: SignedUpUser; // owns a public Actor, datasets and an organization
  let bob: SignedUpUser; // runs alice's Actor, reports issues; an organization member
  let carol: SignedUpUser; // a grantee
  let org: TestOrganization;
  const first = () => t.http();
  const second = () => request(replica.getHttpServer());
  const report: string[] = [];

  beforeAll(async () => {
    t = await startTestStack();
    replica = await createGatewayApp(replicaGatewayConfig());
    await replica.getHttpAdapter().getInstance().ready();
    [alice, bob, carol] = await signUpEach(t, 'alice', 'bob', 'carol');
    await restrictResourceAccess(t, alice, bob, carol);
    org = await createOrganization(t, alice);
    await first()
      .put(`/v2/organizations/${org.id}`)
      .set(alice.auth)
      .send({ settings: { generalResourceAccess: 'RESTRICTED' } })
      .expect(200);
  }, 60_000);
  afterAll(async () => {
    // The figures, in one block, for the report (and docs/RELIABILITY.md).
    process.stdout.write(
      `\nread-your-writes figures (gateway 1 writes, gateway 2 reads at +0 ms):\n${report.join('\n')}\n`,
    );
    await replica.close();
    await t.close();
  });

  /** Polls gateway 2 until it answers `status` (setting up a trial, not measured). */
  async function until(status: number, send: () => request.Test, timeoutMs = 3000): Promise<void> {
    const started = Date.now();
    for (;;) {
      const res = await send();
      if (res.status === status) return;
      if (Date.now() - started > timeoutMs)
        throw new Error(`still ${res.status} after ${timeoutMs} ms, wanted ${status}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  const percentile = (sorted: number[], p: number) =>
    sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];

  /**
   * Runs `TRIALS` trials: `prepare` (not measured), then `write` on gateway 1 (timed: the write's
   * latency), then at once `read` on gateway 2, which must answer `expected` (and, where the trial
   * says, show the write: `shows`).
   */
  async function trials(
    name: string,
    expected: number,
    trial: () => Promise<{
      write: () => Promise<unknown>;
      read: () => request.Test;
      shows?: (res: request.Response) => boolean;
      after?: () => Promise<unknown>;
    }>,
    count = TRIALS,
  ): Promise<void> {
    const latencies: number[] = [];
    const failures: string[] = [];
    for (let i = 0; i < count; i++) {
      const { write, read, shows, after } = await trial();
      const started = performance.now();
      await write();
      latencies.push(performance.now() - started);
      const res = await read();
      if (res.status !== expected) failures.push(`${res.status}`);
      else if (shows && !shows(res)) failures.push('stale');
      await after?.();
    }
    latencies.sort((a, b) => a - b);
    const byStatus = failures.reduce<Record<string, number>>(
      (acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }),
      {},
    );
    report.push(
      `  ${name}: ${count - failures.length} of ${count} succeeded (failures ${failures.length} ${JSON.stringify(byStatus)}); ` +
        `write p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms`,
    );
    expect({ name, failures: failures.length, byStatus }).toEqual({ name, failures: 0, byStatus: {} });
  }

  it("an issue's attached run is readable by the Actor's owner on the other gateway as soon as the issue is created", async () => {
    const actorId = await createActor(t, alice, { name: 'scraper', isPublic: true });
    await trials('issue-attached run → Actor owner reads it', 200, async () => {
      const run = (await first().post(`/v2/acts/${actorId}/runs`).set(bob.auth).send({ q: 1 }).expect(201))
        .body.data as { id: string };
      await second().get(`/v2/actor-runs/${run.id}`).set(alice.auth).expect(404);
      return {
        write: () =>
          first()
            .post(`/v2/acts/${actorId}/issues`)
            .set(bob.auth)
            .send({ title: 'fails', runId: run.id })
            .expect(201),
        read: () => second().get(`/v2/actor-runs/${run.id}`).set(alice.auth),
      };
    });
  }, 600_000);

  it('a new grant widens what the other gateway had cached (a 403) before the grant answers', async () => {
    const datasetId = await createDataset(t, alice, 'granted');
    // Everyone with the id may READ: gateway 2 caches carol's 403 on WRITE.
    await first()
      .put(`/v2/datasets/${datasetId}`)
      .set(alice.auth)
      .send({ generalAccess: 'ANYONE_WITH_ID_CAN_READ' })
      .expect(200);
    const addItem = () => second().post(`/v2/datasets/${datasetId}/items`).set(carol.auth).send({ x: 1 });
    await trials('new WRITE grant → grantee writes', 201, async () => {
      await until(403, addItem);
      let grantId = '';
      return {
        write: async () => {
          const res = await first()
            .post(`/v2/datasets/${datasetId}/access/grants`)
            .set(alice.auth)
            .send({ user: carol.username, permissions: ['WRITE'] })
            .expect(201);
          grantId = res.body.data.id;
        },
        read: addItem,
        after: () =>
          first().delete(`/v2/datasets/${datasetId}/access/grants/${grantId}`).set(alice.auth).expect(204),
      };
    });
  }, 600_000);

  it('a grant on a resource the grantee could not see is in force on the other gateway at once', async () => {
    const datasetId = await createDataset(t, alice, 'unseen');
    const read = () => second().get(`/v2/datasets/${datasetId}`).set(carol.auth);
    await trials('new READ grant → grantee reads', 200, async () => {
      await until(404, read);
      let grantId = '';
      return {
        write: async () => {
          const res = await first()
            .post(`/v2/datasets/${datasetId}/access/grants`)
            .set(alice.auth)
            .send({ user: carol.username, permissions: ['READ'] })
            .expect(201);
          grantId = res.body.data.id;
        },
        read,
        after: () =>
          first().delete(`/v2/datasets/${datasetId}/access/grants/${grantId}`).set(alice.auth).expect(204),
      };
    });
  }, 600_000);

  it("an organization member's role change takes effect on the other gateway when it answers", async () => {
    const invitation = await first()
      .post(`/v2/organizations/${org.id}/invitations`)
      .set(alice.auth)
      .send({ user: bob.username, roleId: org.roleId('Read only') })
      .expect(201);
    await first().post(`/v2/invitations/${invitation.body.data.id}/accept`).set(bob.auth).expect(200);
    const datasetId = (
      await first().post('/v2/datasets').set(alice.auth).set('x-account-id', org.id).expect(201)
    ).body.data.id as string;
    const addItem = () => second().post(`/v2/datasets/${datasetId}/items`).set(bob.auth).send({ x: 1 });
    const setRole = (role: string) =>
      first()
        .put(`/v2/organizations/${org.id}/members/${bob.id}`)
        .set(alice.auth)
        .send({ roleId: org.roleId(role) })
        .expect(200);
    await trials('role Read only → Developer → member writes', 201, async () => {
      await until(403, addItem);
      return {
        write: () => setRole('Developer'),
        read: addItem,
        after: () => setRole('Read only'),
      };
    });
    await first().delete(`/v2/organizations/${org.id}/members/${bob.id}`).set(alice.auth).expect(204);
  }, 600_000);

  it('a member added to an organization (invitation accepted) reads its resources on the other gateway at once', async () => {
    const datasetId = (
      await first().post('/v2/datasets').set(alice.auth).set('x-account-id', org.id).expect(201)
    ).body.data.id as string;
    const read = () => second().get(`/v2/datasets/${datasetId}`).set(carol.auth);
    await trials('invitation accepted → new member reads', 200, async () => {
      await until(404, read);
      const invitation = await first()
        .post(`/v2/organizations/${org.id}/invitations`)
        .set(alice.auth)
        .send({ user: carol.username, roleId: org.roleId('Read only') })
        .expect(201);
      return {
        write: () =>
          first().post(`/v2/invitations/${invitation.body.data.id}/accept`).set(carol.auth).expect(200),
        read,
        after: () =>
          first().delete(`/v2/organizations/${org.id}/members/${carol.id}`).set(alice.auth).expect(204),
      };
    });
  }, 600_000);

  // Credentials: a revocation or a logout answered on gateway 1 is in force on gateway 2, which
  // had just accepted the credential (and cached its verification), at the very next request.
  const CREDENTIAL_TRIALS = Math.min(TRIALS, 50);

  it("a storage's view changed on one gateway is what the other shows as soon as the change answers", async () => {
    const datasetId = await createDataset(t, alice, 'counted');
    // Gateway 2 serves a storage's view from its cache (`CachedViews`): it reads it all through
    // the write, so a view kept past the write would be served.
    const view = () => second().get(`/v2/datasets/${datasetId}`).set(alice.auth);
    /** Runs `write` while `read` is sent again and again (each answering 200) until it is done. */
    const whileRead = async (read: () => request.Test, write: () => Promise<unknown>) => {
      let writing = true;
      const reading = (async () => {
        while (writing) await read().expect(200);
      })();
      try {
        await write();
      } finally {
        writing = false;
        await reading;
      }
    };
    const whileReading = (write: () => Promise<unknown>) => whileRead(view, write);
    let items = 0;
    await trials('items pushed → other gateway shows the new itemCount', 200, async () => ({
      write: () =>
        whileReading(() =>
          first().post(`/v2/datasets/${datasetId}/items`).set(alice.auth).send({ n: ++items }).expect(201),
        ),
      read: view,
      shows: (res) => res.body.data.itemCount === items,
    }));
    let renames = 0;
    await trials('renamed → other gateway shows the new name', 200, async () => {
      const name = `counted-${++renames}`;
      return {
        write: () =>
          whileReading(() =>
            first().put(`/v2/datasets/${datasetId}`).set(alice.auth).send({ name }).expect(200),
          ),
        read: view,
        shows: (res) => res.body.data.name === name,
      };
    });
    // Carol's sharedWithMe (its page of ids and their views, kept the same way) while grants come and go.
    const restricted = await createDataset(t, alice, 'listed');
    const listed = () => second().get('/v2/datasets?ownership=sharedWithMe&limit=1000').set(carol.auth);
    const lists = (res: request.Response) =>
      (res.body.data.items as { id: string }[]).some((item) => item.id === restricted);
    const whileListing = (write: () => Promise<unknown>) => whileRead(listed, write);
    const grant = async () =>
      (
        await first()
          .post(`/v2/datasets/${restricted}/access/grants`)
          .set(alice.auth)
          .send({ user: carol.username, permissions: ['READ'] })
          .expect(201)
      ).body.data.id as string;
    const revoke = (grantId: string) =>
      first().delete(`/v2/datasets/${restricted}/access/grants/${grantId}`).set(alice.auth).expect(204);
    let grantId = '';
    await trials('READ grant → other gateway lists it in sharedWithMe', 200, async () => ({
      write: () => whileListing(async () => (grantId = await grant())),
      read: listed,
      shows: lists,
      after: () => revoke(grantId),
    }));
    await trials('grant revoked → other gateway no longer lists it', 200, async () => {
      const given = await grant();
      return {
        write: () => whileListing(() => revoke(given)),
        read: listed,
        shows: (res) => !lists(res),
      };
    });
  }, 600_000);

  it('a revoked API token is refused on the other gateway as soon as the revoke answers', async () => {
    await trials(
      'API token revoked → other gateway refuses it',
      401,
      async () => {
        const created = await first()
          .post('/v2/users/me/tokens')
          .set(carol.auth)
          .send({ name: 'revoked-soon' })
          .expect(201);
        const { id, token } = created.body.data as { id: string; token: string };
        const asToken = () => second().get('/v2/users/me').set('authorization', `Bearer ${token}`);
        await asToken().expect(200);
        return {
          write: () => first().delete(`/v2/users/me/tokens/${id}`).set(carol.auth).expect(204),
          read: asToken,
        };
      },
      CREDENTIAL_TRIALS,
    );
  }, 600_000);

  it('a logout ends the session on the other gateway as soon as it answers', async () => {
    await trials(
      'logout → other gateway refuses the access token',
      401,
      async () => {
        const session = (
          await first()
            .post('/v2/auth/login')
            .send({ login: carol.username, password: TEST_PASSWORD })
            .expect(200)
        ).body.data as { accessToken: string; refreshToken: string };
        const asSession = () =>
          second().get('/v2/users/me').set('authorization', `Bearer ${session.accessToken}`);
        await asSession().expect(200);
        return {
          write: () =>
            first().post('/v2/auth/logout').send({ refreshToken: session.refreshToken }).expect(204),
          read: asSession,
        };
      },
      CREDENTIAL_TRIALS,
    );
  }, 600_000);
});
