import { z } from 'zod';
import { MEMBERSHIP_KINDS, MembershipKind } from './access-scope';
import { GeneralAccess, Permission, PERMISSIONS, RESOURCE_TYPES, ResourceType } from './access.enums';
import { principalSchema } from './principal';
import { ChangeVersionResponse, healthRequest, HealthResponse, rpc } from './rpc-route';
import { changedByField } from './facts';
import { ID_PATTERN, idSchema, isoDateSchema, resourceRefSchema } from './validation';

/** The rule of the decision order that allowed (DESIGN.md, "The decision"). */
export type DecisionRule =
  | 'owner'
  | 'organization-member'
  | 'collaboration'
  | 'grant'
  | 'run-storage'
  | 'view-owner-runs'
  | 'shared-with-public-actor-creator'
  | 'public-actor-build'
  | 'public-actor'
  | 'general-access'
  /** Explain only: what a scoped credential's scope leaves of the rules above (rule 1). */
  | 'token-scope'
  | 'none';

/**
 * Whether a principal may create (or list) resources of a type in an account. A scoped token
 * whose scope does not give READ on the whole category lists only `ids` (what its scope names
 * and what it created), each still decided on its own.
 */
export interface AccountCheckResult {
  allowed: boolean;
  rule: DecisionRule;
  detail: string;
  ids?: string[];
}

/** A move's decision; a refusal says why, and which permissions the move would have given. */
export interface MoveCheckResult {
  allowed: boolean;
  detail: string;
  /** On an escalation: the resource that would gain, and what. */
  gained?: { resourceId: string; permissions: Permission[] };
}

export interface CheckResult {
  /** Null when the reference names nothing, or nothing the caller may know of. */
  resourceId: string | null;
  /** Null when the check named no type and the id names nothing the caller may know of. */
  resourceType: ResourceType | null;
  allowed: boolean;
  /** Whether the caller may READ: decides 403 (can read) against 404 (cannot) on a denial. */
  canRead: boolean;
  /** Every permission the caller holds on the resource. */
  permissions: Permission[];
  rule: DecisionRule;
  /**
   * When time alone may change this decision (a grant's `expiresAt`, or a pending grant's
   * `notBefore`): caches must not keep it past then. Null: no such time.
   */
  validUntil: string | null;
  /**
   * The resources whose facts or grants the decision read (itself, its groups, its Actor, task
   * and run): a cache may keep it across a `permissions.changed` event about any other resource.
   * Absent (an earlier release): the decision may depend on anything.
   */
  dependsOn?: string[];
  /**
   * The accounts whose settings the decision may read (the owners of the resources in
   * `dependsOn`), and the principal's memberships in them: a cache may keep it across a
   * `permissions.changed` event about any other account. Absent (an earlier release): any account.
   */
  dependsOnAccounts?: string[];
  /**
   * Asked with `acceptFactsAge`, and answered from the permissions replica's copy of the facts
   * in memory: how old that copy was (ms, at most MAX_FACTS_AGE_MS) — the decision is as if asked
   * that much earlier — and the change version it shows (ChangeVersions). Absent: read now.
   */
  factsAgeMs?: number;
  factsVersion?: string;
}

/**
 * The oldest copy of the facts a check asked with `acceptFactsAge` is answered from (ms): well
 * under the gateway's WIDENABLE_TTL_MS (20), which every change of access waits before it
 * answers, so no request sent after that answer is decided on facts from before the change.
 */
export const MAX_FACTS_AGE_MS = 10;

export const grantBody = z
  .object({
    user: z.string().min(1).max(254),
    permissions: z.array(z.enum(PERMISSIONS)).min(1).max(50),
    expiresAt: isoDateSchema.nullable().optional(),
    /** The grant applies from this time on (a time-bound grant may start later). */
    notBefore: isoDateSchema.nullable().optional(),
  })
  .strict();
export const updateGrantBody = z
  .object({
    permissions: z.array(z.enum(PERMISSIONS)).min(1).max(50).optional(),
    expiresAt: isoDateSchema.nullable().optional(),
    notBefore: isoDateSchema.nullable().optional(),
  })
  .strict()
  .refine((b) => b.permissions !== undefined || b.expiresAt !== undefined || b.notBefore !== undefined, {
    message: 'permissions, expiresAt or notBefore is required',
  });

