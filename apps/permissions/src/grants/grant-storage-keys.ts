import { Injectable, Logger } from '@nestjs/common';
import {
  AppError,
  Events,
  reachesSigningKey,
  ResourcesRpc,
  SigningKeyRotation,
  STORAGE_TYPES,
  StorageType,
} from '@atrium/contracts';
import { addToOutbox, RpcClient } from '@atrium/messaging';
import { randomUUID } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { GrantEntity } from './grant.entity';

type GrantState = Pick<GrantEntity, 'id' | 'resourceType' | 'permissions' | 'expiresAt' | 'notBefore'>;

/**
 * Whether a change of a storage grant (`after` null: revoked) takes its holder's reach of the
 * storage's signing key away: the grant reached it once it had begun (an expired grant's holder
 * may have read the key while it was in force), and no longer reaches it now. A run's grant never
 * reaches a key: its default storages follow its READ only (decide(), `run-storage`).
 */
export function takesSigningKeyAway(before: GrantState, after: GrantState | null, now = new Date()): boolean {
  if (!(STORAGE_TYPES as readonly string[]).includes(before.resourceType)) return false;
  const begun = (grant: GrantState) => !grant.notBefore || grant.notBefore <= now;
  if (!begun(before) || !reachesSigningKey(before.permissions)) return false;
  const inForce = after && begun(after) && (!after.expiresAt || after.expiresAt > now);
  return !inForce || !reachesSigningKey(after.permissions);
}

/**
 * A grant revoked or narrowed so that its holder no longer reaches the storage's signing key takes
 * nothing with it: the change declares a new key in its own transaction (an event through the
 * outbox, applied at least once by the resources service) and asks the resources service to apply
 * it before the change is answered, with the same rotation id (applied once in all).
 */
@Injectable()
export class GrantStorageKeys {
  private readonly logger = new Logger(GrantStorageKeys.name);

  constructor(private readonly rpc: RpcClient) {}

  /** In the change's transaction: the storage's rotation, announced, when the change calls for one. */
  async declareIfTaken(
    manager: EntityManager,
    ownerId: string | undefined,
    before: GrantState & { resourceId: string },
    after: GrantState | null,
  ): Promise<SigningKeyRotation | null> {
    // A storage gone from the catalogue has no key left to rotate.
    if (!ownerId || !takesSigningKeyAway(before, after)) return null;
    const rotation: SigningKeyRotation = {
      rotationId: randomUUID(),
      ownerId,
      resourceIds: [before.resourceId],
      types: [before.resourceType as StorageType],
      reason: after ? 'grant-updated' : 'grant-revoked',
    };
    await addToOutbox(manager, Events.signingKeysRotationRequested, rotation);
    return rotation;
  }

  /**
   * After the commit, before the answer. If the resources service cannot be reached the caller is
   * told (503) that the grant is changed but the key not rotated yet: the event still rotates it.
   */
  async applyNow(rotation: SigningKeyRotation | null): Promise<void> {
    if (!rotation) return;
    try {
      await this.rpc.call(ResourcesRpc.rotateSigningKeys, rotation);
    } catch (err) {
      this.logger.warn(`Rotation ${rotation.rotationId} left to its event: ${(err as Error).message}`);
      throw new AppError(
        'service-unavailable',
        "The grant is changed, but the storage's signing key is not rotated yet; it will be shortly, and links signed with the old key work until then",
      );
    }
  }
}
