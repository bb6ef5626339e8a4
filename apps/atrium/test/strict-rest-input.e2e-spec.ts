import { SignedUpUser, signUpEach, startTestStack, TestStack } from './test-stack';

/**
 * Rolling upgrades (README): the services read each other's messages tolerantly (a field they do not
 * know is ignored), but input from outside stays strict. For the fields the services' contract specs
 * now see ignored over RPC, the REST API still answers 400 naming the field, at the top and nested.
 */
describe('REST input stays strict while internal messages are read tolerantly', () => {
  let t: TestStack;
  let alice: SignedUpUser;

  beforeAll(async () => {
    t = await startTestStack();
    [alice] = await signUpEach(t, 'alice');
  });
  afterAll(() => t.close());

  async function expect400(
    request: PromiseLike<{ status: number; body: any }>,
    field: string,
  ): Promise<void> {
    const res = await request;
    expect({ status: res.status, error: res.body?.error }).toEqual({
      status: 400,
      error: { type: 'invalid-input', message: `Field "${field}" is not allowed` },
    });
  }

  it('refuses unknown fields in bodies, top level and nested', async () => {
    await expect400(
      t.http().post('/v2/auth/signup').send({
        email: 'strict@example.com',
        username: 'strict-user',
        password: 'a long password',
        isAdmin: true,
      }),
      'body.isAdmin',
    );
    const store = (await t.http().post('/v2/key-value-stores').set(alice.auth).expect(201)).body.data;
    await expect400(
      t.http().put(`/v2/key-value-stores/${store.id}`).set(alice.auth).send({ title: 'x' }),
      'body.title',
    );
    const queue = (await t.http().post('/v2/request-queues').set(alice.auth).expect(201)).body.data;
    await expect400(
      t
        .http()
        .post(`/v2/request-queues/${queue.id}/requests`)
        .set(alice.auth)
        .send({ url: 'https://example.com', uniqueKey: 'a', id: 'Abcdefghijklmno17' }),
      'body.id',
    );
    await expect400(
      t
        .http()
        .post('/v2/actors')
        .set(alice.auth)
        .send({ name: 'strict', defaultRunOptions: { build: 'latest', privileged: true } }),
      'body.defaultRunOptions.privileged',
    );
    await expect400(
      t
        .http()
        .put('/v2/users/me/limits')
        .set(alice.auth)
        .send({ resources: { WIDGET: 1 } }),
      'body.resources.WIDGET',
    );
  });
});
