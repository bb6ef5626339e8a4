import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import {
  AppError,
  CollaborationChange,
  CollaborationPolicyView,
  CollaborationRoleView,
  ENDED_MEMBER_STATUSES,
  RpcPayload,
  CollaborationRpc,
  SYSTEM_POLICIES,
  SYSTEM_POLICY_IDS,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager, In } from 'typeorm';
import { saveAndAnnounce } from './member-facts';
import { loadCatalogue, rolePermissions } from './primary-catalogue';
import { CollaborationMemberEntity } from './collaboration-member.entity';
import { CollaborationPolicyEntity } from './collaboration-policy.entity';
import { CollaborationRoleEntity } from './collaboration-role.entity';

const SYSTEM_NAMES = new Set(SYSTEM_POLICIES.map((p) => p.name.toLowerCase()));

function systemPolicyView(policy: (typeof SYSTEM_POLICIES)[number]): CollaborationPolicyView {
  return {
    id: policy.id,
    name: policy.name,
    description: policy.description,
    system: true,
    permissions: [...policy.permissions],
    createdAt: null,
    modifiedAt: null,
  };
}

function policyView(policy: CollaborationPolicyEntity): CollaborationPolicyView {
  return {
    id: policy.id,
    name: policy.name,
    description: policy.description,
    system: false,
    permissions: [...policy.permissions],
    createdAt: policy.createdAt.toISOString(),
    modifiedAt: policy.modifiedAt.toISOString(),
  };
}

type Payload<K extends keyof typeof CollaborationRpc> = RpcPayload<(typeof CollaborationRpc)[K]>;

