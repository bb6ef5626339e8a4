import { ApiTokenScope, MembershipFacts, ResourceFacts, scopeAllows } from '@atrium/contracts';
import { decide, DecisionFacts } from './decide';

const ORG = 'O'.repeat(17);
const USER = 'U'.repeat(17);
const facts = (type: ResourceFacts['type'], extra: Partial<ResourceFacts> = {}): ResourceFacts => ({
  id: 'R'.repeat(17),
  type,
  ownerId: ORG,
  name: null,
  generalAccess: 'RESTRICTED',
  isPublic: false,
  actorId: null,
  taskId: null,
  runId: null,
  groupId: null,
  version: 1,
  ...extra,
});
const member = (kind: MembershipFacts['kind'], bindings: MembershipFacts['bindings']): MembershipFacts => ({
  accountId: ORG,
  userId: USER,
  kind,
  active: true,
  roleName: 'Role',
  bindings,
  version: 1,
});
const held = (resource: ResourceFacts, extra: Partial<DecisionFacts>) =>
  Object.fromEntries(
    decide({ userId: USER, resource, owner: null, grantedPermissions: [], addressedByName: false, ...extra })
      .permissions,
  );

describe('organization members', () => {
  const readOnly = member('ORGANIZATION', [
    { kind: 'category', target: 'ACTOR', permissions: ['READ'] },
    { kind: 'category', target: 'STORAGE', permissions: ['READ'] },
  ]);
  const developer = member('ORGANIZATION', [
    { kind: 'category', target: 'ACTOR', permissions: ['READ', 'WRITE', 'RUN', 'BUILD'] },
    { kind: 'category', target: 'STORAGE', permissions: ['READ', 'WRITE'] },
  ]);

  it('apply the role to every resource of the category the organization owns', () => {
    expect(held(facts('DATASET'), { memberships: [readOnly] })).toEqual({ READ: 'organization-member' });
    expect(held(facts('KEY_VALUE_STORE'), { memberships: [developer] })).toEqual({
      READ: 'organization-member',
      WRITE: 'organization-member',
    });
    expect(held(facts('ACTOR_TASK'), { memberships: [developer] })).toEqual({});
  });

  it('let runs and builds follow the Actor permissions (RUN → abort)', () => {
    expect(held(facts('ACTOR_RUN'), { memberships: [readOnly] })).toEqual({ READ: 'organization-member' });
    expect(held(facts('ACTOR_RUN'), { memberships: [developer] })).toEqual({
      READ: 'organization-member',
      WRITE: 'organization-member',
    });
  });

  it('give nothing beyond the role, and a grant still adds to it', () => {
    const decision = held(facts('DATASET'), { memberships: [readOnly], grantedPermissions: ['WRITE'] });
    expect(decision).toEqual({ READ: 'organization-member', WRITE: 'grant' });
  });
});

describe('account collaboration', () => {
  const GROUP = 'G'.repeat(17);
  const PARENT = 'P'.repeat(17);
  const env = facts('ENVIRONMENT', { groupId: GROUP });
  const shares = member('COLLABORATION', [
    { kind: 'category', target: 'ENVIRONMENTS', permissions: ['READ', 'LOGS'] },
    { kind: 'resource', target: PARENT, permissions: ['READ', 'RESTART'] },
  ]);

  it('uses the nearest group with a binding before the category', () => {
    expect(held(env, { memberships: [shares], groupChain: [GROUP, PARENT] })).toEqual({
      READ: 'collaboration',
      RESTART: 'collaboration',
    });
    expect(held(facts('ENVIRONMENT'), { memberships: [shares], groupChain: [] })).toEqual({
      READ: 'collaboration',
      LOGS: 'collaboration',
    });
  });

  it('lets a direct binding win over every group, combining the roles bound there', () => {
    const direct = member('COLLABORATION', [
      ...shares.bindings,
      { kind: 'resource', target: env.id, permissions: ['DEPLOY'] },
      { kind: 'resource', target: env.id, permissions: ['SSH'] },
    ]);
    expect(held(env, { memberships: [direct], groupChain: [GROUP, PARENT] })).toEqual({
      READ: 'collaboration',
      DEPLOY: 'collaboration',
      SSH: 'collaboration',
    });
  });

  it('gives nothing outside environments, and nothing to an inactive membership (the query omits it)', () => {
    expect(held(facts('DATASET'), { memberships: [shares] })).toEqual({});
    expect(held(env, { memberships: [], groupChain: [GROUP, PARENT] })).toEqual({});
  });
});

describe('token scopes', () => {
  const scope: ApiTokenScope = {
    account: { STORAGE: ['READ'] },
    resources: [{ type: 'ACTOR', id: 'A'.repeat(17), permissions: ['RUN'] }],
  };
  const on = (type: ResourceFacts['type'], extra: Partial<ResourceFacts> = {}) =>
    [...scopeAllows(scope, facts(type, extra))].sort();

  it('allow account-level permissions per category, WRITE never implied by READ', () => {
    expect(on('DATASET')).toEqual(['READ']);
    expect(on('ACTOR_TASK')).toEqual([]);
  });

  it('allow resource-specific permissions with what they imply, and runs follow their Actor', () => {
    expect(on('ACTOR', { id: 'A'.repeat(17) })).toEqual(['READ', 'RUN']);
    expect(on('ACTOR', { id: 'B'.repeat(17) })).toEqual([]);
    expect(on('ACTOR_RUN', { actorId: 'A'.repeat(17) })).toEqual(['READ', 'WRITE']);
  });
});
