import {
  checkRecordSignature,
  checkStorageContentSignature,
  createStorageContentSignature,
  hmacSignature,
  newId,
  secretMatches,
} from '@atrium/auth';
import { uniqueName } from '@atrium/testing';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signUp, SignedUpUser, startTestStack, TestStack } from '../test/test-stack';
import { call, CallResult } from './security-fixtures';

/** Issue 8, item 14: pre-signed storage URLs cannot be forged, bent or outlived. */

const crypto = jest.requireActual<typeof import('node:crypto')>('node:crypto');
const ROOT = join(__dirname, '..', '..', '..');

describe('security: pre-signed URLs (item 14)', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let datasetId: string;
  let otherDatasetId: string;
  let storeId: string;
  let key: string;
  let storeKey: string;

  const pathOf = (url: string) => {
    const u = new URL(url);
    return { path: u.pathname, signature: u.searchParams.get('signature')! };
  };
  /** Anonymous: only the signature can open the (restricted) content. */
  const open = (path: string, signature?: string) =>
    call(t, 'GET', path, { query: signature === undefined ? undefined : { signature } });
  const errorType = (res: CallResult) => (res.body as { error?: { type?: string } }).error?.type;

  beforeAll(async () => {
    t = await startTestStack();
    alice = await signUp(t, uniqueName('alice'));
    const as = { headers: alice.auth };
    await call(t, 'PUT', '/v2/users/me/settings', { ...as, body: { generalResourceAccess: 'RESTRICTED' } });
    const create = async (path: string) => (await call(t, 'POST', path, as)).body as { data: { id: string } };
    datasetId = (await create('/v2/datasets?name=private')).data.id;
    otherDatasetId = (await create('/v2/datasets?name=other')).data.id;
    storeId = (await create('/v2/key-value-stores?name=state')).data.id;
    await call(t, 'POST', `/v2/datasets/${datasetId}/items`, { ...as, body: [{ secret: 1 }] });
    await call(t, 'POST', `/v2/datasets/${otherDatasetId}/items`, { ...as, body: [{ secret: 2 }] });
    await call(t, 'PUT', `/v2/key-value-stores/${storeId}/records/a`, { ...as, body: { a: 1 } });
    await call(t, 'PUT', `/v2/key-value-stores/${storeId}/records/b`, { ...as, body: { b: 2 } });
    key = (
      (await call(t, 'GET', `/v2/datasets/${datasetId}`, as)).body as {
        data: { urlSigningSecretKey: string };
      }
    ).data.urlSigningSecretKey;
    storeKey = (
      (await call(t, 'GET', `/v2/key-value-stores/${storeId}`, as)).body as {
        data: { urlSigningSecretKey: string };
      }
    ).data.urlSigningSecretKey;
  });
  afterAll(() => t.close());

  it('opens exactly the signed content, anonymously, and nothing else', async () => {
    const dataset = (await call(t, 'GET', `/v2/datasets/${datasetId}`, { headers: alice.auth })).body as {
      data: { itemsPublicUrl: string };
    };
    const { path, signature } = pathOf(dataset.data.itemsPublicUrl);
    expect(path).toBe(`/v2/datasets/${datasetId}/items`);
    expect((await open(path)).status).toBe(404);
    const items = await open(path, signature);
    expect(items.status).toBe(200);
    expect(items.body).toEqual([{ secret: 1 }]);
    const store = (await call(t, 'GET', `/v2/key-value-stores/${storeId}`, { headers: alice.auth })).body as {
      data: { keysPublicUrl: string };
    };
    const keys = pathOf(store.data.keysPublicUrl);
    expect((await open(keys.path, keys.signature)).status).toBe(200);
    expect(
      (await open(`/v2/key-value-stores/${storeId}/records/a`, hmacSignature(storeKey, 'a'))).status,
    ).toBe(200);
    // A signature reads content only: not the storage itself, and never writes.
    expect((await open(`/v2/datasets/${datasetId}`, signature)).status).toBe(404);
    const write = await call(t, 'POST', path, { query: { signature }, body: [{ injected: true }] });
    expect([401, 404]).toContain(write.status);
  });

  it('refuses every tampering with 403 invalid-signature: path, expiry, signature, key, version', async () => {
    const future = new Date(Date.now() + 3_600_000);
    const valid = createStorageContentSignature({ resourceId: datasetId, secretKey: key, expiresAt: future });
    const [version, expiresAt, hmac] = Buffer.from(valid, 'base64url').toString().split('.');
    const encode = (s: string) => Buffer.from(s).toString('base64url');
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'a' ? 'b' : 'a') + s.slice(i + 1);
    const items = `/v2/datasets/${datasetId}/items`;
    expect((await open(items, valid)).status).toBe(200);
    const tampered: Record<string, [string, string]> = {
      'another dataset (path)': [`/v2/datasets/${otherDatasetId}/items`, valid],
      "the store's keys (path)": [`/v2/key-value-stores/${storeId}/keys`, valid],
      'expiry moved later': [items, encode(`${version}.${Number(expiresAt) + 86_400_000}.${hmac}`)],
      'expiry removed (0 = never)': [items, encode(`${version}.0.${hmac}`)],
      'version changed': [items, encode(`1.${expiresAt}.${hmac}`)],
      'hmac first character': [items, encode(`${version}.${expiresAt}.${flip(hmac, 0)}`)],
      'hmac last character': [items, encode(`${version}.${expiresAt}.${flip(hmac, hmac.length - 1)}`)],
      'hmac truncated': [items, encode(`${version}.${expiresAt}.${hmac.slice(0, -1)}`)],
      'hmac extended': [items, encode(`${version}.${expiresAt}.${hmac}0`)],
      'signed with another key': [
        items,
        createStorageContentSignature({
          resourceId: datasetId,
          secretKey: 'x'.repeat(32),
          expiresAt: future,
        }),
      ],
      "signed with the other storage's key": [
        items,
        createStorageContentSignature({ resourceId: datasetId, secretKey: storeKey, expiresAt: future }),
      ],
      'not canonical base64url (padding)': [items, `${valid}=`],
      'not canonical base64url (stray character)': [items, `${valid.slice(0, 4)}*${valid.slice(4)}`],
      empty: [items, ''],
      oversized: [items, 'a'.repeat(500)],
      garbage: [items, '../../etc/passwd'],
      'record: signature of another key': [
        `/v2/key-value-stores/${storeId}/records/b`,
        hmacSignature(storeKey, 'a'),
      ],
      'record: signed with the dataset key': [
        `/v2/key-value-stores/${storeId}/records/a`,
        hmacSignature(key, 'a'),
      ],
      'record: content signature': [`/v2/key-value-stores/${storeId}/records/a`, valid],
    };
    const accepted: string[] = [];
    for (const [name, [path, signature]] of Object.entries(tampered)) {
      const res = await open(path, signature);
      if (res.status !== 403 || errorType(res) !== 'invalid-signature')
        accepted.push(`${name} → ${res.status} ${res.text}`);
    }
    expect(accepted).toEqual([]);
    console.log(
      `[security:14] signed URLs: ${Object.keys(tampered).length} tamperings → 403 invalid-signature`,
    );
  });

  it('answers a signature for an unknown storage exactly as for a restricted one (no id oracle)', async () => {
    const unknown = newId();
    const signature = createStorageContentSignature({ resourceId: unknown, secretKey: key });
    const differences: string[] = [];
    for (const [known, path] of [
      [datasetId, (id: string) => `/v2/datasets/${id}/items`],
      [storeId, (id: string) => `/v2/key-value-stores/${id}/keys`],
      [storeId, (id: string) => `/v2/key-value-stores/${id}/records/a`],
    ] as const) {
      for (const candidate of [signature, 'garbage', '']) {
        const a = await open(path(known), candidate);
        const b = await open(path(unknown), candidate);
        if (a.status !== 403 || a.status !== b.status || a.text !== b.text)
          differences.push(
            `${path(':id')} ${candidate.slice(0, 8)}: ${a.status} ${a.text} vs ${b.status} ${b.text}`,
          );
      }
    }
    expect(differences).toEqual([]);
  });

  it('refuses an expired signature with 403', async () => {
    const expired = createStorageContentSignature({
      resourceId: datasetId,
      secretKey: key,
      expiresAt: new Date(Date.now() - 1000),
    });
    const res = await open(`/v2/datasets/${datasetId}/items`, expired);
    expect(res.status).toBe(403);
    expect(errorType(res)).toBe('invalid-signature');
    expect((res.body as { error: { message: string } }).error.message).toMatch(/expired/);
  });

  it('invalidates every link signed with a key once the key is rotated', async () => {
    const signature = createStorageContentSignature({ resourceId: datasetId, secretKey: key });
    const record = hmacSignature(storeKey, 'a');
    expect((await open(`/v2/datasets/${datasetId}/items`, signature)).status).toBe(200);
    const rotate = async (path: string) =>
      (
        (await call(t, 'POST', `${path}/access/signing-key/rotate`, { headers: alice.auth })).body as {
          data: { urlSigningSecretKey: string };
        }
      ).data.urlSigningSecretKey;
    const newKey = await rotate(`/v2/datasets/${datasetId}`);
    const newStoreKey = await rotate(`/v2/key-value-stores/${storeId}`);
    expect(newKey).not.toBe(key);
    expect((await open(`/v2/datasets/${datasetId}/items`, signature)).status).toBe(403);
    expect((await open(`/v2/key-value-stores/${storeId}/records/a`, record)).status).toBe(403);
    const fresh = createStorageContentSignature({ resourceId: datasetId, secretKey: newKey });
    expect((await open(`/v2/datasets/${datasetId}/items`, fresh)).status).toBe(200);
    expect(
      (await open(`/v2/key-value-stores/${storeId}/records/a`, hmacSignature(newStoreKey, 'a'))).status,
    ).toBe(200);
  });

  it('compares signatures and token secrets in constant time', () => {
    const timingSafeEqual = jest.spyOn(crypto, 'timingSafeEqual');
    try {
      const signature = createStorageContentSignature({ resourceId: datasetId, secretKey: key });
      expect(checkStorageContentSignature(signature, datasetId, key)).toBe('valid');
      expect(checkRecordSignature(hmacSignature(key, 'a'), 'a', key, datasetId)).toBe('valid');
      expect(secretMatches('s', 'a'.repeat(64))).toBe(false);
      expect(timingSafeEqual).toHaveBeenCalledTimes(3);
    } finally {
      timingSafeEqual.mockRestore();
    }
    // And the resources service verifies with these functions, not a comparison of its own.
    const service = readFileSync(join(ROOT, 'apps/resources/src/catalogue/signatures.service.ts'), 'utf8');
    expect(service).toMatch(/checkStorageContentSignature\(/);
    expect(service).toMatch(/checkRecordSignature\(/);
    expect(service).not.toMatch(/signature\s*[!=]==|[!=]==\s*[\w.]*signature/i);
  });
});