/** A primary account's collaboration policies (system and custom) and the roles built from them. */
@Injectable()
export class CollaborationRolesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  async listPolicies(primaryId: string): Promise<CollaborationPolicyView[]> {
    const custom = await this.dataSource.manager.find(CollaborationPolicyEntity, {
      where: { primaryId },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return [...SYSTEM_POLICIES.map(systemPolicyView), ...custom.map(policyView)];
  }

  async createPolicy({ primaryId, policy }: Payload<'createPolicy'>): Promise<CollaborationPolicyView> {
    this.requireFreePolicyName(policy.name);
    const id = newId();
    await this.dataSource.manager
      .insert(CollaborationPolicyEntity, {
        id,
        primaryId,
        name: policy.name,
        nameLower: policy.name.toLowerCase(),
        description: policy.description ?? null,
        permissions: policy.permissions,
      })
      .catch((err: unknown) => this.rethrowTakenName(err, 'policy', policy.name));
    return policyView(await this.dataSource.manager.findOneByOrFail(CollaborationPolicyEntity, { id }));
  }

  /** Changing a policy's operations changes the access of every member holding a role with it. */
  async updatePolicy({
    primaryId,
    policyId,
    changes,
  }: Payload<'updatePolicy'>): Promise<CollaborationChange<CollaborationPolicyView>> {
    this.refuseSystemPolicy(policyId);
    if (changes.name !== undefined) this.requireFreePolicyName(changes.name);
    const change = await this.dataSource
      .transaction(async (manager) => {
        const policy = await manager.findOne(CollaborationPolicyEntity, {
          where: { id: policyId, primaryId },
          lock: { mode: 'pessimistic_write' },
        });
        if (!policy) throw AppError.notFound('The policy');
        if (changes.name !== undefined)
          Object.assign(policy, { name: changes.name, nameLower: changes.name.toLowerCase() });
        if (changes.description !== undefined) policy.description = changes.description;
        const permissionsChanged =
          changes.permissions !== undefined &&
          [...changes.permissions].sort().join() !== [...policy.permissions].sort().join();
        if (changes.permissions !== undefined) policy.permissions = changes.permissions;
        await manager.save(policy);
        let affectedUserIds: string[] = [];
        if (permissionsChanged) {
          const roles = await manager
            .getRepository(CollaborationRoleEntity)
            .createQueryBuilder('r')
            .where('r.primary_id = :primaryId AND :policyId = ANY(r.policy_ids)', { primaryId, policyId })
            .getMany();
          affectedUserIds = await this.announceMembersWithRoles(
            manager,
            primaryId,
            roles.map((r) => r.id),
          );
        }
        return { result: policyView(policy), affectedUserIds };
      })
      .catch((err: unknown) => this.rethrowTakenName(err, 'policy', changes.name));
    this.outbox.kick();
    return change;
  }

  async deletePolicy({ primaryId, policyId }: Payload<'deletePolicy'>): Promise<{ ok: true }> {
    this.refuseSystemPolicy(policyId);
    await this.dataSource.transaction(async (manager) => {
      const policy = await manager.findOne(CollaborationPolicyEntity, {
        where: { id: policyId, primaryId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!policy) throw AppError.notFound('The policy');
      const roles = await manager
        .getRepository(CollaborationRoleEntity)
        .createQueryBuilder('r')
        .where('r.primary_id = :primaryId AND :policyId = ANY(r.policy_ids)', { primaryId, policyId })
        .getMany();
      if (roles.length)
        throw new AppError(
          'conflict',
          `The policy is used by role ${roles.map((r) => `"${r.name}"`).join(', ')}: remove it from the roles first`,
        );
      await manager.delete(CollaborationPolicyEntity, { id: policyId });
    });
    return { ok: true };
  }

  async listRoles(primaryId: string): Promise<CollaborationRoleView[]> {
    const manager = this.dataSource.manager;
    const catalogue = await loadCatalogue(manager, primaryId);
    const roles = [...catalogue.roles.values()].sort(
      (a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id),
    );
    return roles.map((role) => this.roleView(role, catalogue));
  }

  async createRole({ primaryId, role }: Payload<'createRole'>): Promise<CollaborationRoleView> {
    const manager = this.dataSource.manager;
    await this.requirePolicies(manager, primaryId, role.policies, 'body.policies');
    const id = newId();
    await manager
      .insert(CollaborationRoleEntity, {
        id,
        primaryId,
        name: role.name,
        nameLower: role.name.toLowerCase(),
        description: role.description ?? null,
        policyIds: role.policies,
        receiveNotifications: role.receiveNotifications ?? false,
      })
      .catch((err: unknown) => this.rethrowTakenName(err, 'role', role.name));
    const saved = await manager.findOneByOrFail(CollaborationRoleEntity, { id });
    return this.roleView(saved, await loadCatalogue(manager, primaryId));
  }

  /** Changing a role's policies changes the access of every member holding it. */
  async updateRole({
    primaryId,
    roleId,
    changes,
  }: Payload<'updateRole'>): Promise<CollaborationChange<CollaborationRoleView>> {
    const change = await this.dataSource
      .transaction(async (manager) => {
        const role = await manager.findOne(CollaborationRoleEntity, {
          where: { id: roleId, primaryId },
          lock: { mode: 'pessimistic_write' },
        });
        if (!role) throw AppError.notFound('The role');
        if (changes.policies !== undefined)
          await this.requirePolicies(manager, primaryId, changes.policies, 'body.policies');
        const before = await loadCatalogue(manager, primaryId);
        const permissionsBefore = rolePermissions(role.policyIds, before).join();
        if (changes.name !== undefined)
          Object.assign(role, { name: changes.name, nameLower: changes.name.toLowerCase() });
        if (changes.description !== undefined) role.description = changes.description;
        if (changes.policies !== undefined) role.policyIds = changes.policies;
        if (changes.receiveNotifications !== undefined)
          role.receiveNotifications = changes.receiveNotifications;
        await manager.save(role);
        const catalogue = await loadCatalogue(manager, primaryId);
        // A new name changes the members' role labels only; new operations change their access.
        const accessChanged = rolePermissions(role.policyIds, catalogue).join() !== permissionsBefore;
        const affectedUserIds =
          accessChanged || changes.name !== undefined
            ? await this.announceMembersWithRoles(manager, primaryId, [role.id])
            : [];
        return { result: this.roleView(role, catalogue), affectedUserIds };
      })
      .catch((err: unknown) => this.rethrowTakenName(err, 'role', changes.name));
    this.outbox.kick();
    return change;
  }

  /**
   * A role bound to a pending, active or suspended member is in use (conflict). Members who left,
   * were removed or declined lose it from their kept shares.
   */
  async deleteRole({ primaryId, roleId }: Payload<'deleteRole'>): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const role = await manager.findOne(CollaborationRoleEntity, {
        where: { id: roleId, primaryId },
        lock: { mode: 'pessimistic_write' },
      });
      if (!role) throw AppError.notFound('The role');
      const members = await this.membersWithRoles(manager, primaryId, [roleId]);
      const inUse = members.filter((m) => !ENDED_MEMBER_STATUSES.includes(m.status));
      if (inUse.length)
        throw new AppError(
          'conflict',
          `The role is in use by ${inUse.length} member(s) (e.g. ${inUse[0].email}): change their shares first`,
        );
      for (const member of members) {
        member.shared = member.shared
          .map((item) => ({ ...item, roleIds: item.roleIds.filter((id) => id !== roleId) }))
          .filter((item) => item.roleIds.length > 0);
      }
      await manager.delete(CollaborationRoleEntity, { id: roleId });
      await saveAndAnnounce(manager, members, await loadCatalogue(manager, primaryId), primaryId);
    });
    this.outbox.kick();
    return { ok: true };
  }

