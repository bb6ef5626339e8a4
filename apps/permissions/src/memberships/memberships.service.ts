import { Injectable } from '@nestjs/common';
import { Events, IdentityRpc, MembershipFacts, MembershipKind } from '@atrium/contracts';
import { addToOutbox, RpcClient, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { AuditLogService } from '../audit/audit-log.service';
import { MembershipProjectionEntity } from './membership-projection.entity';

export const toMembershipFacts = (row: MembershipProjectionEntity): MembershipFacts => ({
  accountId: row.accountId,
  userId: row.userId,
  kind: row.kind,
  active: row.active,
  roleName: row.roleName,
  bindings: row.bindings,
  version: row.version,
});

/**
 * The membership projection: fed by `membership.changed` events, re-read from identity after a
 * change made through a gateway (read-your-writes). Versioned: an older state never wins.
 * A miss is not read through: most users are members of nothing, and every change reaches the
 * projection by its event or by the gateway's refresh before the change's response.
 */
@Injectable()
export class MembershipsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly rpc: RpcClient,
    private readonly audit: AuditLogService,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  /** The user's active memberships in an account (at most one per kind). */
  async active(
    accountId: string,
    userId: string | null,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<MembershipFacts[]> {
    if (!userId) return [];
    const rows = await manager.findBy(MembershipProjectionEntity, { accountId, userId, active: true });
    return rows.map(toMembershipFacts);
  }

  /** Every active member of an account (organization members, collaborators). */
  /** Whether the account is an organization (its Owner, at least, is a member). */
  async isOrganization(accountId: string): Promise<boolean> {
    return this.dataSource.manager.exists(MembershipProjectionEntity, {
      where: { accountId, kind: 'ORGANIZATION' },
    });
  }

  async membersOf(accountId: string): Promise<MembershipFacts[]> {
    const rows = await this.dataSource.manager.find(MembershipProjectionEntity, {
      where: { accountId, active: true },
      order: { userId: 'ASC' },
    });
    return rows.map(toMembershipFacts);
  }

  async accountsOf(
    userId: string,
    kind?: MembershipKind,
  ): Promise<{ accountId: string; kind: MembershipKind }[]> {
    const rows = await this.dataSource.manager.find(MembershipProjectionEntity, {
      where: { userId, active: true, ...(kind ? { kind } : {}) },
      order: { accountId: 'ASC' },
    });
    return rows.map((r) => ({ accountId: r.accountId, kind: r.kind }));
  }

  /** `changedBy`: the gateway's caller who made the change this re-read follows. */
  async refresh(accountId: string, userId: string, changedBy: string | null): Promise<void> {
    const memberships = await this.rpc.call(IdentityRpc.getMembershipFacts, { accountId, userId });
    await this.dataSource.transaction(async (manager) => {
      for (const facts of memberships) {
        // Other replicas learn of it here if this refresh beats identity's event.
        if (await this.upsert(facts, manager, changedBy))
          await addToOutbox(manager, Events.permissionsChanged, {
            resourceId: null,
            subjectId: facts.userId,
            reason: 'membership-changed',
          });
      }
    });
    this.outbox.kick();
  }

  /**
   * Applies a newer state and audits what changed, naming `actorId` as who changed it: the
   * event's `changedBy`, or the caller of the gateway's refresh, whichever applies it first.
   */
  async upsert(facts: MembershipFacts, manager: EntityManager, actorId: string | null): Promise<boolean> {
    const key = { accountId: facts.accountId, userId: facts.userId, kind: facts.kind };
    // Insert first (a concurrent refresh and event then meet on the row lock, not a duplicate key).
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(MembershipProjectionEntity)
      .values({ ...facts })
      .orIgnore()
      .returning(['accountId'])
      .execute();
    let before: MembershipProjectionEntity | null = null;
    if (!inserted.raw.length) {
      before = await manager.findOne(MembershipProjectionEntity, {
        where: key,
        lock: { mode: 'pessimistic_write' },
      });
      if (before && before.version >= facts.version) return false;
      await manager.update(MembershipProjectionEntity, key, {
        active: facts.active,
        roleName: facts.roleName,
        bindings: facts.bindings,
        version: facts.version,
      });
    }
    await this.audit.record(manager, {
      action: 'membership.changed',
      actorId,
      subjectId: facts.userId,
      resourceId: null,
      resourceType: null,
      accountId: facts.accountId,
      before: before
        ? { kind: before.kind, active: before.active, role: before.roleName, bindings: before.bindings }
        : null,
      after: { kind: facts.kind, active: facts.active, role: facts.roleName, bindings: facts.bindings },
    });
    return true;
  }
}
