import { uniqueName } from '@atrium/testing';
import { ApifyClient } from 'apify-client';
import { signUp, SignedUpUser, startTestStack, TestStack } from './test-stack';

/** The official apify-client package, unchanged, against Atrium's gateway on a real port. */
describe('apify-client against Atrium', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let baseUrl: string;
  const client = (token?: string) => new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });

  beforeAll(async () => {
    t = await startTestStack();
    await t.stack.gateway.listen(0, '127.0.0.1');
    baseUrl = await t.stack.gateway.getUrl();
    alice = await signUp(t, uniqueName('alice'));
    bob = await signUp(t, uniqueName('bob'));
  });
  afterAll(() => t.close());

  it('creates, fills, lists, updates and hides a dataset', async () => {
    const apiToken = (await t.http().post('/v2/users/me/tokens').set(alice.auth).send({ name: 'sdk' }).expect(201)).body.data.token;
    const owner = client(apiToken);
    const dataset = await owner.datasets().getOrCreate('sdk-data');
    expect(dataset.name).toBe('sdk-data');
    expect(dataset.createdAt).toBeInstanceOf(Date);
    expect((await owner.datasets().getOrCreate('sdk-data')).id).toBe(dataset.id);

    await owner.dataset(dataset.id).pushItems({ n: 1 });
    // Over 1 KB: apify-client sends it brotli-compressed.
    await owner.dataset(dataset.id).pushItems(Array.from({ length: 100 }, (_, i) => ({ n: i + 2, pad: 'x'.repeat(20) })));
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
});
