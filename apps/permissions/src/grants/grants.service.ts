import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import {
  AccessListing,
  AccountFacts,
  AppError,
  DerivedAccessView,
  Events,
  expandPermissions,
  GrantView,
  Permission,
  PERMISSIONS_BY_TYPE,
  PermissionsRpc,
  ResourceFacts,
  ResourceType,
  RpcPayload,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import { Brackets, DataSource, EntityManager } from 'typeorm';
import { AuditLogService } from '../audit/audit-log.service';
import { ProjectionsService } from '../projections/projections.service';
import { decide, generalAccessForStrangers } from '../decisions/decide';
import { MembershipsService } from '../memberships/memberships.service';
import { GrantStorageKeys } from './grant-storage-keys';
import { GrantEntity } from './grant.entity';

function toView(grant: GrantEntity): GrantView {
  return {
    id: grant.id,
    resourceType: grant.resourceType,
    resourceId: grant.resourceId,
    userId: grant.subjectId,
    permissions: [...grant.permissions].sort(),
    expiresAt: grant.expiresAt?.toISOString() ?? null,
    notBefore: grant.notBefore?.toISOString() ?? null,
    grantedBy: grant.grantedBy,
    source: grant.sourceType && grant.sourceId ? { type: grant.sourceType, id: grant.sourceId } : null,
    hidden: grant.hidden,
    createdAt: grant.createdAt.toISOString(),
    modifiedAt: grant.modifiedAt.toISOString(),
  };
}

/**
 * No escalation through grants: whoever gives or changes a grant (a MANAGE_ACCESS holder who is
 * not the owner, a scoped token) gives only what it holds itself.
 */
function checkWithinGrantor(
  permissions: readonly Permission[],
  grantorHolds: readonly Permission[] | undefined,
) {
  if (!grantorHolds) return;
  const beyond = expandPermissions(permissions).filter((p) => !grantorHolds.includes(p));
  if (beyond.length)
    throw new AppError(
      'insufficient-permissions',
      `You can give only permissions you hold on this resource: ${beyond.join(', ')} (body.permissions)`,
    );
}

/** What lets a grantor give grants: MANAGE_ACCESS, or on an app, adding collaborators. */
const GIVES_GRANTS: readonly Permission[] = ['MANAGE_ACCESS', 'Collaborators:Add'];

type GrantTerms = Pick<GrantEntity, 'permissions' | 'expiresAt' | 'notBefore'>;

/**
 * A grantor whose power to give grants ends at `until` (a time-limited grant) gives nothing that
 * lasts past then. Asked for no expiry (`expiresAt` absent or null on a new grant, null on a
 * change), it gives the longest it may: a new grant expires at `until`; a changed one keeps a
 * later expiry it already had, else takes `until`. A later date it asks for is refused, and a
 * change gives past `until` nothing the grant did not give before (its own grant included: it
 * cannot extend itself). Returns the grant's expiry.
 */
export function checkWithinGrantorTime(
  until: Date | null,
  after: GrantTerms,
  before: GrantTerms | null,
  asked: { expiresAt?: string | null },
): Date | null {
  if (!until) return after.expiresAt;
  const ends = `Your own access to manage this resource ends at ${until.toISOString()}`;
  if (!before) {
    if (after.notBefore && after.notBefore >= until)
      throw new AppError(
        'insufficient-permissions',
        `${ends}: a grant you give must begin before then (body.notBefore)`,
      );
    if (asked.expiresAt == null) return until;
    if (after.expiresAt && after.expiresAt <= until) return after.expiresAt;
    throw new AppError(
      'insufficient-permissions',
      `${ends}: a grant you give must expire by then, or be given with no expiry to end then (body.expiresAt)`,
    );
  }
  const expiresAt =
    asked.expiresAt === null && before.expiresAt
      ? new Date(Math.max(before.expiresAt.getTime(), until.getTime()))
      : after.expiresAt;
  if (expiresAt && expiresAt <= until) return expiresAt;
  const held = expandPermissions(before.permissions);
  const added = expandPermissions(after.permissions).filter((p) => !held.includes(p));
  const longer = !!before.expiresAt && (!expiresAt || expiresAt > before.expiresAt);
  // What the grant gives past `until` starts at the later of its start and `until`.
  const earlier =
    !!before.notBefore &&
    before.notBefore > until &&
    (!after.notBefore || after.notBefore < before.notBefore);
  if (added.length || longer || earlier)
    throw new AppError(
      'insufficient-permissions',
      `${ends}: a change may not give anything past then that the grant did not give before (${
        added.length ? 'body.permissions' : longer ? 'body.expiresAt' : 'body.notBefore'
      })`,
    );
  return expiresAt;
}

function checkPermissions(type: ResourceType, permissions: readonly Permission[]): Permission[] {
  const known = PERMISSIONS_BY_TYPE[type];
  const unknown = permissions.find((p) => !known.includes(p));
  if (unknown)
    throw new AppError(
      'invalid-input',
      `Field "body.permissions" is invalid: ${unknown} does not apply to ${type}`,
    );
  return [...new Set(permissions)].sort();
}

function checkExpiry(expiresAt: string | null | undefined): Date | null {
  if (!expiresAt) return null;
  const date = new Date(expiresAt);
  if (date <= new Date()) throw new AppError('invalid-input', 'Field "body.expiresAt" must be in the future');
  return date;
}

function checkWindow(notBefore: Date | null, expiresAt: Date | null): void {
  if (notBefore && expiresAt && notBefore >= expiresAt) {
    throw new AppError('invalid-input', 'Field "body.notBefore" must be before "body.expiresAt"');
  }
}

export interface GrantInForce {
  permissions: Permission[];
  /** When time alone changes this (the grant's expiry, or the start of one not yet begun). */
  validUntil: Date | null;
}

/** What a subject's grant (if any) gives now. */
export function grantInForce(
  grant: Pick<GrantEntity, 'permissions' | 'expiresAt' | 'notBefore'> | null,
  now = new Date(),
): GrantInForce {
  if (!grant || (grant.expiresAt && grant.expiresAt <= now)) return { permissions: [], validUntil: null };
  if (grant.notBefore && grant.notBefore > now) return { permissions: [], validUntil: grant.notBefore };
  return { permissions: grant.permissions, validUntil: grant.expiresAt };
}

/** A grant not expired (in force, or to begin at its `notBefore`), compared with the database clock. */
const notExpired = (alias: string) =>
  new Brackets((q) => q.where(`${alias}.expires_at IS NULL`).orWhere(`${alias}.expires_at > now()`));

@Injectable()
export class GrantsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly projections: ProjectionsService,
    private readonly outbox: ServiceOutboxRelay,
    private readonly audit: AuditLogService,
    private readonly memberships: MembershipsService,
    private readonly storageKeys: GrantStorageKeys,
  ) {}

  /** A grant change, in the audit log of the resource's owner account (returned: undefined when the resource is gone). */
  private async audited(
    manager: EntityManager,
    action: 'grant.created' | 'grant.updated' | 'grant.revoked',
    actorId: string,
    before: GrantEntity | null,
    after: GrantEntity | null,
  ): Promise<string | undefined> {
    const grant = (after ?? before)!;
    const resource = await this.projections.resource(grant.resourceId, manager);
    await this.audit.record(manager, {
      action,
      actorId,
      subjectId: grant.subjectId,
      resourceId: grant.resourceId,
      resourceType: grant.resourceType,
      accountId: resource?.ownerId ?? actorId,
      before: before && toView(before),
      after: after && toView(after),
    });
    return resource?.ownerId;
  }

  /**
   * The subject's grant on the resource as it applies now, and when that will change by time
   * alone (its expiry, or the start of a grant that has not begun).
   */
  async activePermissions(
    resourceId: string,
    subjectId: string,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<GrantInForce> {
    const grant = await manager
      .getRepository(GrantEntity)
      .createQueryBuilder('g')
      .select(['g.id', 'g.permissions', 'g.expiresAt', 'g.notBefore'])
      .where('g.resource_id = :resourceId AND g.subject_id = :subjectId', { resourceId, subjectId })
      .getOne();
    return grantInForce(grant);
  }

  /**
   * When what `grantorId` gives on the resource (`gives`: a grant's permissions; READ to open
   * it to others) must end by time: the expiry of the grantor's own grant, when that grant is what
   * lets it give grants (no ownership, organization role or collaboration does: those do not
   * expire), or what gives it a permission it gives. Null: no end. The grant is read under a
   * share lock, so that a revocation or change of it racing this call is waited out. Refused
   * (403) when nothing lets it give grants any more — its grant revoked or expired since the
   * caller was authorized: fail closed, never "no limit".
   */
  async grantorUntil(
    manager: EntityManager,
    resource: ResourceFacts,
    grantorId: string,
    gives: readonly Permission[],
  ): Promise<Date | null> {
    if (grantorId === resource.ownerId) return null;
    const own = await manager.findOne(GrantEntity, {
      where: { resourceId: resource.id, subjectId: grantorId },
      select: { id: true, permissions: true, expiresAt: true, notBefore: true },
      lock: { mode: 'pessimistic_read' },
    });
    const [owner, memberships] = await Promise.all([
      this.projections.account(resource.ownerId, manager),
      this.memberships.active(resource.ownerId, grantorId, manager),
    ]);
    const groupChain = memberships.some((m) => m.kind === 'COLLABORATION')
      ? await this.projections.groupChain(resource, manager)
      : [];
    const { permissions: lasting } = decide({
      userId: grantorId,
      resource,
      owner,
      memberships,
      groupChain,
      grantedPermissions: [],
      addressedByName: false,
    });
    const inForce = grantInForce(own);
    const granted = expandPermissions(inForce.permissions);
    const manages = GIVES_GRANTS.some((p) => lasting.has(p));
    if (!manages && !granted.some((p) => GIVES_GRANTS.includes(p)))
      throw new AppError('insufficient-permissions', 'You no longer hold MANAGE_ACCESS on this resource');
    const lent = expandPermissions(gives).some((p) => granted.includes(p) && !lasting.has(p));
    return manages && !lent ? null : inForce.validUntil;
  }

  async manageAccessUntil(
    req: RpcPayload<typeof PermissionsRpc.manageAccessUntil>,
  ): Promise<{ until: string | null }> {
    const resource = await this.resourceOrFail(req.resourceType, req.resourceId);
    const until = await this.dataSource.transaction((manager) =>
      this.grantorUntil(manager, resource, req.userId, ['READ']),
    );
    return { until: until?.toISOString() ?? null };
  }

  private async resourceOrFail(type: ResourceType, id: string) {
    const resource = await this.projections.resource(id);
    if (!resource || resource.type !== type) throw AppError.notFound('The resource');
    return resource;
  }

  async create(req: RpcPayload<typeof PermissionsRpc.createGrant>): Promise<GrantView> {
    const resource = await this.resourceOrFail(req.resourceType, req.resourceId);
    if (req.subjectId === resource.ownerId) {
      throw new AppError(
        'invalid-input',
        'Field "body.user" is invalid: the owner already has every permission',
      );
    }
    const permissions = checkPermissions(req.resourceType, req.permissions);
    checkWithinGrantor(permissions, req.grantorHolds);
    const asked = {
      permissions,
      expiresAt: checkExpiry(req.expiresAt),
      notBefore: req.notBefore ? new Date(req.notBefore) : null,
    };
    checkWindow(asked.notBefore, asked.expiresAt);
    try {
      const grant = await this.dataSource.transaction(async (manager) => {
        const until = await this.grantorUntil(manager, resource, req.grantedBy, permissions);
        const expiresAt = checkWithinGrantorTime(until, asked, null, req);
        const { notBefore } = asked;
        // An expired grant no longer counts: a new grant to the same user takes its place.
        await manager
          .createQueryBuilder()
          .delete()
          .from(GrantEntity)
          .where('resource_id = :resourceId AND subject_id = :subjectId AND expires_at <= now()', {
            resourceId: req.resourceId,
            subjectId: req.subjectId,
          })
          .execute();
        const id = newId();
        await manager.insert(GrantEntity, {
          id,
          resourceType: req.resourceType,
          resourceId: req.resourceId,
          subjectId: req.subjectId,
          permissions,
          expiresAt,
          notBefore,
          grantedBy: req.grantedBy,
        });
        await this.changed(manager, req.resourceId, req.subjectId, 'grant-created');
        const created = await manager.findOneByOrFail(GrantEntity, { id });
        await this.audited(manager, 'grant.created', req.grantedBy, null, created);
        return created;
      });
      this.outbox.kick();
      return toView(grant);
    } catch (err) {
      if (isUniqueViolation(err)) {
        const existing = await this.dataSource.manager.findOne(GrantEntity, {
          where: { resourceId: req.resourceId, subjectId: req.subjectId },
          select: { id: true },
        });
        throw new AppError(
          'conflict',
          `This user already has a grant on the resource${
            existing
              ? ` (${existing.id}): change it with PUT …/access/grants/${existing.id}`
              : '; change it with PUT'
          }`,
        );
      }
      throw err;
    }
  }

  /** A grant narrowed so that it no longer reaches the storage's signing key rotates the key (GrantStorageKeys). */
  async update(req: RpcPayload<typeof PermissionsRpc.updateGrant>): Promise<GrantView> {
    const { grant, rotation } = await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOne(GrantEntity, {
        where: { id: req.grantId, resourceId: req.resourceId, resourceType: req.resourceType },
        lock: { mode: 'pessimistic_write' },
      });
      if (!current) throw AppError.notFound('The grant');
      const before = { ...current };
      if (req.changes.permissions)
        current.permissions = checkPermissions(req.resourceType, req.changes.permissions);
      // The grant as changed, whole: extending a grant's time extends what it gives.
      checkWithinGrantor(current.permissions, req.grantorHolds);
      if (req.changes.expiresAt !== undefined) current.expiresAt = checkExpiry(req.changes.expiresAt);
      if (req.changes.notBefore !== undefined) {
        current.notBefore = req.changes.notBefore ? new Date(req.changes.notBefore) : null;
      }
      const resource = await this.projections.resource(current.resourceId, manager);
      if (!resource) throw AppError.notFound('The resource');
      const until = await this.grantorUntil(manager, resource, req.updatedBy, current.permissions);
      current.expiresAt = checkWithinGrantorTime(until, current, before, req.changes);
      checkWindow(current.notBefore, current.expiresAt);
      await manager.save(current);
      await this.changed(manager, current.resourceId, current.subjectId, 'grant-updated');
      const ownerId = await this.audited(manager, 'grant.updated', req.updatedBy, before, current);
      const rotation = await this.storageKeys.declareIfTaken(manager, ownerId, before, current);
      return { grant: current, rotation };
    });
    this.outbox.kick();
    await this.storageKeys.applyNow(rotation);
    return toView(grant);
  }

  /** A revoked grant that reached the storage's signing key rotates the key (GrantStorageKeys). */
  async revoke(req: RpcPayload<typeof PermissionsRpc.revokeGrant>): Promise<{ ok: true }> {
    const rotation = await this.dataSource.transaction(async (manager) => {
      const current = await manager.findOneBy(GrantEntity, {
        id: req.grantId,
        resourceId: req.resourceId,
        resourceType: req.resourceType,
      });
      if (!current) throw AppError.notFound('The grant');
      await manager.delete(GrantEntity, { id: current.id });
      await this.changed(manager, current.resourceId, current.subjectId, 'grant-revoked');
      const ownerId = await this.audited(manager, 'grant.revoked', req.revokedBy, current, null);
      return this.storageKeys.declareIfTaken(manager, ownerId, current, null);
    });
    this.outbox.kick();
    await this.storageKeys.applyNow(rotation);
    return { ok: true };
  }

  async listAccess(req: RpcPayload<typeof PermissionsRpc.listAccess>): Promise<AccessListing> {
    const { resourceType, resourceId } = req;
    const resource = await this.resourceOrFail(resourceType, resourceId);
    const [owner, members, run] = await Promise.all([
      this.projections.account(resource.ownerId),
      this.memberships.membersOf(resource.ownerId),
      this.runOf(resource),
    ]);
    const query = this.dataSource
      .getRepository(GrantEntity)
      .createQueryBuilder('g')
      .where('g.resource_id = :resourceId', { resourceId })
      // Scheduled grants too (their notBefore says so): the owner sees, and can revoke, one before it begins.
      .andWhere(notExpired('g'));
    if (req.cursor) query.andWhere('g.id > :cursor', { cursor: req.cursor });
    const grants = await query
      .orderBy('g.id', 'ASC')
      .take(req.limit + 1)
      .getMany();
    const page = grants.slice(0, req.limit);
    const groupChain = members.some((m) => m.kind === 'COLLABORATION')
      ? await this.projections.groupChain(resource)
      : [];
    const derived = members.flatMap((membership): DerivedAccessView[] => {
      const decision = decide({
        userId: membership.userId,
        resource,
        owner,
        memberships: [membership],
        groupChain,
        grantedPermissions: [],
        addressedByName: false,
      });
      const rule = membership.kind === 'ORGANIZATION' ? 'organization-member' : 'collaboration';
      const permissions = [...decision.permissions].filter(([, by]) => by === rule).map(([p]) => p);
      return permissions.length
        ? [{ rule, userId: membership.userId, role: membership.roleName, permissions: permissions.sort() }]
        : [];
    });
    return {
      resourceId,
      resourceType,
      owner: { userId: resource.ownerId },
      generalAccess: resource.generalAccess,
      effectiveGeneralAccess: generalAccessForStrangers(resource, owner, run),
      grants: page.map(toView),
      nextCursor: grants.length > req.limit ? page[page.length - 1].id : null,
      derived,
    };
  }

  /** The run a run's default storage follows, with the run's owner account (see appliedGeneralAccess). */
  private async runOf(
    resource: ResourceFacts,
  ): Promise<{ facts: ResourceFacts; owner: AccountFacts | null } | null> {
    if (!resource.runId) return null;
    const facts = await this.projections.resource(resource.runId);
    return facts ? { facts, owner: await this.projections.account(facts.ownerId) } : null;
  }

  async deleteForResource(manager: EntityManager, resourceId: string): Promise<void> {
    await manager.delete(GrantEntity, { resourceId });
    // Always: every replica must forget decisions (and name resolutions) about the deleted resource.
    await this.changed(manager, resourceId, null, 'resource-deleted');
  }

  private changed(
    manager: EntityManager,
    resourceId: string,
    subjectId: string | null,
    reason: 'grant-created' | 'grant-updated' | 'grant-revoked' | 'resource-deleted',
  ): Promise<void> {
    return addToOutbox(manager, Events.permissionsChanged, { resourceId, subjectId, reason });
  }
}
