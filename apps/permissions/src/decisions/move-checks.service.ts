import { Injectable } from '@nestjs/common';
import {
  AppError,
  MembershipFacts,
  MoveCheckResult,
  Permission,
  PermissionsRpc,
  ResourceFacts,
  RpcPayload,
} from '@atrium/contracts';
import { DataSource } from 'typeorm';
import { GrantsService } from '../grants/grants.service';
import { MembershipsService } from '../memberships/memberships.service';
import { ProjectionsService } from '../projections/projections.service';
import { ResourceProjectionEntity } from '../projections/resource-projection.entity';
import { AccountDecisionsService } from './account-decisions.service';
import { decide } from './decide';
import { DecisionsService } from './decisions.service';

/** How many resources are decided at once when a group with many descendants moves. */
const DECIDE_BATCH = 50;

/** A resource a move touches, with its group chain (nearest first) after the move. */
interface Touched {
  facts: ResourceFacts;
  chainAfter: string[];
}

/**
 * Moves under delegated authority, answered as *no escalation*: moving an environment or group
 * takes it out of where it is (DELETE on it there — for the people its source shares it with,
 * the move is a deletion), puts it where it goes (CREATE there, as creating it there would), and
 * must leave the mover with no permission, on it or anything under it, that it lacks now. The
 * rights after are the same decision (`decide`) over the group chain the move would give.
 */
@Injectable()
export class MoveChecksService {
  constructor(
    private readonly decisions: DecisionsService,
    private readonly accountDecisions: AccountDecisionsService,
    private readonly projections: ProjectionsService,
    private readonly memberships: MembershipsService,
    private readonly grants: GrantsService,
    private readonly dataSource: DataSource,
  ) {}

  async checkMove(req: RpcPayload<typeof PermissionsRpc.checkMove>): Promise<MoveCheckResult> {
    const { principal, field } = req;
    const resource = await this.projections.resource(req.resourceId);
    if (!resource || (resource.type !== 'ENVIRONMENT' && resource.type !== 'ENVIRONMENT_GROUP'))
      throw AppError.notFound('The environment or environment group');
    const what = `${resource.type === 'ENVIRONMENT' ? 'environment' : 'environment group'} ${resource.id}`;
    const targetChain = await this.targetChain(resource, req.targetGroupId, field, principal);
    const deny = (detail: string, gained?: MoveCheckResult['gained']): MoveCheckResult => ({
      allowed: false,
      detail: `${detail} (${field})`,
      ...(gained ? { gained } : {}),
    });

    const removal = await this.decisions.check({
      principal,
      resourceType: resource.type,
      resourceRef: resource.id,
      permission: 'DELETE',
    });
    if (!removal.allowed)
      return deny(`Moving ${what} takes it out of where it is, which needs DELETE permission on it`);
    const creation = await this.accountDecisions.checkAccount({
      principal,
      accountId: resource.ownerId,
      resourceType: resource.type,
      permission: 'CREATE',
      ...(req.targetGroupId ? { groupId: req.targetGroupId } : {}),
    });
    if (!creation.allowed)
      return deny(
        `Moving ${what} ${req.targetGroupId ? `into group ${req.targetGroupId}` : 'out of every group'} needs CREATE permission there`,
      );

    const userId = principal.userId;
    if (!userId) return deny('Only an account may move');
    // The owner account holds every permission wherever its resources are.
    if (userId === resource.ownerId) return { allowed: true, detail: `${userId} owns ${what}` };
    const [owner, memberships] = await Promise.all([
      this.projections.account(resource.ownerId),
      this.memberships.active(resource.ownerId, userId),
    ]);
    const touched: Touched[] = [{ facts: resource, chainAfter: targetChain }];
    if (resource.type === 'ENVIRONMENT_GROUP')
      touched.push(...(await this.descendants(resource, targetChain)));
    for (let i = 0; i < touched.length; i += DECIDE_BATCH) {
      const gains = await Promise.all(
        touched.slice(i, i + DECIDE_BATCH).map((t) => this.gained(t, userId, owner, memberships)),
      );
      const found = gains.find((g) => g.permissions.length > 0);
      if (found)
        return deny(
          `Moving ${what} ${req.targetGroupId ? `into group ${req.targetGroupId}` : 'out of every group'} would give you ${found.permissions.join(', ')} on ${found.resourceId === resource.id ? 'it' : `${found.resourceId} under it`}, which you do not hold now`,
          found,
        );
    }
    return { allowed: true, detail: `the move gives ${userId} nothing it does not hold now` };
  }

