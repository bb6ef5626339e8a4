import {
  AccountFacts,
  categoryOf,
  categoryPermissionsOn,
  DecisionRule,
  expandPermissions as expand,
  GENERAL_ACCESS,
  MembershipFacts,
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
  /** Its owner account, when known (a run's, for the general access its storages follow). */
  owner?: AccountFacts | null;
}

export interface DecisionFacts {
  userId: string | null;
  resource: ResourceFacts;
  /** The owner account: its general access setting and, for runs, its run-sharing opt-in. */
  owner: AccountFacts | null;
  /** The user's active memberships in the owner account (organization, account collaboration). */
  memberships?: readonly MembershipFacts[];
  /** Environments and groups: the resource's group, then that group's parents, nearest first. */
  groupChain?: readonly string[];
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
  actor?: Evaluation | null;
  task?: Evaluation | null;
  run?: Evaluation | null;
  /** The earliest time at which time alone changes this decision (an expiry or a start). */
  validUntil: Date | null;
  /** Collaboration: the groups above the resource whose shares were consulted, nearest first. */
  groupChain: string[];
}

/**
 * The resources whose facts or grants an evaluation read: the resource itself, the groups above
 * it and, recursively, its Actor, task and run. A change of access on any other resource cannot
 * change this decision (changes of accounts are per account: `accountDependenciesOf`; of
 * memberships, per member: the user the decision is about).
 */
export function dependenciesOf(evaluation: Evaluation, into = new Set<string>()): Set<string> {
  into.add(evaluation.facts.id);
  evaluation.groupChain.forEach((id) => into.add(id));
  for (const related of [evaluation.actor, evaluation.task, evaluation.run])
    if (related) dependenciesOf(related, into);
  return into;
}

/**
 * The accounts whose settings (general access, run sharing, username) and whose memberships of
 * the user an evaluation read: the owners of the resources it read (`dependenciesOf`; groups are
 * their resource's owner's). A change of any other account cannot change this decision.
 */
