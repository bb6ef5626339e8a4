import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Apify's pre-signed storage URLs, byte for byte as `apify-client` makes them:
 * - storage content (dataset items, key-value store keys): base64url(`version.expiresAt.hmac`)
 *   with hmac over `version.expiresAt.resourceId`; `expiresAt` 0 means it never expires;
 * - a record: the hmac of its key.
 * The hmac is the first 30 hex digits of HMAC-SHA256, written in base62.
 */
const CHARSET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function encodeBase62(value: bigint): string {
  if (value === 0n) return CHARSET[0];
  let out = '';
  for (let n = value; n > 0n; n /= 62n) out = CHARSET[Number(n % 62n)] + out;
  return out;
}

export function hmacSignature(secretKey: string, message: string): string {
  const hex = createHmac('sha256', secretKey).update(message).digest('hex').substring(0, 30);
  return encodeBase62(BigInt(`0x${hex}`));
}

export function createStorageContentSignature(input: {
  resourceId: string;
  secretKey: string;
  expiresAt?: Date | null;
  version?: number;
}): string {
  const version = input.version ?? 0;
  const expiresAt = input.expiresAt ? input.expiresAt.getTime() : 0;
  const hmac = hmacSignature(input.secretKey, `${version}.${expiresAt}.${input.resourceId}`);
  return Buffer.from(`${version}.${expiresAt}.${hmac}`).toString('base64url');
}

const equal = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export type SignatureCheck = 'valid' | 'expired' | 'invalid';

export function checkStorageContentSignature(
  signature: string,
  resourceId: string,
  secretKey: string,
  now = Date.now(),
): SignatureCheck {
  const decoded = Buffer.from(signature, 'base64url').toString('utf8');
  // Only the canonical encoding is accepted: base64url decoding ignores stray characters.
  if (Buffer.from(decoded).toString('base64url') !== signature) return 'invalid';
  const match = /^(\d{1,3})\.(\d{1,16})\.([0-9A-Za-z]{1,40})$/.exec(decoded);
  if (!match) return 'invalid';
  const [, version, expiresAt, hmac] = match;
  if (!equal(hmac, hmacSignature(secretKey, `${version}.${expiresAt}.${resourceId}`))) return 'invalid';
  return expiresAt !== '0' && Number(expiresAt) <= now ? 'expired' : 'valid';
}

/**
 * Whether a record key has the form of what a signed listing of its store signs
 * (`<version>.<expiry>.<store id>`): the record's signature (the HMAC of its key) would be the
 * listing's, so such a key is neither stored nor opened by a signature.
 */
export function isStorageListingPayload(recordKey: string, resourceId: string): boolean {
  return /^\d+\.\d+\.(.+)$/.exec(recordKey)?.[1] === resourceId;
}

/** A record's signature: the HMAC of its key; never for a key shaped as its store's listing payload. */
export function checkRecordSignature(
  signature: string,
  recordKey: string,
  secretKey: string,
  resourceId: string,
): SignatureCheck {
  return /^[0-9A-Za-z]{1,40}$/.test(signature) &&
    !isStorageListingPayload(recordKey, resourceId) &&
    equal(signature, hmacSignature(secretKey, recordKey))
    ? 'valid'
    : 'invalid';
}
