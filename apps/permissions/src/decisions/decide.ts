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
  trace: RuleOutcome[];
  /** The caller's grant on the resource in force, if any. */
  grantId: string | null;
  actor?: Evaluation | null;
  task?: Evaluation | null;
  run?: Evaluation | null;
  /** The earliest time at which time alone changes this decision (an expiry or a start). */
  validUntil: Date | null;
}

/** One rule of the decision order as it applied: what it gives (maybe nothing) and why. */
export interface RuleOutcome {
  rule: DecisionRule;
  gives: Permission[];
  detail: string;
}

export interface Decision {
  /** Every permission held, each with the first rule of the decision order that gives it. */
  permissions: Map<Permission, DecisionRule>;
  /** Every rule checked, in order (for explain). */
  trace: RuleOutcome[];
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
  const trace: RuleOutcome[] = [];
  const rule = (name: DecisionRule, gives: readonly Permission[], detail: string) =>
    trace.push({ rule: name, gives: [...gives], detail });
  const who = userId ?? 'anonymous';
  const type = resource.type.toLowerCase().replace(/_/g, ' ');

  // 2. Owner account.
  const owns = userId !== null && userId === resource.ownerId;
  rule(
    'owner',
    owns ? PERMISSIONS_BY_TYPE[resource.type] : [],
    owns ? `${who} owns the ${type}` : `the ${type} is owned by account ${resource.ownerId}`,
  );

  // 4. Grants on the resource.
  const granted = userId !== null ? expandPermissions(facts.grantedPermissions) : [];
  rule(
    'grant',
    granted,
    granted.length ? `a grant gives ${who} ${granted.join(', ')}` : `no grant in force for ${who}`,
  );

  // 5. Derived access.
  if (isStorage(resource) && resource.runId) {
    const via = facts.run?.held.get('READ');
    rule(
      'run-storage',
      via ? ['READ'] : [],
      via
        ? `default storage of run ${resource.runId}, which ${who} may READ (${via})`
        : `default storage of run ${resource.runId}, which ${who} may not READ`,
    );
  }
  if (resource.type === 'ACTOR_RUN') {
    const ownerRunOf = (related: RelatedAccess | null | undefined) =>
      related?.held.has('VIEW_OWNER_RUNS') && related.facts.ownerId === resource.ownerId;
    const parent = ownerRunOf(facts.actor) ? facts.actor : ownerRunOf(facts.task) ? facts.task : null;
    rule(
      'view-owner-runs',
      parent ? ['READ'] : [],
      parent
        ? `VIEW_OWNER_RUNS on ${parent.facts.type === 'ACTOR' ? 'Actor' : 'task'} ${parent.facts.id} (${parent.held.get('VIEW_OWNER_RUNS')}), and its owner started the run`
        : `no VIEW_OWNER_RUNS on the run's Actor or task whose owner started it`,
    );
    const creator =
      userId !== null &&
      !!facts.owner?.shareRunsWithPublicActorCreators &&
      !!facts.actor?.facts.isPublic &&
      facts.actor.facts.ownerId === userId;
    rule(
      'shared-with-public-actor-creator',
      creator ? ['READ'] : [],
      creator
        ? `${who} created public Actor ${facts.actor?.facts.id}, and the run's starter shares runs with public Actor creators`
        : 'not the creator of a public Actor whose runner opted in to share runs',
    );
  }
  if (resource.type === 'ACTOR_BUILD') {
    const viewable = !!facts.actor?.facts.isPublic && !!facts.actor.held.has('READ');
    rule(
      'public-actor-build',
      viewable ? ['READ'] : [],
      viewable ? `build of public Actor ${resource.actorId}` : `the build's Actor is not public`,
    );
  }
  if (resource.type === 'ACTOR') {
    rule(
      'public-actor',
      resource.isPublic ? (userId === null ? ['READ'] : ['READ', 'RUN']) : [],
      resource.isPublic
        ? 'the Actor is public: readable by all, runnable when signed in'
        : 'the Actor is not public',
    );
  }

  // 6. General access: READ only, link-shareable types only.
  if (LINK_SHAREABLE_TYPES.includes(resource.type)) {
    const general = effectiveGeneralAccess(resource, facts.owner);
    const source =
      resource.generalAccess === 'FOLLOW_USER_SETTING'
        ? `the owner account's setting ${general}`
        : `its own setting ${general}`;
    const byName = general === 'ANYONE_WITH_NAME_CAN_READ' && NAME_SHAREABLE_TYPES.includes(resource.type);
    const byId = general === 'ANYONE_WITH_ID_CAN_READ' || general === 'ANYONE_WITH_NAME_CAN_READ';
    const opens = byName || (byId && !facts.addressedByName);
    rule(
      'general-access',
      opens ? ['READ'] : [],
      `general access: ${source}${byId && !opens ? ' (opens addressing by id only)' : ''}`,
    );
  }

  const permissions = new Map<Permission, DecisionRule>();
  for (const outcome of trace)
    for (const p of outcome.gives) if (!permissions.has(p)) permissions.set(p, outcome.rule);
  return { permissions, trace };
}
