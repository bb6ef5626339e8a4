import { createStorageContentSignature } from '@atrium/auth';

const PUBLIC_URL_TTL_MS = 14 * 24 * 60 * 60 * 1000;
/**
 * Signed public URLs expire at the end of the minute 14 days from now, so one signature serves a
 * storage's writers for that minute (an HMAC per minute and storage, not per response).
 */
const SIGNATURE_BUCKET_MS = 60_000;
const MAX_SIGNATURES = 10_000;
const SAFE_SEGMENT = /^[A-Za-z0-9]+$/;

export interface StorageViewBase {
  id: string;
  urlSigningSecretKey: string;
}

/** Signatures of the current minute's expiry, by storage id (cleared when the minute changes). */
let signatures = new Map<string, { secretKey: string; signature: string }>();
let signaturesExpireAt = 0;

function contentSignature(resourceId: string, secretKey: string, now: number): string {
  const expiresAt = Math.ceil((now + PUBLIC_URL_TTL_MS) / SIGNATURE_BUCKET_MS) * SIGNATURE_BUCKET_MS;
  if (expiresAt !== signaturesExpireAt || signatures.size >= MAX_SIGNATURES) {
    signatures = new Map();
    signaturesExpireAt = expiresAt;
  }
  const cached = signatures.get(resourceId);
  if (cached && cached.secretKey === secretKey) return cached.signature;
  const signature = createStorageContentSignature({
    resourceId,
    secretKey,
    expiresAt: new Date(expiresAt),
  });
  signatures.set(resourceId, { secretKey, signature });
  return signature;
}

/** `${baseUrl}/v2/${collection}/` as `new URL()` normalizes it, or null if it has a query or hash. */
const prefixes = new Map<string, string | null>();
function normalizedPrefix(baseUrl: string, collection: string): string | null {
  const key = `${baseUrl}\n${collection}`;
  let prefix = prefixes.get(key);
  if (prefix === undefined) {
    const url = new URL(`${baseUrl}/v2/${collection}/`);
    prefix = url.search || url.hash ? null : url.toString();
    prefixes.set(key, prefix);
  }
  return prefix;
}

/** The storage's public content URL; string-built (as `new URL()` would write it) for plain ids. */
function contentUrl(
  baseUrl: string,
  collection: string,
  id: string,
  path: string,
  signature?: string,
): string {
  const prefix = normalizedPrefix(baseUrl, collection);
  if (prefix !== null && SAFE_SEGMENT.test(id) && SAFE_SEGMENT.test(path)) {
    // A signature is base64url, which URLSearchParams writes unescaped.
    return signature === undefined
      ? `${prefix}${id}/${path}`
      : `${prefix}${id}/${path}?signature=${signature}`;
  }
  const url = new URL(`${baseUrl}/v2/${collection}/${id}/${path}`);
  if (signature !== undefined) url.searchParams.set('signature', signature);
  return url.toString();
}

/**
 * How a storage is shown: the signing key only to writers; a console link; and, where the
 * storage has public content (`items`, `keys`), its public URL — signed for 14 days for writers,
 * unsigned for readers (who can read it anyway).
 */
export function presentStorage<V extends StorageViewBase>(
  view: V,
  permissions: readonly string[],
  options: { baseUrl: string; collection: string; publicContent?: { field: string; path: string } },
): Omit<V, 'urlSigningSecretKey'> & Record<string, unknown> {
  const urlSigningSecretKey = view.urlSigningSecretKey;
  const writer = permissions.includes('WRITE');
  // The view's fields in their order, the signing key (writers only) after them.
  const presented: Record<string, unknown> = {};
  for (const field in view) if (field !== 'urlSigningSecretKey') presented[field] = view[field];
  if (writer) presented.urlSigningSecretKey = urlSigningSecretKey;
  presented.consoleUrl = `${options.baseUrl}/storage/${options.collection}/${view.id}`;
  if (options.publicContent) {
    const signature = writer ? contentSignature(view.id, urlSigningSecretKey, Date.now()) : undefined;
    presented[options.publicContent.field] = contentUrl(
      options.baseUrl,
      options.collection,
      view.id,
      options.publicContent.path,
      signature,
    );
  }
  return presented as Omit<V, 'urlSigningSecretKey'> & Record<string, unknown>;
}