  private roleView(
    role: CollaborationRoleEntity,
    catalogue: Parameters<typeof rolePermissions>[1],
  ): CollaborationRoleView {
    return {
      id: role.id,
      name: role.name,
      description: role.description,
      policies: [...role.policyIds],
      permissions: rolePermissions(role.policyIds, catalogue),
      receiveNotifications: role.receiveNotifications,
      createdAt: role.createdAt.toISOString(),
      modifiedAt: role.modifiedAt.toISOString(),
    };
  }

  /** Members (locked for update) whose shares bind one of the roles. */
  private async membersWithRoles(
    manager: EntityManager,
    primaryId: string,
    roleIds: string[],
  ): Promise<CollaborationMemberEntity[]> {
    if (!roleIds.length) return [];
    const members = await manager.find(CollaborationMemberEntity, {
      where: { primaryId },
      lock: { mode: 'pessimistic_write' },
      order: { id: 'ASC' },
    });
    return members.filter((m) => m.shared.some((item) => item.roleIds.some((id) => roleIds.includes(id))));
  }

  private async announceMembersWithRoles(
    manager: EntityManager,
    primaryId: string,
    roleIds: string[],
  ): Promise<string[]> {
    const members = await this.membersWithRoles(manager, primaryId, roleIds);
    return saveAndAnnounce(manager, members, await loadCatalogue(manager, primaryId), primaryId);
  }

  /** Every policy id must be a system policy or one of the primary's custom ones. */
  private async requirePolicies(
    manager: EntityManager,
    primaryId: string,
    policyIds: string[],
    field: string,
  ): Promise<void> {
    const custom = policyIds.filter((id) => !SYSTEM_POLICY_IDS.includes(id));
    const found = custom.length
      ? await manager.findBy(CollaborationPolicyEntity, { primaryId, id: In(custom) })
      : [];
    const known = new Set(found.map((p) => p.id));
    const missing = policyIds.findIndex((id) => !SYSTEM_POLICY_IDS.includes(id) && !known.has(id));
    if (missing >= 0)
      throw new AppError(
        'invalid-input',
        `Field "${field}.${missing}" is invalid: policy "${policyIds[missing]}" is not one of your policies`,
      );
  }

  private refuseSystemPolicy(policyId: string): void {
    if (SYSTEM_POLICY_IDS.includes(policyId))
      throw new AppError('insufficient-permissions', 'System policies cannot be changed or deleted');
  }

  private requireFreePolicyName(name: string): void {
    if (SYSTEM_NAMES.has(name.toLowerCase()))
      throw new AppError('conflict', `A system policy is named "${name}": choose another name`);
  }

  private rethrowTakenName(err: unknown, what: 'policy' | 'role', name: string | undefined): never {
    if (isUniqueViolation(err)) throw new AppError('conflict', `A ${what} named "${name}" already exists`);
    throw err;
  }
}
