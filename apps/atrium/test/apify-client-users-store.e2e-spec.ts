import { uniqueName } from '@atrium/testing';
import { ApifyClient } from 'apify-client';
import {
  createOrganization,
  joinOrganization,
  SignedUpUser,
  signUp,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from './test-stack';

const GIB = 2 ** 30;

/**
 * apify-client's UserClient (profile, limits, monthly usage from Atrium's usage ledger, updating
 * the limits Atrium has) and StoreCollectionClient (public Actors only) against Atrium (issue 13, part 4).
 */
describe('apify-client users and store against Atrium', () => {
  let t: TestStack;
  let baseUrl: string;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let aliceApiToken: string;
  const client = (token?: string, accountId?: string) =>
    new ApifyClient({
      baseUrl,
      publicBaseUrl: baseUrl,
      token,
      maxRetries: 0,
      // Acting inside an organization, as the console does: the X-Account-Id header.
      requestInterceptors: accountId
        ? [
            (config) => {
              config.headers = { ...config.headers, 'x-account-id': accountId } as typeof config.headers;
              return config;
            },
          ]
        : [],
    });
  const apiError = async (call: Promise<unknown>) => {
    try {
      await call;
    } catch (err) {
      const { statusCode, type, message } = err as { statusCode: number; type: string; message: string };
      return { statusCode, type, message };
    }
    throw new Error('expected the call to fail');
  };

  beforeAll(async () => {
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
    aliceApiToken = (
      await t.http().post('/v2/users/me/tokens').set(alice.auth).send({ name: 'sdk' }).expect(201)
    ).body.data.token;
  });
  afterAll(() => t.close());

  describe('UserClient.get', () => {
    it("gives the caller's own account to a JWT, an API token and a run token (the run token without email)", async () => {
      for (const token of [alice.accessToken, aliceApiToken]) {
        expect(await client(token).user().get()).toMatchObject({
          id: alice.id,
          username: alice.username,
          email: `${alice.username}@example.com`,
        });
      }
      const actor = await client(alice.accessToken)
        .actors()
        .create({ name: uniqueName('me') });
      const run = (await client(alice.accessToken).actor(actor.id).start()) as {
        id: string;
        runToken?: string;
      };
      const fromRun = await client(run.runToken).user().get();
      expect(fromRun).toMatchObject({ id: alice.id, username: alice.username });
      expect(fromRun).not.toHaveProperty('email');
      // A run token still reaches no other account route.
      expect(await apiError(client(run.runToken).user().limits())).toMatchObject({
        statusCode: 403,
        type: 'insufficient-permissions',
      });
      await t.http().get('/v2/users/me').expect(401);
    });

    it('gives anyone the public profile by id or username, never the email', async () => {
      for (const ref of [alice.id, alice.username]) {
        const profile = await client().user(ref).get();
        expect(profile).toEqual({ id: alice.id, username: alice.username });
      }
      expect(await client(bob.accessToken).user(alice.username).get()).not.toHaveProperty('email');
      // Unknown, or an email (never looked up): the same 404.
      expect(await client().user('nobody-like-this').get()).toBeUndefined();
      await t
        .http()
        .get(`/v2/users/${encodeURIComponent(`${alice.username}@example.com`)}`)
        .expect(404);
    });
  });

  describe('UserClient.limits, updateLimits and monthlyUsage', () => {
    it("reports Apify's limits shape from Atrium's counters, zero where Atrium has no such meter", async () => {
      const owner = client(alice.accessToken);
      const before = (await owner.user().limits())!;
      const actor = await owner.actors().create({ name: uniqueName('counted') });
      await owner.tasks().create({ actId: actor.id, name: uniqueName('task') });
      const run = await owner.actor(actor.id).start(undefined, { memory: 2048 });
      const limits = (await owner.user().limits())!;

      const now = new Date();
      expect(limits.monthlyUsageCycle.startAt).toEqual(
        new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
      );
      expect(limits.monthlyUsageCycle.endAt).toEqual(
        new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - 1),
      );
      expect(limits.limits).toMatchObject({
        maxActorCount: 10_000,
        maxActorTaskCount: 10_000,
        maxStorageBytes: 10 * GIB,
        maxRunTimeSecs: 3_600_000,
        maxMonthlyUsageUsd: 0,
        dataRetentionDays: 0,
        maxConcurrentActorJobs: 0,
      });
      expect(limits.current).toMatchObject({
        actorCount: before.current.actorCount + 1,
        actorTaskCount: before.current.actorTaskCount + 1,
        activeActorJobCount: before.current.activeActorJobCount + 1,
        actorMemoryGbytes: before.current.actorMemoryGbytes + 2,
        monthlyUsageUsd: 0,
        monthlyProxySerps: 0,
      });
      await owner.run(run.id).abort();
      const after = (await owner.user().limits())!;
      expect(after.current.activeActorJobCount).toBe(before.current.activeActorJobCount);
      expect(after.current.actorMemoryGbytes).toBe(before.current.actorMemoryGbytes);
    });

    it('updates the limits Atrium has under their Apify names, and refuses the ones it has not', async () => {
      const owner = client(bob.accessToken);
      await owner.actors().create({ name: uniqueName('first') });
      await owner.user().updateLimits({ maxActorCount: 1 } as never);
      expect((await owner.user().limits())!.limits.maxActorCount).toBe(1);
      expect(await apiError(owner.actors().create({ name: uniqueName('second') }))).toMatchObject({
        statusCode: 402,
        type: 'quota-exceeded',
      });

      for (const [field, why] of [
        ['maxMonthlyUsageUsd', 'USD'],
        ['dataRetentionDays', 'retention'],
      ]) {
        const refused = await apiError(owner.user().updateLimits({ [field]: 10 } as never));
        expect(refused).toMatchObject({ statusCode: 400, type: 'invalid-input' });
        expect(refused.message).toContain(`body.${field}`);
        expect(refused.message).toContain(why);
      }
      const bad = await t
        .http()
        .put('/v2/users/me/limits')
        .set(bob.auth)
        .send({ maxActorCount: -1 })
        .expect(400);
      expect(bad.body.error.message).toContain('maxActorCount');
      const twice = await t
        .http()
        .put('/v2/users/me/limits')
        .set(bob.auth)
        .send({ maxActorCount: 3, resources: { ACTOR: 4 } })
        .expect(400);
      expect(twice.body.error.message).toContain('body.maxActorCount');
      // Nothing of a refused change applied.
      expect((await owner.user().limits())!.limits.maxActorCount).toBe(1);
      // A scoped token may not change limits; anonymous callers get 401.
      const scoped = (
        await t
          .http()
          .post('/v2/users/me/tokens')
          .set(bob.auth)
          .send({ name: 'narrow', scope: { account: { ACTOR: ['READ'] } } })
          .expect(201)
      ).body.data.token;
      expect(
        await apiError(
          client(scoped)
            .user()
            .updateLimits({ maxActorCount: 5 } as never),
        ),
      ).toMatchObject({
        statusCode: 403,
      });
      await t.http().get('/v2/users/me/limits').expect(401);

      await owner.user().updateLimits({ maxActorCount: null } as never);
      await owner.actors().create({ name: uniqueName('second') });
    });

    it('computes monthly usage from the ledger: compute units of finished runs and storage GB-hours, by day', async () => {
      const carol = await signUp(t, uniqueName('carol'));
      const owner = client(carol.accessToken);
      const empty = (await owner.user().monthlyUsage())!;
      expect(empty.monthlyServiceUsage.ACTOR_COMPUTE_UNITS).toMatchObject({ quantity: 0, baseAmountUsd: 0 });
      expect(empty.totalUsageCreditsUsdBeforeVolumeDiscount).toBe(0);

      const actor = await owner.actors().create({ name: uniqueName('metered') });
      const run = await owner.actor(actor.id).start({ q: 1 }, { memory: 1024 });
      await owner.run(run.id).update({ status: 'RUNNING' } as never);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const finished = await owner.run(run.id).update({ status: 'SUCCEEDED' } as never);
      const secs = Math.ceil((finished.finishedAt!.getTime() - finished.startedAt.getTime()) / 1000);
      await owner.dataset(run.defaultDatasetId).pushItems([{ text: 'x'.repeat(1000) }]);

      const usage = (await owner.user().monthlyUsage())!;
      expect(usage.monthlyServiceUsage.ACTOR_COMPUTE_UNITS.quantity).toBeCloseTo(
        (secs * 1024) / 1024 / 3600,
        9,
      );
      // The input record (stored with the run) and the pushed item, held since then.
      const storeHours = usage.monthlyServiceUsage.KEY_VALUE_STORE_TIMED_STORAGE_GBYTE_HOURS.quantity;
      const datasetHours = usage.monthlyServiceUsage.DATASET_TIMED_STORAGE_GBYTE_HOURS.quantity;
      expect(storeHours).toBeGreaterThan(0);
      expect(datasetHours).toBeGreaterThan(0);
      // ≈ 1 KB for at most a minute.
      expect(datasetHours).toBeLessThan((2000 / GIB) * (60 / 3600));
      expect(usage.monthlyServiceUsage.REQUEST_QUEUE_TIMED_STORAGE_GBYTE_HOURS.quantity).toBe(0);
      // The daily breakdown adds up to the month; every amount in USD is 0 (Atrium prices nothing).
      const today = new Date(new Date().toISOString().slice(0, 10));
      expect(usage.dailyServiceUsages.map((d) => d.date)).toEqual([today]);
      expect(usage.dailyServiceUsages[0].serviceUsage.ACTOR_COMPUTE_UNITS.quantity).toBeCloseTo(
        usage.monthlyServiceUsage.ACTOR_COMPUTE_UNITS.quantity,
        12,
      );
      expect(usage.dailyServiceUsages[0].totalUsageCreditsUsd).toBe(0);
      expect((await owner.user().limits())!.current.monthlyActorComputeUnits).toBeCloseTo(
        usage.monthlyServiceUsage.ACTOR_COMPUTE_UNITS.quantity,
        9,
      );

      // Another month (?date=): its own cycle, nothing used in it.
      const earlier = await t
        .http()
        .get('/v2/users/me/usage/monthly?date=2024-02-10')
        .set(carol.auth)
        .expect(200);
      expect(earlier.body.data.usageCycle).toEqual({
        startAt: '2024-02-01T00:00:00.000Z',
        endAt: '2024-02-29T23:59:59.999Z',
      });
      expect(earlier.body.data.dailyServiceUsages).toEqual([]);
      expect(earlier.body.data.monthlyServiceUsage.ACTOR_COMPUTE_UNITS.quantity).toBe(0);
      for (const date of ['2024-02-30', 'yesterday', '2024-2-1']) {
        const bad = await t.http().get(`/v2/users/me/usage/monthly?date=${date}`).set(carol.auth).expect(400);
        expect(bad.body.error).toMatchObject({ type: 'invalid-input' });
        expect(bad.body.error.message).toContain('query.date');
      }
    });

    it("gives an organization's limits and usage (X-Account-Id) to members whose role allows it", async () => {
      const [dave, erin] = await signUpEach(t, 'dave', 'erin');
      const org = await createOrganization(t, alice);
      await joinOrganization(t, alice, org.id, dave, org.roleId('Developer'));
      await client(alice.accessToken, org.id)
        .actors()
        .create({ name: uniqueName('org-actor') });

      const asOwner = (await client(alice.accessToken, org.id).user().limits())!;
      expect(asOwner.current.actorCount).toBe(1);
      expect((await client(alice.accessToken).user().limits())!.current.actorCount).not.toBe(1);
      expect((await client(alice.accessToken, org.id).user().monthlyUsage())!.usageCycle).toBeDefined();
      await client(alice.accessToken, org.id)
        .user()
        .updateLimits({ maxActorCount: 7 } as never);
      expect((await client(alice.accessToken, org.id).user().limits())!.limits.maxActorCount).toBe(7);

      // A Developer holds neither VIEW_INVOICES nor MANAGE_BILLING; a non-member learns nothing.
      expect(await apiError(client(dave.accessToken, org.id).user().limits())).toMatchObject({
        statusCode: 403,
        type: 'insufficient-permissions',
      });
      expect(
        await apiError(
          client(dave.accessToken, org.id)
            .user()
            .updateLimits({ maxActorCount: 9 } as never),
        ),
      ).toMatchObject({ statusCode: 403 });
      // limits() answers undefined for a 404, as apify-client does for an unknown record.
      expect(await client(erin.accessToken, org.id).user().limits()).toBeUndefined();
      await t
        .http()
        .get('/v2/users/me/usage/monthly')
        .set({ ...erin.auth, 'x-account-id': org.id })
        .expect(404);
      expect((await client(alice.accessToken, org.id).user().limits())!.limits.maxActorCount).toBe(7);
    });
  });

  describe('StoreCollectionClient.list', () => {
    it('lists public Actors to anyone in the store-item shape, never a private one, with search and filters', async () => {
      const owner = client(alice.accessToken);
      const word = uniqueName('zebra');
      const published = await owner.actors().create({
        name: uniqueName('pub'),
        title: `The ${word} scraper`,
        description: 'Finds stripes',
        categories: ['MARKETING'],
        isPublic: true,
      } as never);
      const hidden = await owner.actors().create({
        name: uniqueName('priv'),
        title: `The hidden ${word} scraper`,
        isPublic: false,
      } as never);
      const other = await client(bob.accessToken)
        .actors()
        .create({
          name: uniqueName('bobs'),
          title: 'Another public one',
          categories: ['AI'],
          isPublic: true,
        } as never);
      // Bob runs alice's public Actor: the store's stats count it.
      await client(bob.accessToken).actor(published.id).start();

      const anonymous = await client().store().list();
      const ids = anonymous.items.map((i) => i.id);
      expect(ids).toEqual(expect.arrayContaining([published.id, other.id]));
      expect(ids).not.toContain(hidden.id);
      expect(anonymous.items.find((i) => i.id === published.id)).toMatchObject({
        id: published.id,
        title: `The ${word} scraper`,
        name: published.name,
        username: alice.username,
        description: 'Finds stripes',
        categories: ['MARKETING'],
        stats: { totalRuns: 1, totalUsers: 1, totalUsers7Days: 1, totalBuilds: 0, totalMetamorphs: 0 },
        currentPricingInfo: { pricingModel: 'FREE' },
      });
      expect(anonymous.items.find((i) => i.id === published.id)).not.toHaveProperty('userId');
      // Signed in, even as the owner, the store is the same: public Actors only.
      expect((await owner.store().list()).items.map((i) => i.id)).not.toContain(hidden.id);

      expect((await client().store().list({ search: word })).items.map((i) => i.id)).toEqual([published.id]);
      expect((await client().store().list({ search: alice.username })).items.map((i) => i.id)).toEqual([
        published.id,
      ]);
      expect((await client().store().list({ username: bob.username })).items.map((i) => i.id)).toEqual([
        other.id,
      ]);
      expect((await client().store().list({ username: 'no-such-user-here' })).items).toEqual([]);
      expect((await client().store().list({ category: 'AI' })).items.map((i) => i.id)).toEqual([other.id]);
      expect((await client().store().list({ sortBy: 'newest' })).items[0].id).toBe(other.id);
      expect((await client().store().list({ sortBy: 'popularity' })).items[0].id).toBe(published.id);
      const paged = await client().store().list({ sortBy: 'newest', offset: 1, limit: 1 });
      expect(paged).toMatchObject({ offset: 1, limit: 1, count: 1, total: 2 });
      expect(paged.items[0].id).toBe(published.id);
      expect((await client().store().list({ pricingModel: 'PAY_PER_EVENT' })).items).toEqual([]);

      const bad = await t.http().get('/v2/store?sortBy=random').expect(400);
      expect(bad.body.error).toMatchObject({ type: 'invalid-input' });
      expect(bad.body.error.message).toContain('query.sortBy');
      await t.http().get('/v2/store?limit=-1').expect(400);
    });

    it('drops an Actor made private at once, and lists it again once published', async () => {
      const owner = client(alice.accessToken);
      const actor = await owner.actors().create({ name: uniqueName('flip'), isPublic: true } as never);
      expect((await client().store().list()).items.map((i) => i.id)).toContain(actor.id);
      await owner.actor(actor.id).update({ isPublic: false } as never);
      expect((await client().store().list()).items.map((i) => i.id)).not.toContain(actor.id);
      expect((await client(bob.accessToken).store().list({ search: actor.name })).items).toEqual([]);
      await owner.actor(actor.id).update({ isPublic: true } as never);
      expect((await client().store().list({ search: actor.name })).items.map((i) => i.id)).toEqual([
        actor.id,
      ]);
    });
  });
});
