import {
  AccountFacts,
  DecisionRule,
  expandPermissions,
  Permission,
  PERMISSIONS_BY_TYPE,
  ResourceFacts,
} from '@atrium/contracts';

export interface DecisionFacts {
  userId: string | null;
  resource: ResourceFacts;
  /** Needed only when the resource follows its owner's setting. */
  owner: AccountFacts | null;
  /** Active (unexpired) grants of the user on the resource. */
  grantedPermissions: Permission[];
  addressedByName: boolean;
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

/**
 * The decision order of DESIGN.md for what exists so far: owner, then grants, then general
 * access (READ only; addressing by `username~name` needs ANYONE_WITH_NAME_CAN_READ). Pure: the
 * caller supplies the facts.
 */
export function decide(facts: DecisionFacts): Decision {
  const permissions = new Map<Permission, DecisionRule>();
  const give = (perms: readonly Permission[], rule: DecisionRule) => {
    for (const p of perms) if (!permissions.has(p)) permissions.set(p, rule);
  };
  if (facts.userId !== null && facts.userId === facts.resource.ownerId) {
    give(PERMISSIONS_BY_TYPE[facts.resource.type], 'owner');
  }
  if (facts.userId !== null) give(expandPermissions(facts.grantedPermissions), 'grant');
  const general = effectiveGeneralAccess(facts.resource, facts.owner);
  if (general === 'ANYONE_WITH_NAME_CAN_READ' || (general === 'ANYONE_WITH_ID_CAN_READ' && !facts.addressedByName)) {
    give(['READ'], 'general-access');
  }
  return { permissions };
}
