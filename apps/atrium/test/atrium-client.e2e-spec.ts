import { createAtriumClient } from '@atrium/client';
import { uniqueName } from '@atrium/testing';
import { startListeningTestStack, TestStack } from './test-stack';

/**
 * The typed client (libs/client), generated from `/docs/openapi.json`, against the running stack:
 * paths, parameters, bodies and answers are checked by the compiler, the calls by the gateway.
 */
describe('the typed Atrium client', () => {
  let t: TestStack;
  let baseUrl: string;

  beforeAll(async () => {
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
  });
  afterAll(() => t.close());

  it('signs up, then calls signed in with the session and with an API token', async () => {
    const anonymous = createAtriumClient({ baseUrl });
    const username = uniqueName('typed');
    const signup = await anonymous.POST('/v2/auth/signup', {
      body: { email: `${username}@example.com`, username, password: 'correct horse battery' },
    });
    expect(signup.response.status).toBe(201);
    const session = signup.data!.data;
    expect(session.user.username).toBe(username);

    const alice = createAtriumClient({ baseUrl, token: session.accessToken });
    const me = await alice.GET('/v2/users/me');
    expect(me.data?.data).toMatchObject({ id: session.user.id, username });

    const created = await alice.POST('/v2/users/me/tokens', { body: { name: 'typed-client' } });
    expect(created.response.status).toBe(201);
    const apiToken = created.data!.data.token;

    const withToken = createAtriumClient({ baseUrl, token: apiToken });
    const actor = await withToken.POST('/v2/actors', { body: { name: uniqueName('typed-actor') } });
    expect(actor.response.status).toBe(201);
    const actorId = actor.data!.data.id;
    const fetched = await withToken.GET('/v2/actors/{actorId}', { params: { path: { actorId } } });
    expect(fetched.data?.data).toMatchObject({ id: actorId, userId: session.user.id });
    const listed = await withToken.GET('/v2/actors', { params: { query: { limit: 10 } } });
    expect(listed.error).toBeUndefined();
    expect(listed.data?.data.items.map((a) => a.id)).toContain(actorId);
  });

  it('answers errors in the documented shape', async () => {
    const anonymous = createAtriumClient({ baseUrl });
    const me = await anonymous.GET('/v2/users/me');
    expect(me.response.status).toBe(401);
    expect(me.error?.error.type).toBe('token-not-valid');
    const signup = await anonymous.POST('/v2/auth/signup', {
      body: { email: 'not-an-email', username: uniqueName('x'), password: 'correct horse battery' },
    });
    expect(signup.response.status).toBe(400);
    expect(signup.error?.error.message).toMatch(/email/);
  });
});
