import { createStorageContentSignature } from '@atrium/auth';

const PUBLIC_URL_TTL_MS = 14 * 24 * 60 * 60 * 1000;

export interface StorageViewBase {
  id: string;
  urlSigningSecretKey: string;
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
  const { urlSigningSecretKey, ...visible } = view;
  const writer = permissions.includes('WRITE');
  const presented: Record<string, unknown> = {
    ...visible,
    ...(writer ? { urlSigningSecretKey } : {}),
    consoleUrl: `${options.baseUrl}/storage/${options.collection}/${view.id}`,
  };
  if (options.publicContent) {
    const url = new URL(
      `${options.baseUrl}/v2/${options.collection}/${view.id}/${options.publicContent.path}`,
    );
    if (writer) {
      const expiresAt = new Date(Date.now() + PUBLIC_URL_TTL_MS);
      url.searchParams.set(
        'signature',
        createStorageContentSignature({ resourceId: view.id, secretKey: urlSigningSecretKey, expiresAt }),
      );
    }
    presented[options.publicContent.field] = url.toString();
  }
  return presented as Omit<V, 'urlSigningSecretKey'> & Record<string, unknown>;
}