/** Why a user may or may not do something: the deciding rule and its chain, and every rule checked. */
export interface ExplainResult {
  resourceId: string;
  resourceType: ResourceType;
  userId: string | null;
  permission: Permission;
  allowed: boolean;
  rule: DecisionRule;
  /** For an allow: the deciding rule, then what it rests on (e.g. the run a storage follows). */
  chain: string[];
  checked: { rule: DecisionRule; gives: Permission[]; detail: string }[];
}

/** The most checks one `checkMany` request (or one `POST /v2/access/check`) carries. */
export const MAX_CHECKS_PER_REQUEST = 100;

export const batchCheckBody = z
  .object({
    checks: z
      .array(z.object({ resourceId: idSchema, permission: z.enum(PERMISSIONS) }).strict())
      .min(1)
      .max(MAX_CHECKS_PER_REQUEST),
  })
  .strict();

export interface AuditEntryView {
  id: string;
  occurredAt: string;
  /** e.g. grant.created, grant.updated, grant.revoked, general-access.changed, account-settings.changed, access.denied */
  action: string;
  actorId: string | null;
  subjectId: string | null;
  resourceId: string | null;
  resourceType: string | null;
  accountId: string;
  before: unknown;
  after: unknown;
}

export const auditLogQuery = z.object({
  resourceId: idSchema.optional(),
  accountId: z.string().min(1).max(100).optional(),
  from: isoDateSchema.optional(),
  to: isoDateSchema.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** The `nextCursor` of the previous page. */
  cursor: z
    .string()
    .regex(/^\d{1,19}$/, 'must be a cursor from a previous page')
    .refine(
      (v) => !/^\d+$/.test(v) || BigInt(v) <= 9223372036854775807n,
      'must be a cursor from a previous page',
    )
    .optional(),
});

export interface GrantView {
  id: string;
  resourceType: ResourceType;
  resourceId: string;
  userId: string;
  permissions: Permission[];
  expiresAt: string | null;
  notBefore: string | null;
  grantedBy: string;
  /** Where a grant came from when no one gave it by hand (e.g. an Actor issue that attached a run). */
  source: { type: string; id: string } | null;
  /** Hidden grants serve one purpose (an issue's run share): shown in `/access`, never listed as shared. */
  hidden: boolean;
  createdAt: string;
  modifiedAt: string;
}

export interface AccessListing {
  resourceId: string;
  resourceType: ResourceType;
  owner: { userId: string };
  generalAccess: GeneralAccess;
  effectiveGeneralAccess: Exclude<GeneralAccess, 'FOLLOW_USER_SETTING'>;
  /** A page of the grants in force, by id (`cursor`: the previous page's `nextCursor`). */
  grants: GrantView[];
  nextCursor: string | null;
  /** Who else has access through the owner account: its organization members and collaborators. */
  derived: DerivedAccessView[];
}

export interface DerivedAccessView {
  rule: DecisionRule;
  userId: string;
  role: string;
  permissions: Permission[];
}

const resourceTarget = { resourceType: z.enum(RESOURCE_TYPES), resourceId: z.string().min(1) };

const checkRequest = z
  .object({
    principal: principalSchema,
    resourceType: z.enum(RESOURCE_TYPES),
    resourceRef: resourceRefSchema,
    permission: z.enum(PERMISSIONS),
    /**
     * The caller takes an answer from facts up to MAX_FACTS_AGE_MS old as asked `factsAgeMs`
     * earlier (the gateway's decision cache does); without it, a check reads the facts now.
     */
    acceptFactsAge: z.literal(true).optional(),
  })
  .strict();

/** A check in `checkMany`: by id, its type may go unnamed (any type is then checked). */
const manyCheckRequest = checkRequest
  .extend({ resourceType: checkRequest.shape.resourceType.optional() })
  .refine((c) => c.resourceType !== undefined || ID_PATTERN.test(c.resourceRef), {
    message: 'is required when "resourceRef" is not an id',
    path: ['resourceType'],
  });

