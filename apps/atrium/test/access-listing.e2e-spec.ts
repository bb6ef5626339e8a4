import { uniqueName } from '@atrium/testing';
import {
  createOrganization,
  joinOrganization,
  SignedUpUser,
  signUp,
  signUpEach,
  startTestStack,
  TestStack,
} from './test-stack';

/** Who has access and why: grants page by cursor; members of the owner account are listed as derived. */
describe('who has access', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob] = await signUpEach(t, 'alice', 'bob');
  });
  afterAll(() => t.close());

  it('walks the grants of a resource by cursor, each exactly once', async () => {
    const id = (await t.http().post('/v2/datasets').set(alice.auth).expect(201)).body.data.id;
    const grantees = await Promise.all([1, 2, 3, 4, 5].map((i) => signUp(t, uniqueName(`g${i}`))));
    for (const g of grantees)
      await t
        .http()
        .post(`/v2/datasets/${id}/access/grants`)
        .set(alice.auth)
        .send({ user: g.username, permissions: ['READ'] })
        .expect(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { body: { data: { grants: { userId: string }[]; nextCursor: string | null } } } = await t
        .http()
        .get(`/v2/datasets/${id}/access?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(alice.auth)
        .expect(200);
      seen.push(...res.body.data.grants.map((g: { userId: string }) => g.userId));
      cursor = res.body.data.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(grantees.map((g) => g.id).sort());
    await t.http().get(`/v2/datasets/${id}/access?cursor=nope`).set(alice.auth).expect(400);
  });

  it('names the members of the owning organization, with their role and what it gives', async () => {
    const org = await createOrganization(t, alice);
    await joinOrganization(t, alice, org.id, bob, org.roleId('Developer'));
    const id = (await t.http().post('/v2/datasets').set(alice.auth).set('x-account-id', org.id).expect(201))
      .body.data.id;

    const listing = (await t.http().get(`/v2/datasets/${id}/access`).set(alice.auth).expect(200)).body.data;
    expect(listing.owner).toEqual({ userId: org.id });
    expect(listing.derived).toEqual(
      expect.arrayContaining([
        { rule: 'organization-member', userId: bob.id, role: 'Developer', permissions: ['READ', 'WRITE'] },
        {
          rule: 'organization-member',
          userId: alice.id,
          role: 'Owner',
          permissions: ['MANAGE_ACCESS', 'READ', 'WRITE'],
        },
      ]),
    );
    // Bob may write but not manage access: the listing is for managers only.
    await t.http().get(`/v2/datasets/${id}/access`).set(bob.auth).expect(403);

    const explained = (
      await t.http().get(`/v2/access/explain?resourceId=${id}&permission=WRITE`).set(bob.auth).expect(200)
    ).body.data;
    expect(explained).toMatchObject({ allowed: true, rule: 'organization-member' });
    expect(explained.chain[0]).toContain('role Developer');
  });
});