export function accountDependenciesOf(evaluation: Evaluation, into = new Set<string>()): Set<string> {
  into.add(evaluation.facts.ownerId);
  for (const related of [evaluation.actor, evaluation.task, evaluation.run])
    if (related) accountDependenciesOf(related, into);
  return into;
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

/**
 * The most specific shared item of a collaboration that covers the resource: a binding on the
 * resource itself, else on its nearest group with a binding (up the parent chain), else on the
 * ENVIRONMENTS category. Only that level's permissions apply (the roles bound there combined).
 */
export function collaborationLevel(
  membership: MembershipFacts,
  resource: { id: string; type: ResourceFacts['type'] },
  groupChain: readonly string[],
): { permissions: Permission[]; via: string } | null {
  if (categoryOf(resource.type) !== 'ENVIRONMENTS') return null;
  const on = (kind: 'resource' | 'category', target: string) => {
    const bound = membership.bindings.filter((b) => b.kind === kind && b.target === target);
    return bound.length ? bound.flatMap((b) => b.permissions) : null;
  };
  const direct = on('resource', resource.id);
  if (direct) return { permissions: direct, via: `directly (${resource.type.toLowerCase()} ${resource.id})` };
  for (const groupId of groupChain) {
    const viaGroup = on('resource', groupId);
    if (viaGroup) return { permissions: viaGroup, via: `through environment group ${groupId}` };
  }
  const category = on('category', 'ENVIRONMENTS');
  return category ? { permissions: category, via: 'through the ENVIRONMENTS category' } : null;
}

/** The resource's own general access, or its owner's setting when it follows that. */
export function effectiveGeneralAccess(resource: ResourceFacts, owner: AccountFacts | null) {
  if (resource.generalAccess !== 'FOLLOW_USER_SETTING') return resource.generalAccess;
  return owner?.generalResourceAccess ?? 'RESTRICTED';
}

const isStorage = (facts: ResourceFacts) => (STORAGE_TYPES as readonly string[]).includes(facts.type);

/**
 * The general access rule 6 applies, and why: the resource's own setting, or with
 * `FOLLOW_USER_SETTING` the owner's — except a run's default storage, which follows its run's
 * (which follows the run owner's account): restricting a run restricts what it produced. The one
 * place this is computed, for decide() and for what `/access` reports.
 */
export function appliedGeneralAccess(
  resource: ResourceFacts,
  owner: AccountFacts | null,
  run: Pick<RelatedAccess, 'facts' | 'owner'> | null | undefined,
): { access: ReturnType<typeof effectiveGeneralAccess>; source: string } {
  const ofRun = isStorage(resource) && resource.runId ? run : null;
  const follows = resource.generalAccess === 'FOLLOW_USER_SETTING';
  const access =
    follows && ofRun
      ? effectiveGeneralAccess(ofRun.facts, ofRun.owner ?? owner)
      : effectiveGeneralAccess(resource, owner);
  const source = !follows
    ? `its own setting ${access}`
    : !ofRun
      ? `the owner account's setting ${access}`
      : ofRun.facts.generalAccess === 'FOLLOW_USER_SETTING'
        ? `the owner account's setting ${access}, which run ${ofRun.facts.id} follows and its default storage with it`
        : `run ${ofRun.facts.id}'s own setting ${access}, which its default storage follows`;
  return { access, source };
}

/**
 * The general access a stranger meets, as `/access` reports it: the applied setting, or — for a
 * run's default storage whose own setting is stricter — its run's, since rule 5 gives READ of the
 * storage to whoever may READ the run (restricting the storage alone does not hide it).
 */
export function generalAccessForStrangers(
  resource: ResourceFacts,
  owner: AccountFacts | null,
  run: Pick<RelatedAccess, 'facts' | 'owner'> | null | undefined,
): ReturnType<typeof effectiveGeneralAccess> {
  const own = appliedGeneralAccess(resource, owner, run).access;
  if (!isStorage(resource) || !resource.runId || !run) return own;
  const ofRun = effectiveGeneralAccess(run.facts, run.owner ?? owner);
  return GENERAL_ACCESS.indexOf(ofRun) > GENERAL_ACCESS.indexOf(own) ? ofRun : own;
}

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

  // 2. Owner account, continued: a member of the organization that owns it, by its role.
  const organization = facts.memberships?.find((m) => m.kind === 'ORGANIZATION');
  if (organization) {
    const category = categoryOf(resource.type);
    const binding = organization.bindings.find((b) => b.kind === 'category' && b.target === category);
    const gives = binding ? categoryPermissionsOn(resource.type, binding.permissions) : [];
    rule(
      'organization-member',
      gives,
      `member of organization ${resource.ownerId} with role ${organization.roleName}` +
        (gives.length
          ? ` → ${category} ${binding?.permissions.join(', ')}`
          : ` (no ${category ?? 'such'} permissions)`),
    );
  }

  // 3. Account collaboration: bindings on the resource, else its nearest group, else the category.
  const collaboration = facts.memberships?.find((m) => m.kind === 'COLLABORATION');
  if (collaboration) {
    const level = collaborationLevel(collaboration, resource, facts.groupChain ?? []);
    const gives = level
      ? expand(level.permissions).filter((p) => PERMISSIONS_BY_TYPE[resource.type].includes(p))
      : [];
    rule(
      'collaboration',
      gives,
      level
        ? `collaborator of account ${resource.ownerId} with role ${collaboration.roleName}, shared ${level.via}`
        : `collaborator of account ${resource.ownerId}, but nothing of this is shared with ${who}`,
    );
  }

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

  // 6. General access: READ only, link-shareable types only. A run's default storage that follows
  // the user setting follows its run's (which follows the account's): restricting a run restricts
  // what it produced.
  if (LINK_SHAREABLE_TYPES.includes(resource.type)) {
    const { access: general, source } = appliedGeneralAccess(resource, facts.owner, facts.run);
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
