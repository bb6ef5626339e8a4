import request from 'supertest';
import { uniqueName } from './test-infrastructure';

/*
 * Data factories for tests through the HTTP API: the users, organizations, Actors and datasets
 * that spec after spec sets up the same way.
 */

/** Anything serving the API to supertest: a test stack, a gateway replica. */
export interface ApiUnderTest {
  http: () => ReturnType<typeof request>;
}

export interface SignedUpUser {
  id: string;
  username: string;
  accessToken: string;
  refreshToken: string;
  auth: { authorization: string };
}

/** The password of every user signUp makes. */
export const TEST_PASSWORD = 'correct horse battery';

export async function signUp(t: ApiUnderTest, username: string): Promise<SignedUpUser> {
  const res = await t
    .http()
    .post('/v2/auth/signup')
    .send({ email: `${username}@example.com`, username, password: TEST_PASSWORD })
    .expect(201);
  const { user, accessToken, refreshToken } = res.body.data;
  return {
    id: user.id,
    username,
    accessToken,
    refreshToken,
    auth: { authorization: `Bearer ${accessToken}` },
  };
}

/** One new user per prefix, in order, each with a username no other test run uses. */
export async function signUpEach(t: ApiUnderTest, ...prefixes: string[]): Promise<SignedUpUser[]> {
  const users: SignedUpUser[] = [];
  for (const prefix of prefixes) users.push(await signUp(t, uniqueName(prefix)));
  return users;
}

/** The users' resources become readable by no one but them unless shared (account setting). */
export async function restrictResourceAccess(t: ApiUnderTest, ...users: SignedUpUser[]): Promise<void> {
  for (const user of users) {
    await t
      .http()
      .put('/v2/users/me/settings')
      .set(user.auth)
      .send({ generalResourceAccess: 'RESTRICTED' })
      .expect(200);
  }
}

/** A new Actor of `owner` (`POST /v2/acts` with `body`): its id. */
export async function createActor(
  t: ApiUnderTest,
  owner: SignedUpUser,
  body: Record<string, unknown> = { name: uniqueName('actor') },
): Promise<string> {
  return (await t.http().post('/v2/acts').set(owner.auth).send(body).expect(201)).body.data.id;
}

/** A new dataset of `owner`, named `name`: its id. */
export async function createDataset(t: ApiUnderTest, owner: SignedUpUser, name: string): Promise<string> {
  return (await t.http().post(`/v2/datasets?name=${name}`).set(owner.auth).expect(201)).body.data.id;
}

export interface TestOrganization {
  id: string;
  /** The id of the organization's role of that name (built-in or custom). */
  roleId(name: string): string;
}

/** A new organization owned by `owner`, with its roles (as created: the built-in ones). */
export async function createOrganization(t: ApiUnderTest, owner: SignedUpUser): Promise<TestOrganization> {
  const org = (
    await t
      .http()
      .post('/v2/organizations')
      .set(owner.auth)
      .send({ username: uniqueName('org') })
      .expect(201)
  ).body.data as { id: string };
  const roles = (await t.http().get(`/v2/organizations/${org.id}/roles`).set(owner.auth).expect(200)).body
    .data.items as { id: string; name: string }[];
  return {
    id: org.id,
    roleId: (name) => {
      const role = roles.find((r) => r.name === name);
      if (!role) throw new Error(`no role ${name}`);
      return role.id;
    },
  };
}

/** `member` joins the organization with the role: invited by `owner`, then accepting. */
export async function joinOrganization(
  t: ApiUnderTest,
  owner: SignedUpUser,
  organizationId: string,
  member: SignedUpUser,
  roleId: string,
): Promise<void> {
  const invitation = await t
    .http()
    .post(`/v2/organizations/${organizationId}/invitations`)
    .set(owner.auth)
    .send({ user: member.username, roleId })
    .expect(201);
  await t.http().post(`/v2/invitations/${invitation.body.data.id}/accept`).set(member.auth).expect(200);
}
