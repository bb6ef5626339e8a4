import { z } from 'zod';
import { expandPermissions, Permission, STORAGE_TYPES } from './access.enums';

/**
 * The permissions that put a storage's URL signing key in a holder's hands: WRITE shows it
 * (`urlSigningSecretKey`), MANAGE_ACCESS rotates it and is answered with the new one.
 */
export const SIGNING_KEY_PERMISSIONS: readonly Permission[] = ['WRITE', 'MANAGE_ACCESS'];

/** Whether these permissions (as granted: WRITE implies READ) reach a storage's signing key. */
export function reachesSigningKey(permissions: readonly Permission[]): boolean {
  return expandPermissions(permissions).some((p) => SIGNING_KEY_PERMISSIONS.includes(p));
}

/**
 * New signing keys for storages someone who could read the old key no longer may: what they
 * signed with it (links without expiry included) stops working. Declared by the change that takes
 * the access away, in its own transaction (an event through its outbox), and applied by the
 * resources service once per `rotationId` — also when the changer applies it before answering.
 */
export const signingKeyRotationSchema = z
  .object({
    /** The idempotency key: a rotation is applied once, however often it is asked for. */
    rotationId: z.string().uuid(),
    /** The account whose storages get new keys. */
    ownerId: z.string().min(1).max(100),
    /** Only these storages of the account (a grant's); absent: all of them (an organization member's). */
    resourceIds: z.array(z.string().min(1).max(100)).min(1).max(100).optional(),
    types: z.array(z.enum(STORAGE_TYPES)).min(1),
    reason: z.enum(['grant-revoked', 'grant-updated', 'membership-changed']),
  })
  .strict();
export type SigningKeyRotation = z.infer<typeof signingKeyRotationSchema>;
