import { Permission, ResourceType } from '@atrium/contracts';
import { takesSigningKeyAway } from './grant-storage-keys';

describe('takesSigningKeyAway: which grant changes rotate a storage signing key', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  const hour = 3_600_000;
  const grant = (
    permissions: Permission[],
    window: { notBefore?: number; expiresAt?: number } = {},
    resourceType: ResourceType = 'DATASET',
  ) => ({
    id: 'g',
    resourceType,
    permissions,
    notBefore: window.notBefore === undefined ? null : new Date(now.getTime() + window.notBefore),
    expiresAt: window.expiresAt === undefined ? null : new Date(now.getTime() + window.expiresAt),
  });
  const takes = (before: ReturnType<typeof grant>, after: ReturnType<typeof grant> | null) =>
    takesSigningKeyAway(before, after, now);

  it('rotates when a grant that reached the key is revoked, or changed so that it no longer does', () => {
    expect(takes(grant(['WRITE']), null)).toBe(true);
    expect(takes(grant(['MANAGE_ACCESS']), null)).toBe(true); // it could rotate the key and be shown the new one
    expect(takes(grant(['WRITE']), grant(['READ']))).toBe(true);
    expect(takes(grant(['WRITE', 'MANAGE_ACCESS']), grant(['READ']))).toBe(true);
    expect(takes(grant(['WRITE']), grant(['WRITE'], { notBefore: hour }))).toBe(true); // postponed
    expect(takes(grant(['WRITE'], { expiresAt: -hour }), null)).toBe(true); // expired, but the key was seen
    expect(takes(grant(['WRITE'], { expiresAt: -hour }), grant(['WRITE'], { expiresAt: -hour }))).toBe(true);
  });

  it('keeps the key when nothing that reached it is taken away', () => {
    expect(takes(grant(['READ']), null)).toBe(false);
    expect(takes(grant(['WRITE']), grant(['WRITE', 'MANAGE_ACCESS']))).toBe(false);
    expect(takes(grant(['WRITE']), grant(['MANAGE_ACCESS']))).toBe(false);
    expect(takes(grant(['WRITE']), grant(['WRITE'], { expiresAt: hour }))).toBe(false);
    expect(takes(grant(['WRITE'], { notBefore: hour }), null)).toBe(false); // never began: never shown
  });

  it("never rotates for grants on other types: a run's storages follow its READ only", () => {
    expect(takes(grant(['WRITE', 'MANAGE_ACCESS'], {}, 'ACTOR_RUN'), null)).toBe(false);
    expect(takes(grant(['WRITE'], {}, 'ACTOR'), null)).toBe(false);
  });
});
