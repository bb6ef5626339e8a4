import { ApifyClient } from 'apify-client';
import {
  restrictResourceAccess,
  SignedUpUser,
  signUpEach,
  startListeningTestStack,
  TestStack,
} from './test-stack';

/** The official apify-client package, unchanged, against Atrium's gateway on a real port. */
describe('apify-client against Atrium', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let baseUrl: string;
  const client = (token?: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });
  const stranger = () => client(bob.accessToken);

  beforeAll(async () => {
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
  });
  afterAll(() => t.close());

  it('creates, fills, lists, updates and hides a dataset', async () => {
    const apiToken = (
      await t.http().post('/v2/users/me/tokens').set(alice.auth).send({ name: 'sdk' }).expect(201)
    ).body.data.token;
    const owner = client(apiToken);
    const dataset = await owner.datasets().getOrCreate('sdk-data');
    expect(dataset.name).toBe('sdk-data');
    expect(dataset.createdAt).toBeInstanceOf(Date);
    expect((await owner.datasets().getOrCreate('sdk-data')).id).toBe(dataset.id);

    await owner.dataset(dataset.id).pushItems({ n: 1 });
    // Over 1 KB: apify-client sends it brotli-compressed.
    await owner
      .dataset(dataset.id)
      .pushItems(Array.from({ length: 100 }, (_, i) => ({ n: i + 2, pad: 'x'.repeat(20) })));
    const page = await owner.dataset(dataset.id).listItems({ limit: 10, offset: 1, fields: ['n'] });
    expect(page).toMatchObject({ total: 101, offset: 1, limit: 10, count: 10, desc: false });
    expect(page.items[0]).toEqual({ n: 2 });

    const stranger = client(bob.accessToken);
    expect((await stranger.dataset(dataset.id).get())?.id).toBe(dataset.id);
    const updated = await owner.dataset(dataset.id).update({ generalAccess: 'RESTRICTED' } as never);
    expect((updated as unknown as { generalAccess: string }).generalAccess).toBe('RESTRICTED');
    expect(await stranger.dataset(dataset.id).get()).toBeUndefined();
    expect(await client().dataset(dataset.id).get()).toBeUndefined();
  });

  it('pre-signed item URLs open a RESTRICTED dataset anonymously, only what they sign, until rotation', async () => {
    const owner = client(alice.accessToken);
    const dataset = await owner.datasets().getOrCreate('signed-data');
    await owner.dataset(dataset.id).pushItems([{ secret: 1 }]);
    await owner.dataset(dataset.id).update({ generalAccess: 'RESTRICTED' } as never);
    const other = await owner.datasets().getOrCreate('other-data');
    await owner.dataset(other.id).update({ generalAccess: 'RESTRICTED' } as never);

    const url = new URL(await owner.dataset(dataset.id).createItemsPublicUrl({ expiresInSecs: 600 }));
    expect(url.searchParams.get('signature')).toBeTruthy();
    const opened = await fetch(url);
    expect(opened.status).toBe(200);
    expect(await opened.json()).toEqual([{ secret: 1 }]);
    const viaGet = (await owner.dataset(dataset.id).get()) as unknown as { itemsPublicUrl: string };
    expect((await fetch(viaGet.itemsPublicUrl)).status).toBe(200);
    expect(await stranger().dataset(dataset.id).get()).toBeUndefined();

    const signature = url.searchParams.get('signature')!;
    const elsewhere = await fetch(`${baseUrl}/v2/datasets/${other.id}/items?signature=${signature}`);
    expect(elsewhere.status).toBe(403);
    expect(((await elsewhere.json()) as { error: { type: string } }).error.type).toBe('invalid-signature');
    const tampered = await fetch(
      `${baseUrl}/v2/datasets/${dataset.id}/items?signature=${signature.slice(0, -2)}AA`,
    );
    expect(tampered.status).toBe(403);
    // A signature opens content only, never the dataset record itself.
    expect((await fetch(`${baseUrl}/v2/datasets/${dataset.id}?signature=${signature}`)).status).toBe(404);
    const expired = new URL(await owner.dataset(dataset.id).createItemsPublicUrl({ expiresInSecs: -1 }));
    expect((await fetch(expired)).status).toBe(403);

    await t.http().post(`/v2/datasets/${dataset.id}/access/signing-key/rotate`).set(alice.auth).expect(201);
    expect((await fetch(url)).status).toBe(403);
    expect((await fetch(new URL(await owner.dataset(dataset.id).createItemsPublicUrl()))).status).toBe(200);
  });

  it('pre-signed key and record URLs open a RESTRICTED store anonymously, each only what it signs', async () => {
    const owner = client(alice.accessToken);
    const store = await owner.keyValueStores().getOrCreate('signed-store');
    await owner.keyValueStore(store.id).setRecord({ key: 'OUTPUT', value: { ok: true } });
    await owner.keyValueStore(store.id).setRecord({ key: 'SECRET', value: { no: true } });
    await owner.keyValueStore(store.id).update({ generalAccess: 'RESTRICTED' } as never);
    expect(await stranger().keyValueStore(store.id).get()).toBeUndefined();

    const keysUrl = new URL(await owner.keyValueStore(store.id).createKeysPublicUrl({ expiresInSecs: 600 }));
    const keys = await fetch(keysUrl);
    expect(keys.status).toBe(200);
    expect(
      ((await keys.json()) as { data: { items: { key: string }[] } }).data.items.map((i) => i.key),
    ).toEqual(['OUTPUT', 'SECRET']);
    const viaGet = (await owner.keyValueStore(store.id).get()) as unknown as { keysPublicUrl: string };
    expect((await fetch(viaGet.keysPublicUrl)).status).toBe(200);

    const recordUrl = new URL(await owner.keyValueStore(store.id).getRecordPublicUrl('OUTPUT'));
    const record = await fetch(recordUrl);
    expect(record.status).toBe(200);
    expect(await record.json()).toEqual({ ok: true });
    // The OUTPUT signature does not open SECRET, nor does the keys signature open a record.
    const signature = recordUrl.searchParams.get('signature')!;
    expect(
      (await fetch(`${baseUrl}/v2/key-value-stores/${store.id}/records/SECRET?signature=${signature}`))
        .status,
    ).toBe(403);
    expect(
      (
        await fetch(
          `${baseUrl}/v2/key-value-stores/${store.id}/records/OUTPUT?signature=${keysUrl.searchParams.get('signature')}`,
        )
      ).status,
    ).toBe(403);

    await t
      .http()
      .post(`/v2/key-value-stores/${store.id}/access/signing-key/rotate`)
      .set(alice.auth)
      .expect(201);
    expect((await fetch(recordUrl)).status).toBe(403);
    expect((await fetch(keysUrl)).status).toBe(403);
  });

  it("refuses a record key that has the form of the store's signed key listing (its signature would be the listing's)", async () => {
    const owner = client(alice.accessToken);
    const store = await owner.keyValueStores().getOrCreate('listing-shaped');
    for (const key of [`0.0.${store.id}`, `0.1893456000000.${store.id}`]) {
      const res = await t
        .http()
        .put(`/v2/key-value-stores/${store.id}/records/${key}`)
        .set(alice.auth)
        .set('content-type', 'application/json')
        .send('{"a":1}');
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('Field "key" is invalid');
    }
    // Nor does the listing's signature open a record under such a key (one stored before).
    await owner.keyValueStore(store.id).update({ generalAccess: 'RESTRICTED' } as never);
    const keysSignature = new URL(
      await owner.keyValueStore(store.id).createKeysPublicUrl({ expiresInSecs: 600 }),
    ).searchParams.get('signature')!;
    const [version, expiresAt, hmac] = Buffer.from(keysSignature, 'base64url').toString('utf8').split('.');
    const shaped = await fetch(
      `${baseUrl}/v2/key-value-stores/${store.id}/records/${version}.${expiresAt}.${store.id}?signature=${hmac}`,
    );
    expect(shaped.status).toBe(403);
    // Keys of that form naming another store, or none, are ordinary keys.
    await owner.keyValueStore(store.id).setRecord({ key: '0.0.AAAAAAAAAAAAAAAAA', value: { ok: true } });
    await owner.keyValueStore(store.id).setRecord({ key: '1.2.3', value: { ok: true } });
    expect((await owner.keyValueStore(store.id).listKeys()).items.map((i) => i.key)).toEqual([
      '0.0.AAAAAAAAAAAAAAAAA',
      '1.2.3',
    ]);
  });

  it('starts and follows runs of a public Actor through the client', async () => {
    const owner = client(alice.accessToken);
    const actor = await owner.actors().create({ name: 'sdk-actor', isPublic: true } as never);
    const runner = stranger();
    const run = await runner.actor(actor.id).start({ query: 'atrium' });
    expect(run).toMatchObject({ actId: actor.id, userId: bob.id, status: 'READY' });
    expect(run.startedAt).toBeInstanceOf(Date);
    const input = await runner.keyValueStore(run.defaultKeyValueStoreId).getRecord('INPUT');
    expect(input?.value).toEqual({ query: 'atrium' });
    await runner.dataset(run.defaultDatasetId).pushItems({ result: 1 });
    expect((await runner.run(run.id).get())?.status).toBe('READY');
    expect((await runner.run(run.id).abort()).status).toBe('ABORTED');
    expect(await runner.run(run.id).log().get()).toContain('ABORTED');
    expect((await runner.runs().list({ desc: true })).items[0].id).toBe(run.id);
    expect((await runner.actor(actor.id).runs().list()).items.map((r) => r.id)).toContain(run.id);
    // Bob's account shares by link (the default), so the id opens it; RESTRICTED, the Actor's owner loses it.
    expect((await owner.run(run.id).get())?.id).toBe(run.id);
    await restrictResourceAccess(t, bob);
    expect(await owner.run(run.id).get()).toBeUndefined();
  });
});
