import { createHmacSignature, createStorageContentSignature } from '@apify/utilities';
import { eventually, uniqueName } from '@atrium/testing';
import {
  createOrganization,
  joinOrganization,
  restrictResourceAccess,
  SignedUpUser,
  signUp,
  startTestStack,
  TestOrganization,
  TestStack,
} from './test-stack';

/**
 * The second outside attack pass: a writer is shown a storage's `urlSigningSecretKey`, and what
 * apify-client signs with it and no expiry (`expiresInMillis: 0`) never expires. Taking a
 * writer's WRITE away rotates the key, so every link it signed stops working with the change.
 */
describe('revoking a writer rotates the signing key of what it could write', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let bob: SignedUpUser;
  let carol: SignedUpUser;

  beforeAll(async () => {
    t = await startTestStack();
    [alice, bob, carol] = await Promise.all(
      ['alice', 'bob', 'carol'].map((name) => signUp(t, uniqueName(name))),
    );
    // Nothing of Alice's is readable without a grant: a link opens only by its signature.
    await restrictResourceAccess(t, alice);
  });
  afterAll(() => t.close());

  type Collection = 'datasets' | 'key-value-stores';
  const create = async (who: SignedUpUser, collection: Collection, headers: Record<string, string> = {}) => {
    const created = await t
      .http()
      .post(`/v2/${collection}?name=${uniqueName('s')}`)
      .set(who.auth)
      .set(headers)
      .expect(201);
    const id = created.body.data.id as string;
    if (collection === 'datasets')
      await t
        .http()
        .post(`/v2/datasets/${id}/items`)
        .set(who.auth)
        .send([{ secret: 1 }])
        .expect(201);
    else await t.http().put(`/v2/key-value-stores/${id}/records/a`).set(who.auth).send({ a: 1 }).expect(201);
    return id;
  };
  const signingKey = async (who: SignedUpUser, collection: Collection, id: string) => {
    const res = await t.http().get(`/v2/${collection}/${id}`).set(who.auth).expect(200);
    return res.body.data.urlSigningSecretKey as string | undefined;
  };
  /** The links apify-client makes from a key, with no expiry: content, and a record of a store. */
  const linksSignedWith = (collection: Collection, id: string, key: string): string[] => {
    const signature = createStorageContentSignature({
      resourceId: id,
      urlSigningSecretKey: key,
      expiresInMillis: 0,
    });
    return collection === 'datasets'
      ? [`/v2/datasets/${id}/items?signature=${signature}`]
      : [
          `/v2/key-value-stores/${id}/keys?signature=${signature}`,
          `/v2/key-value-stores/${id}/records/a?signature=${createHmacSignature(key, 'a')}`,
        ];
  };
  /** Each link opened anonymously: its status and error type. */
  const open = (links: string[]) =>
    Promise.all(
      links.map(async (link) => {
        const res = await t.http().get(link);
        return `${res.status} ${res.body?.error?.type ?? 'ok'}`;
      }),
    );
  const allOpen = (links: string[]) => links.map(() => '200 ok');
  const allRefused = (links: string[]) => links.map(() => '403 invalid-signature');
  const grant = async (collection: Collection, id: string, permissions: string[]) =>
    (
      await t
        .http()
        .post(`/v2/${collection}/${id}/access/grants`)
        .set(alice.auth)
        .send({ user: bob.username, permissions })
        .expect(201)
    ).body.data.id as string;

  it.each<Collection>(['datasets', 'key-value-stores'])(
    'a revoked WRITE grant on %s: the ex-writer’s expiry-less links stop working with the revoke',
    async (collection) => {
      const id = await create(alice, collection);
      const grantId = await grant(collection, id, ['WRITE']);
      const key = await signingKey(bob, collection, id);
      expect(key).toEqual(expect.any(String));
      const links = linksSignedWith(collection, id, key!);
      expect(await open(links)).toEqual(allOpen(links));

      await t.http().delete(`/v2/${collection}/${id}/access/grants/${grantId}`).set(alice.auth).expect(204);

      expect(await open(links)).toEqual(allRefused(links));
      // The owner has a new key, and the links made with it work.
      const rotated = await signingKey(alice, collection, id);
      expect(rotated).not.toBe(key);
      const fresh = linksSignedWith(collection, id, rotated!);
      expect(await open(fresh)).toEqual(allOpen(fresh));
    },
  );

  it.each<Collection>(['datasets', 'key-value-stores'])(
    'a WRITE grant on %s that expires: the key rotates within seconds of its expiry, and the links it signed stop working',
    async (collection) => {
      const id = await create(alice, collection);
      const expiresAt = new Date(Date.now() + 2000).toISOString();
      await t
        .http()
        .post(`/v2/${collection}/${id}/access/grants`)
        .set(alice.auth)
        .send({ user: bob.username, permissions: ['WRITE'], expiresAt })
        .expect(201);
      const key = await signingKey(bob, collection, id);
      const links = linksSignedWith(collection, id, key!);
      expect(await open(links)).toEqual(allOpen(links));
      await eventually(async () => expect(await open(links)).toEqual(allRefused(links)), 15_000, 250);
      expect(Date.now() - Date.parse(expiresAt)).toBeLessThan(12_000);
      expect(await signingKey(alice, collection, id)).not.toBe(key);
    },
    30_000,
  );

  it('a WRITE grant downgraded to READ: the key is rotated, the reader is shown none', async () => {
    const id = await create(alice, 'key-value-stores');
    const grantId = await grant('key-value-stores', id, ['WRITE']);
    const links = linksSignedWith('key-value-stores', id, (await signingKey(bob, 'key-value-stores', id))!);
    expect(await open(links)).toEqual(allOpen(links));

    await t
      .http()
      .put(`/v2/key-value-stores/${id}/access/grants/${grantId}`)
      .set(alice.auth)
      .send({ permissions: ['READ'] })
      .expect(200);

    expect(await open(links)).toEqual(allRefused(links));
    expect(await signingKey(bob, 'key-value-stores', id)).toBeUndefined();
  });

  it('a READ grant revoked (or a grant still giving WRITE changed): the key stays, links keep working', async () => {
    const id = await create(alice, 'datasets');
    const key = (await signingKey(alice, 'datasets', id))!;
    const links = linksSignedWith('datasets', id, key);
    const reader = await grant('datasets', id, ['READ']);
    await t.http().delete(`/v2/datasets/${id}/access/grants/${reader}`).set(alice.auth).expect(204);
    expect(await open(links)).toEqual(allOpen(links));

    const writer = await grant('datasets', id, ['WRITE']);
    await t
      .http()
      .put(`/v2/datasets/${id}/access/grants/${writer}`)
      .set(alice.auth)
      .send({ permissions: ['WRITE', 'MANAGE_ACCESS'] })
      .expect(200);
    expect(await signingKey(alice, 'datasets', id)).toBe(key);
    expect(await open(links)).toEqual(allOpen(links));
  });

  describe('in an organization', () => {
    let org: TestOrganization;
    const inOrg = () => ({ 'X-Account-Id': org.id });

    beforeAll(async () => {
      org = await createOrganization(t, alice);
      await t
        .http()
        .put(`/v2/organizations/${org.id}`)
        .set(alice.auth)
        .send({ settings: { generalResourceAccess: 'RESTRICTED' } })
        .expect(200);
    });

    it("removing a member whose role had STORAGE WRITE rotates the keys of the organization's storages", async () => {
      await joinOrganization(t, alice, org.id, carol, org.roleId('Developer'));
      const dataset = await create(carol, 'datasets', inOrg());
      const store = await create(alice, 'key-value-stores', inOrg());
      const links = [
        ...linksSignedWith('datasets', dataset, (await signingKey(carol, 'datasets', dataset))!),
        ...linksSignedWith('key-value-stores', store, (await signingKey(carol, 'key-value-stores', store))!),
      ];
      expect(await open(links)).toEqual(allOpen(links));

      await t.http().delete(`/v2/organizations/${org.id}/members/${carol.id}`).set(alice.auth).expect(204);

      expect(await open(links)).toEqual(allRefused(links));
    });

    it('a member moved to a role without STORAGE WRITE, or whose role is edited so: the keys rotate', async () => {
      await joinOrganization(t, alice, org.id, bob, org.roleId('Developer'));
      const dataset = await create(alice, 'datasets', inOrg());
      const byRoleChange = linksSignedWith(
        'datasets',
        dataset,
        (await signingKey(bob, 'datasets', dataset))!,
      );
      expect(await open(byRoleChange)).toEqual(allOpen(byRoleChange));
      await t
        .http()
        .put(`/v2/organizations/${org.id}/members/${bob.id}`)
        .set(alice.auth)
        .send({ roleId: org.roleId('Read only') })
        .expect(200);
      expect(await open(byRoleChange)).toEqual(allRefused(byRoleChange));

      const writers = await t
        .http()
        .post(`/v2/organizations/${org.id}/roles`)
        .set(alice.auth)
        .send({ name: uniqueName('writers'), permissions: { STORAGE: ['READ', 'WRITE'] } })
        .expect(201);
      await t
        .http()
        .put(`/v2/organizations/${org.id}/members/${bob.id}`)
        .set(alice.auth)
        .send({ roleId: writers.body.data.id })
        .expect(200);
      const byRoleEdit = linksSignedWith('datasets', dataset, (await signingKey(bob, 'datasets', dataset))!);
      expect(await open(byRoleEdit)).toEqual(allOpen(byRoleEdit));
      // Renaming the role, or keeping WRITE, takes nothing away: the key stays.
      await t
        .http()
        .put(`/v2/organizations/${org.id}/roles/${writers.body.data.id}`)
        .set(alice.auth)
        .send({ name: uniqueName('still-writers') })
        .expect(200);
      expect(await open(byRoleEdit)).toEqual(allOpen(byRoleEdit));
      await t
        .http()
        .put(`/v2/organizations/${org.id}/roles/${writers.body.data.id}`)
        .set(alice.auth)
        .send({ permissions: { STORAGE: ['READ'] } })
        .expect(200);
      expect(await open(byRoleEdit)).toEqual(allRefused(byRoleEdit));
    });
  });
});