  /** The target's chain (the target first); invalid input naming `field` for a bad target. */
  private async targetChain(
    resource: ResourceFacts,
    targetGroupId: string | null,
    field: string,
    principal: RpcPayload<typeof PermissionsRpc.checkMove>['principal'],
  ) {
    if (!targetGroupId) return [];
    const target = await this.projections.resource(targetGroupId);
    // A group the mover cannot see is answered as one that does not exist (no existence oracle).
    const visible =
      !!target &&
      (
        await this.decisions.check({
          principal,
          resourceType: 'ENVIRONMENT_GROUP',
          resourceRef: target.id,
          permission: 'READ',
        })
      ).canRead;
    if (!target || !visible || target.type !== 'ENVIRONMENT_GROUP' || target.ownerId !== resource.ownerId)
      throw new AppError(
        'invalid-input',
        `Field "${field}" is invalid: "${targetGroupId}" is not an environment group of the owner account`,
      );
    const chain = [target.id, ...(await this.projections.groupChain(target))];
    if (chain.includes(resource.id))
      throw new AppError(
        'invalid-input',
        `Field "${field}" is invalid: a group cannot be moved into itself or one of its subgroups`,
      );
    return chain;
  }

  /** What the user would hold on a touched resource after the move and does not hold now. */
  private async gained(
    { facts, chainAfter }: Touched,
    userId: string,
    owner: Awaited<ReturnType<ProjectionsService['account']>>,
    memberships: MembershipFacts[],
  ): Promise<{ resourceId: string; permissions: Permission[] }> {
    const [grant, chainBefore] = await Promise.all([
      this.grants.activePermissions(facts.id, userId),
      this.projections.groupChain(facts),
    ]);
    const at = (groupChain: readonly string[]) =>
      decide({
        userId,
        resource: facts,
        owner,
        memberships,
        groupChain,
        grantedPermissions: grant?.permissions ?? [],
        addressedByName: false,
      }).permissions;
    const before = at(chainBefore);
    const after = at(chainAfter);
    return { resourceId: facts.id, permissions: [...after.keys()].filter((p) => !before.has(p)).sort() };
  }

  /**
   * Every environment and group under a moved group, each with its chain after the move: its
   * path up to the moved group, then the target's chain.
   */
  private async descendants(group: ResourceFacts, targetChain: string[]): Promise<Touched[]> {
    const table = this.dataSource.getRepository(ResourceProjectionEntity).metadata.tablePath;
    const rows: { id: string; path: string[] }[] = await this.dataSource.query(
      `WITH RECURSIVE under(id, path) AS (
         SELECT r.id, ARRAY[r.group_id]::varchar[] FROM ${table} r
         WHERE r.group_id = $1 AND NOT r.deleted AND r.type IN ('ENVIRONMENT', 'ENVIRONMENT_GROUP')
         UNION ALL
         SELECT r.id, ARRAY[r.group_id]::varchar[] || u.path FROM ${table} r JOIN under u ON r.group_id = u.id
         WHERE NOT r.deleted AND r.type IN ('ENVIRONMENT', 'ENVIRONMENT_GROUP') AND cardinality(u.path) < 20
       )
       SELECT id, path FROM under`,
      [group.id],
    );
    const touched = await Promise.all(
      rows.map(async (row) => {
        const facts = await this.projections.resource(row.id);
        return facts ? [{ facts, chainAfter: [...row.path, ...targetChain] }] : [];
      }),
    );
    return touched.flat();
  }
}
