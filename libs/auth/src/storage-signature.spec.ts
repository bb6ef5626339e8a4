import { createHmacSignature, createStorageContentSignature as apifySign } from '@apify/utilities';
import {
  checkRecordSignature,
  checkStorageContentSignature,
  createStorageContentSignature,
  hmacSignature,
  isStorageListingPayload,
} from './storage-signature';

describe('storage signatures (compatible with apify-client)', () => {
  const secretKey = 'k3yK3yk3yK3yk3yK3yk3yK3yk3yK3y00';
  const resourceId = 'AbCdEfGhIjKlMnOpQ';

  it('computes the same hmac and signature as @apify/utilities', () => {
    expect(hmacSignature(secretKey, 'OUTPUT')).toBe(createHmacSignature(secretKey, 'OUTPUT'));
    expect(createStorageContentSignature({ resourceId, secretKey })).toBe(
      apifySign({ resourceId, urlSigningSecretKey: secretKey, expiresInMillis: undefined }),
    );
  });

  it('accepts the client own signatures, valid until they expire', () => {
    expect(
      checkStorageContentSignature(
        apifySign({ resourceId, urlSigningSecretKey: secretKey, expiresInMillis: 60_000 }),
        resourceId,
        secretKey,
      ),
    ).toBe('valid');
    const expiring = apifySign({ resourceId, urlSigningSecretKey: secretKey, expiresInMillis: 1000 });
    expect(checkStorageContentSignature(expiring, resourceId, secretKey, Date.now() + 2000)).toBe('expired');
    expect(
      checkRecordSignature(createHmacSignature(secretKey, 'OUTPUT'), 'OUTPUT', secretKey, resourceId),
    ).toBe('valid');
  });

  it('opens only what it signs, only with the current key', () => {
    const signature = createStorageContentSignature({ resourceId, secretKey });
    expect(checkStorageContentSignature(signature, 'ZZZZZZZZZZZZZZZZZ', secretKey)).toBe('invalid');
    expect(checkStorageContentSignature(signature, resourceId, 'another-key')).toBe('invalid');
    expect(checkStorageContentSignature(`${signature}x`, resourceId, secretKey)).toBe('invalid');
    expect(checkStorageContentSignature('', resourceId, secretKey)).toBe('invalid');
    // Extending the expiry by editing the signature breaks its hmac.
    const [v, , h] = Buffer.from(
      createStorageContentSignature({ resourceId, secretKey, expiresAt: new Date(Date.now() + 1000) }),
      'base64url',
    )
      .toString()
      .split('.');
    expect(
      checkStorageContentSignature(Buffer.from(`${v}.0.${h}`).toString('base64url'), resourceId, secretKey),
    ).toBe('invalid');
    expect(checkRecordSignature(hmacSignature(secretKey, 'OUTPUT'), 'INPUT', secretKey, resourceId)).toBe(
      'invalid',
    );
  });

  it("tells a record key that is its store's listing payload: the two signatures coincide", () => {
    const listing = createStorageContentSignature({ resourceId, secretKey });
    const [version, expiresAt, hmac] = Buffer.from(listing, 'base64url').toString('utf8').split('.');
    const key = `${version}.${expiresAt}.${resourceId}`;
    expect(hmacSignature(secretKey, key)).toBe(hmac); // why such keys are refused
    expect(checkRecordSignature(hmac, key, secretKey, resourceId)).toBe('invalid');
    expect(isStorageListingPayload(key, resourceId)).toBe(true);
    expect(isStorageListingPayload(`00.1893456000000.${resourceId}`, resourceId)).toBe(true);
    expect(isStorageListingPayload(`0.0.${resourceId}x`, resourceId)).toBe(false);
    expect(isStorageListingPayload(`0.0.AAAAAAAAAAAAAAAAA`, resourceId)).toBe(false);
    expect(isStorageListingPayload(`-1.0.${resourceId}`, resourceId)).toBe(false);
    expect(isStorageListingPayload('OUTPUT', resourceId)).toBe(false);
  });
});
