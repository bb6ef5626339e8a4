import { Events, SigningKeyRotation, STORAGE_TYPES } from '@atrium/contracts';
import { addToOutbox } from '@atrium/messaging';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';

/**
 * A member who could reach the signing keys of the organization's storages (its role had STORAGE
 * WRITE or MANAGE_ACCESS) and no longer can takes nothing with it: the change that took the access
 * away declares new keys for all of them, in its own transaction (an event through the outbox,
 * which the resources service applies at least once). The change's answer carries the rotation
 * (`MembershipChange.signingKeyRotation`) so that the gateway has it applied before it responds,
 * with the same rotation id: applied once in all.
 */
export async function declareStorageKeyRotation(
  manager: EntityManager,
  organizationId: string,
): Promise<SigningKeyRotation> {
  const rotation: SigningKeyRotation = {
    rotationId: randomUUID(),
    ownerId: organizationId,
    types: [...STORAGE_TYPES],
    reason: 'membership-changed',
  };
  await addToOutbox(manager, Events.signingKeysRotationRequested, rotation);
  return rotation;
}
