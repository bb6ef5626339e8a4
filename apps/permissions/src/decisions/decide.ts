import {
  AccountFacts,
  DecisionRule,
  expandPermissions,
  LINK_SHAREABLE_TYPES,
  NAME_SHAREABLE_TYPES,
  Permission,
  PERMISSIONS_BY_TYPE,
  ResourceFacts,
  STORAGE_TYPES,
} from '@atrium/contracts';

/** What the caller holds on a related resource (the run of a storage, the Actor of a run…). */
export interface RelatedAccess {
  facts: ResourceFacts;
  held: ReadonlyMap<Permission, DecisionRule>;
}

export interface DecisionFacts {
  userId: string | null;
  resource: ResourceFacts;
  /** The owner account: its general access setting and, for runs, its run-sharing opt-in. */
  owner: AccountFacts | null;
  /** Active (unexpired) grants of the user on the resource. */
  grantedPermissions: Permission[];
  addressedByName: boolean;
  /** The Actor of a run or build, the task of a run, the run of a storage, when there is one. */
  actor?: RelatedAccess | null;
  task?: RelatedAccess | null;
  run?: RelatedAccess | null;
}

/** A decision with what decided it: for the check path, explain and caches. */
export interface Evaluation extends RelatedAccess {
  owner: AccountFacts | null;
  /** The caller's grant on the resource in force, if any. */
  grantId: string | null;
  actor?: Evaluation | null;
  task?: Evaluation | null;
  run?: Evaluation | null;
  /** The earliest time at which time alone changes this decision (an expiry or a start). */
  validUntil: Date | null;
}

export interface Decision {
  /** Every permission held, each with the first rule of the decision order that gives it. */
  permissions: Map<Permission, DecisionRule>;
}

/** The resource's own general access, or its owner's setting when it follows that. */
export function effectiveGeneralAccess(resource: ResourceFacts, owner: AccountFacts | null) {
  if (resource.generalAccess !== 'FOLLOW_USER_SETTING') return resource.generalAccess;
  return owner?.generalResourceAccess ?? 'RESTRICTED';
}

const isStorage = (facts: ResourceFacts) => (STORAGE_TYPES as readonly string[]).includes(facts.type);

/**
 * The decision order of DESIGN.md: owner, grants, derived access, general access. Pure: the
 * caller supplies the facts, including what the caller holds on related resources.
 */
export function decide(facts: DecisionFacts): Decision {
  const { userId, resource } = facts;
  const permissions = new Map<Permission, DecisionRule>();
  const give = (perms: readonly Permission[], rule: DecisionRule) => {
    for (const p of perms) if (!permissions.has(p)) permissions.set(p, rule);
  };

  // 2. Owner account.
  if (userId !== null && userId === resource.ownerId) give(PERMISSIONS_BY_TYPE[resource.type], 'owner');
  // 4. Grants on the resource.
  if (userId !== null) give(expandPermissions(facts.grantedPermissions), 'grant');

  // 5. Derived access.
  if (isStorage(resource) && facts.run?.held.has('READ')) give(['READ'], 'run-storage');
  if (resource.type === 'ACTOR_RUN') {
    const ownerRunOf = (related: RelatedAccess | null | undefined) =>
      related?.held.has('VIEW_OWNER_RUNS') && related.facts.ownerId === resource.ownerId;
    if (ownerRunOf(facts.actor) || ownerRunOf(facts.task)) give(['READ'], 'view-owner-runs');
    if (
      userId !== null &&
      facts.owner?.shareRunsWithPublicActorCreators &&
      facts.actor?.facts.isPublic &&
      facts.actor.facts.ownerId === userId
    ) {
      give(['READ'], 'shared-with-public-actor-creator');
    }
  }
  if (resource.type === 'ACTOR_BUILD' && facts.actor?.facts.isPublic && facts.actor.held.has('READ')) {
    give(['READ'], 'public-actor-build');
  }
  if (resource.type === 'ACTOR' && resource.isPublic)
    give(userId === null ? ['READ'] : ['READ', 'RUN'], 'public-actor');

  // 6. General access: READ only, link-shareable types only.
  if (LINK_SHAREABLE_TYPES.includes(resource.type)) {
    const general = effectiveGeneralAccess(resource, facts.owner);
    const byName = general === 'ANYONE_WITH_NAME_CAN_READ' && NAME_SHAREABLE_TYPES.includes(resource.type);
    const byId = general === 'ANYONE_WITH_ID_CAN_READ' || general === 'ANYONE_WITH_NAME_CAN_READ';
    if (byName || (byId && !facts.addressedByName)) give(['READ'], 'general-access');
  }
  return { permissions };
}