export const PermissionsRpc = {
  health: rpc<HealthResponse>()('permissions', 'permissions.health', healthRequest),
  /** The version of what decisions and shared lists read: unchanged, what was read after it still holds. */
  changeVersion: rpc<ChangeVersionResponse>()('permissions', 'permissions.change-version', healthRequest),
  check: rpc<CheckResult>()('permissions', 'permissions.check', checkRequest),
  /**
   * Several independent checks in one request, answered in order, each exactly as `check` answers
   * it (a gateway sends together the cache misses that arrive while its earlier checks are out).
   * `probe`: questions about access rather than accesses (`POST /v2/access/check`, filtering a
   * listing), whose denials are not audited.
   */
  checkMany: rpc<CheckResult[]>()(
    'permissions',
    'permissions.check-many',
    z
      .object({
        checks: z.array(manyCheckRequest).min(1).max(MAX_CHECKS_PER_REQUEST),
        probe: z.boolean().optional(),
      })
      .strict(),
  ),
  listAccess: rpc<AccessListing>()(
    'permissions',
    'permissions.access.list',
    z
      .object({
        ...resourceTarget,
        limit: z.number().int().min(1).max(1000).default(1000),
        cursor: idSchema.optional(),
      })
      .strict(),
  ),
  createGrant: rpc<GrantView>()(
    'permissions',
    'permissions.grants.create',
    z
      .object({
        ...resourceTarget,
        subjectId: z.string().min(1),
        permissions: grantBody.shape.permissions,
        expiresAt: isoDateSchema.nullable().optional(),
        notBefore: isoDateSchema.nullable().optional(),
        grantedBy: z.string().min(1),
        /** What the granter holds on the resource (its decision): a grant gives nothing beyond it. */
        grantorHolds: z.array(z.enum(PERMISSIONS)).optional(),
      })
      .strict(),
  ),
  updateGrant: rpc<GrantView>()(
    'permissions',
    'permissions.grants.update',
    z
      .object({
        ...resourceTarget,
        grantId: z.string().min(1).max(100),
        changes: updateGrantBody,
        updatedBy: z.string().min(1),
        /** What the changer holds on the resource: the changed grant gives nothing beyond it. */
        grantorHolds: z.array(z.enum(PERMISSIONS)).optional(),
      })
      .strict(),
  ),
  /**
   * When the user's power to manage access to the resource ends by time alone (null: it does
   * not), refused when the user holds it no more: what it opens to others may not outlast it.
   */
  manageAccessUntil: rpc<{ until: string | null }>()(
    'permissions',
    'permissions.grants.manage-access-until',
    z.object({ ...resourceTarget, userId: z.string().min(1) }).strict(),
  ),
  revokeGrant: rpc<{ ok: true }>()(
    'permissions',
    'permissions.grants.revoke',
    z
      .object({ ...resourceTarget, grantId: z.string().min(1).max(100), revokedBy: z.string().min(1) })
      .strict(),
  ),
  /**
   * Explains `userId`'s (null: anonymous) decision on a resource; the caller needs READ to explain
   * its own, MANAGE_ACCESS (or ownership) to explain someone else's.
   */
  explain: rpc<ExplainResult>()(
    'permissions',
    'permissions.explain',
    z
      .object({
        caller: principalSchema,
        userId: z.string().min(1).max(100).nullable(),
        resourceId: idSchema,
        permission: z.enum(PERMISSIONS),
      })
      .strict(),
  ),
  /**
   * Audit entries of an account (the caller's own) or of a resource (the caller needs
   * MANAGE_ACCESS on it), newest first, cursor-paginated.
   */
  listAuditLog: rpc<{ items: AuditEntryView[]; nextCursor: string | null }>()(
    'permissions',
    'permissions.audit-log.list',
    auditLogQuery.extend({ caller: principalSchema, limit: z.number().int().min(1).max(1000) }).strict(),
  ),
  /**
   * Resources of a type granted to a subject (for `ownership=sharedWithMe`). `validUntil`: when
   * time alone may change the answer (the first start or end still to come of one of the
   * subject's grants), null if never.
   */
  listSharedWith: rpc<{
    total: number;
    resourceIds: string[];
    nextCursor: string | null;
    validUntil: string | null;
  }>()(
    'permissions',
    'permissions.shared-with.list',
    z
      .object({
        subjectId: z.string().min(1),
        resourceType: z.enum(RESOURCE_TYPES),
        offset: z.number().int().min(0),
        limit: z.number().int().min(1).max(1000),
        desc: z.boolean(),
        /** Keyset pagination: the `nextCursor` of the previous page (then `offset` counts from it). */
        cursor: idSchema.optional(),
        /** Only these (a scoped token's): what of them is shared with the subject, and its total. */
        ids: z.array(idSchema).min(1).max(1000).optional(),
      })
      .strict(),
  ),
  /**
   * Re-reads a projection from its owner now, for read-your-writes after a change. A membership
   * is named `accountId:userId`. `changedBy`: the caller who made the change, for the audit log
   * when this re-read is the first to apply it (the change's event names them too).
   */
  refreshProjection: rpc<{ ok: true }>()(
    'permissions',
    'permissions.projections.refresh',
    z
      .object({
        kind: z.enum(['account', 'resource', 'membership']),
        id: z.string().min(1).max(100),
        ...changedByField,
      })
      .strict(),
  ),
  /**
   * Applies events that derive access (e.g. `issues.run-attached`) now, by the same handlers, once
   * per event id, as the permissions service's event queue would later: the service that wrote
   * them to its outbox calls this before it answers, so the access is in force when its caller's
   * response is sent (read-your-writes). The queued copies then find them applied.
   */
  applyEvents: rpc<{ ok: true }>()(
    'permissions',
    'permissions.events.apply',
    z
      .object({
        events: z
          .array(
            z
              .object({
                id: z.string().uuid(),
                name: z.string().min(1).max(100),
                occurredAt: z.string().max(40),
                payload: z.unknown(),
                requestId: z.string().max(100).optional(),
              })
              .strict(),
          )
          .min(1)
          .max(20),
      })
      .strict(),
  ),
  /**
   * Whether the principal may CREATE a resource of a type in an account (its own; an organization
   * whose role gives WRITE on the category; a collaboration primary whose shares give CREATE on
   * the group or the ENVIRONMENTS category), or READ (list) the account's resources of the type.
   * A scoped token also needs the type in its CREATE scope.
   */
  checkAccount: rpc<AccountCheckResult>()(
    'permissions',
    'permissions.check-account',
    z
      .object({
        principal: principalSchema,
        accountId: z.string().min(1).max(100),
        resourceType: z.enum(RESOURCE_TYPES),
        permission: z.enum(['CREATE', 'READ']),
        /** Environments: the group created in (its bindings and its parents' apply). */
        groupId: idSchema.optional(),
      })
      .strict(),
  ),
  /**
   * Rule 1's exception: a resource a scoped token created is fully available to that token
   * (recorded by the gateway after the create, before its response).
   */
  recordTokenCreation: rpc<{ ok: true }>()(
    'permissions',
    'permissions.token-creations.record',
    z.object({ tokenId: idSchema, resourceId: idSchema }).strict(),
  ),
  /**
   * Whether the principal may move an environment or environment group to another group (null:
   * out of every group) of its owner: it needs DELETE on it where it is (taking it out of there),
   * CREATE where it goes (as `checkAccount` says), and must not end up holding more on it — or, for
   * a group, on anything under it — than now (no escalation). Bad targets (not a group of the
   * owner; for a group, itself or one of its subgroups) are invalid input naming `field`.
   */
  checkMove: rpc<MoveCheckResult>()(
    'permissions',
    'permissions.check-move',
    z
      .object({
        principal: principalSchema,
        resourceId: idSchema,
        targetGroupId: idSchema.nullable(),
        /** The request field naming the target, for the answer's messages (e.g. `body.groupId`). */
        field: z.string().min(1).max(100),
      })
      .strict(),
  ),
  /** The accounts a user is an active member of (organizations, collaboration primaries). */
  listMemberAccounts: rpc<{ accountId: string; kind: MembershipKind }[]>()(
    'permissions',
    'permissions.memberships.list-accounts',
    z.object({ userId: z.string().min(1).max(100), kind: z.enum(MEMBERSHIP_KINDS).optional() }).strict(),
  ),
} as const;
