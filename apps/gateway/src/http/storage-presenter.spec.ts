import { checkStorageContentSignature } from '@atrium/auth';
import { presentStorage } from './storage-presenter';

const DAY_MS = 24 * 60 * 60 * 1000;
const view = { id: 'AbCdEfGhIjKlMnOpQ', name: 'ds', urlSigningSecretKey: 'k'.repeat(32) };
const options = (baseUrl: string) => ({
  baseUrl,
  collection: 'datasets',
  publicContent: { field: 'itemsPublicUrl', path: 'items' },
});

describe('presentStorage', () => {
  it.each([
    'http://localhost:3000',
    'https://API.example.com',
    'http://127.0.0.1:80/atrium',
    'https://example.com/base/',
    'http://example.com/a/../b',
    'http://example.com/?q=1',
    'http://example.com/#x',
  ])('writes the public URL of a reader as new URL() does (%s)', (baseUrl) => {
    const presented = presentStorage(view, ['READ'], options(baseUrl));
    expect(presented.itemsPublicUrl).toBe(new URL(`${baseUrl}/v2/datasets/${view.id}/items`).toString());
    expect(presented).not.toHaveProperty('urlSigningSecretKey');
  });

  it('signs a writer’s URL for 14 days (to the end of the minute), valid for this storage only', () => {
    const before = Date.now();
    const presented = presentStorage(view, ['READ', 'WRITE'], options('http://localhost:3000'));
    const url = new URL(String(presented.itemsPublicUrl));
    expect(`${url.origin}${url.pathname}`).toBe(`http://localhost:3000/v2/datasets/${view.id}/items`);
    const signature = url.searchParams.get('signature') ?? '';
    expect(presented.itemsPublicUrl).toBe(
      `http://localhost:3000/v2/datasets/${view.id}/items?signature=${signature}`,
    );
    expect(checkStorageContentSignature(signature, view.id, view.urlSigningSecretKey)).toBe('valid');
    expect(checkStorageContentSignature(signature, 'AbCdEfGhIjKlMnOpX', view.urlSigningSecretKey)).toBe(
      'invalid',
    );
    expect(checkStorageContentSignature(signature, view.id, 'other-key')).toBe('invalid');
    const expiresAt = Number(Buffer.from(signature, 'base64url').toString().split('.')[1]);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 14 * DAY_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 14 * DAY_MS + 60_000);
    expect(presented.urlSigningSecretKey).toBe(view.urlSigningSecretKey);
  });

  it('keeps the view’s fields in order, the signing key for writers only, then the links', () => {
    const base = options('http://localhost:3000');
    expect(Object.keys(presentStorage(view, ['READ'], base))).toEqual([
      'id',
      'name',
      'consoleUrl',
      'itemsPublicUrl',
    ]);
    expect(Object.keys(presentStorage(view, ['READ', 'WRITE'], base))).toEqual([
      'id',
      'name',
      'urlSigningSecretKey',
      'consoleUrl',
      'itemsPublicUrl',
    ]);
    expect(presentStorage(view, ['READ'], base).consoleUrl).toBe(
      `http://localhost:3000/storage/datasets/${view.id}`,
    );
  });

  it('signs with the storage’s current key: a rotated key gets a new signature at once', () => {
    const first = presentStorage(view, ['WRITE'], options('http://localhost:3000'));
    const rotated = { ...view, urlSigningSecretKey: 'r'.repeat(32) };
    const second = presentStorage(rotated, ['WRITE'], options('http://localhost:3000'));
    const signature = new URL(String(second.itemsPublicUrl)).searchParams.get('signature') ?? '';
    expect(second.itemsPublicUrl).not.toBe(first.itemsPublicUrl);
    expect(checkStorageContentSignature(signature, view.id, rotated.urlSigningSecretKey)).toBe('valid');
  });
});
