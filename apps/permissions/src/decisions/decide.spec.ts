import { AccountFacts, ResourceFacts } from '@atrium/contracts';
import { decide, DecisionFacts } from './decide';

const owner: AccountFacts = {
  id: 'A'.repeat(17),
  username: 'alice',
  generalResourceAccess: 'RESTRICTED',
  shareRunsWithPublicActorCreators: false,
  version: 1,
};
const resource: ResourceFacts = {
  id: 'D'.repeat(17),
  type: 'DATASET',
  ownerId: owner.id,
  name: 'data',
  generalAccess: 'FOLLOW_USER_SETTING',
  isPublic: false,
  actorId: null,
  taskId: null,
  runId: null,
  groupId: null,
  version: 1,
};
const base: DecisionFacts = {
  userId: 'B'.repeat(17),
  resource,
  owner,
  grantedPermissions: [],
  addressedByName: false,
};
const held = (facts: Partial<DecisionFacts>) => Object.fromEntries(decide({ ...base, ...facts }).permissions);

describe('decide', () => {
  it('gives the owner every permission of the type', () => {
    expect(held({ userId: owner.id })).toEqual({ READ: 'owner', WRITE: 'owner', MANAGE_ACCESS: 'owner' });
  });

  it('denies a stranger when the owner account is restricted', () => {
    expect(held({})).toEqual({});
  });

  it('follows the owner setting and lets anyone with the id read', () => {
    const open = { ...owner, generalResourceAccess: 'ANYONE_WITH_ID_CAN_READ' as const };
    expect(held({ owner: open })).toEqual({ READ: 'general-access' });
    expect(held({ owner: open, userId: null })).toEqual({ READ: 'general-access' });
    expect(held({ owner: open, addressedByName: true })).toEqual({});
  });

  it('lets the resource setting override the owner setting both ways', () => {
    const open = { ...owner, generalResourceAccess: 'ANYONE_WITH_ID_CAN_READ' as const };
    expect(held({ owner: open, resource: { ...resource, generalAccess: 'RESTRICTED' } })).toEqual({});
    expect(
      held({ resource: { ...resource, generalAccess: 'ANYONE_WITH_NAME_CAN_READ' }, addressedByName: true }),
    ).toEqual({
      READ: 'general-access',
    });
  });

  it('expands granted permissions with what they imply', () => {
    expect(held({ grantedPermissions: ['WRITE'] })).toEqual({ WRITE: 'grant', READ: 'grant' });
  });

  it('never gives anonymous callers grants or ownership', () => {
    expect(held({ userId: null, grantedPermissions: ['WRITE'] })).toEqual({});
  });
});
