import { z } from 'zod';
import { RESOURCE_TYPES, STORAGE_TYPES } from './access.enums';
import { ResourceFacts } from './facts';
import { signingKeyRotationSchema } from './signing-keys';
import { ChangeVersionResponse, healthRequest, HealthResponse, rpc } from './rpc-route';
import { idSchema, resourceNameSchema } from './validation';

export const paginationSchema = z
  .object({
    offset: z.coerce.number().int().min(0).max(1_000_000_000).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(1000),
    desc: z.boolean().default(false),
  })
  .strict();

export interface ListPage<T> {
  total: number;
  offset: number;
  limit: number;
  count: number;
  desc: boolean;
  items: T[];
}

export const ResourcesRpc = {
  health: rpc<HealthResponse>()('resources', 'resources.health', healthRequest),
  /** The version of the storages' views (their catalogue rows and state): unchanged, what was read after it still holds. */
  changeVersion: rpc<ChangeVersionResponse>()('resources', 'resources.change-version', healthRequest),
  /** Checks a pre-signed URL's signature against the storage's current signing key. */
  verifySignature: rpc<{ valid: true }>()(
    'resources',
    'resources.signatures.verify',
    z
      .object({
        type: z.enum(STORAGE_TYPES),
        id: idSchema,
        signature: z.string().min(1).max(200),
        /** Set for a record's signature; absent for storage content (items, keys). */
        recordKey: z.string().min(1).max(256).optional(),
      })
      .strict(),
  ),
  /** Replaces a storage's signing key: every URL signed with the old one stops working. */
  rotateSigningKey: rpc<{ urlSigningSecretKey: string }>()(
    'resources',
    'resources.signatures.rotate-key',
    z.object({ type: z.enum(STORAGE_TYPES), id: idSchema }).strict(),
  ),
  /**
   * Applies a rotation its changer declared (`signing-keys.rotation-requested`) now, before the
   * change is answered; once per `rotationId`, whichever of this call and the event comes first.
   */
  rotateSigningKeys: rpc<{ rotated: number }>()(
    'resources',
    'resources.signatures.rotate-keys',
    signingKeyRotationSchema,
  ),
  getResourceFacts: rpc<ResourceFacts | null>()(
    'resources',
    'resources.catalogue.get-facts',
    z.object({ id: z.string().min(1).max(100) }).strict(),
  ),
  findResourceFactsByName: rpc<ResourceFacts | null>()(
    'resources',
    'resources.catalogue.find-facts-by-name',
    z.object({ type: z.enum(RESOURCE_TYPES), ownerId: z.string().min(1), name: resourceNameSchema }).strict(),
  ),
} as const;
