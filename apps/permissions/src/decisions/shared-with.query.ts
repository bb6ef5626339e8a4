import { Injectable } from '@nestjs/common';
import { PermissionsRpc, RpcPayload, STORAGE_TYPES } from '@atrium/contracts';
import { DataSource } from 'typeorm';
import { GrantEntity } from '../grants/grant.entity';
import { AccountProjectionEntity } from '../projections/account-projection.entity';
import { ResourceProjectionEntity } from '../projections/resource-projection.entity';

/**
 * What is shared with a user, for `ownership=sharedWithMe`: everything of a type the user
 * reaches by an active grant or by an exception of the decision order (runs through
 * VIEW_OWNER_RUNS on their Actor or task, runs shared with a public Actor's creator, and the
 * default storages of those runs). Link sharing (general access) is not "shared with me".
 * Hidden grants (an issue's run share) are not listed. One query over the projections, paged by
 * id (offset, or keyset with `cursor`): complete and stable, never truncated.
 */
@Injectable()
export class SharedWithQuery {
  constructor(private readonly dataSource: DataSource) {}

  async list(
    req: RpcPayload<typeof PermissionsRpc.listSharedWith>,
  ): Promise<{ total: number; resourceIds: string[]; nextCursor: string | null }> {
    const table = (entity: new () => unknown) => this.dataSource.getRepository(entity).metadata.tablePath;
    const [g, r, a] = [table(GrantEntity), table(ResourceProjectionEntity), table(AccountProjectionEntity)];
    const active = (alias: string) =>
      `(${alias}.expires_at IS NULL OR ${alias}.expires_at > now()) AND (${alias}.not_before IS NULL OR ${alias}.not_before <= now())`;
    // Grants go with their resource (deleted in the same transaction as its tombstone), so the
    // grant index alone answers the common case.
    const granted = `
      SELECT gr.resource_id AS id FROM ${g} gr
      WHERE gr.subject_id = $1 AND gr.resource_type = $2 AND NOT gr.hidden AND ${active('gr')}`;
    const exceptionRuns = `
      SELECT run.id FROM ${r} run
        JOIN ${r} parent ON parent.id IN (run.actor_id, run.task_id) AND parent.owner_id = run.owner_id
        JOIN ${g} gp ON gp.resource_id = parent.id AND gp.subject_id = $1
          AND 'VIEW_OWNER_RUNS' = ANY(gp.permissions) AND ${active('gp')}
      WHERE run.type = 'ACTOR_RUN' AND NOT run.deleted
      UNION
      SELECT run.id FROM ${r} run
        JOIN ${r} actor ON actor.id = run.actor_id AND actor.is_public AND actor.owner_id = $1
        JOIN ${a} starter ON starter.id = run.owner_id AND starter.share_runs_with_public_actor_creators
      WHERE run.type = 'ACTOR_RUN' AND NOT run.deleted AND run.owner_id <> $1`;
    const runs = `${granted.replace('gr.resource_type = $2', "gr.resource_type = 'ACTOR_RUN'")} UNION ${exceptionRuns}`;
    const params = [req.subjectId, req.resourceType];
    let shared = granted;
    const derives =
      req.resourceType === 'ACTOR_RUN' || (STORAGE_TYPES as readonly string[]).includes(req.resourceType);
    if (derives && (await this.mayReachRunsBeyondGrants(req.subjectId))) {
      shared =
        req.resourceType === 'ACTOR_RUN'
          ? `${granted} UNION ${exceptionRuns}`
          : `${granted} UNION
        SELECT s.id FROM ${r} s
        WHERE s.type = $2 AND NOT s.deleted AND s.owner_id <> $1 AND s.run_id IN (${runs})`;
    } else if (derives) {
      // Storages of runs granted directly still follow those runs.
      shared =
        req.resourceType === 'ACTOR_RUN'
          ? granted
          : `${granted} UNION
        SELECT s.id FROM ${r} s
        WHERE s.type = $2 AND NOT s.deleted AND s.owner_id <> $1
          AND s.run_id IN (${granted.replace('gr.resource_type = $2', "gr.resource_type = 'ACTOR_RUN'")})`;
    }
    const [{ total }] = await this.dataSource.query(
      `SELECT count(*)::int AS total FROM (${shared}) s`,
      params,
    );
    const after = req.desc ? '<' : '>';
    const rows: { id: string }[] = await this.dataSource.query(
      `SELECT id FROM (${shared}) s WHERE $5::text IS NULL OR id ${after} $5
       ORDER BY id ${req.desc ? 'DESC' : 'ASC'} LIMIT $3 OFFSET $4`,
      [...params, req.limit + 1, req.offset, req.cursor ?? null],
    );
    const page = rows.slice(0, req.limit).map((row) => row.id);
    return { total, resourceIds: page, nextCursor: rows.length > req.limit ? page[page.length - 1] : null };
  }

  /**
   * Whether the exceptions of the decision order could give the subject runs beyond its grants:
   * only with VIEW_OWNER_RUNS on some Actor or task, or as the owner of a public Actor. Two index
   * lookups that spare the common listing the joins over every run.
   */
  private async mayReachRunsBeyondGrants(subjectId: string): Promise<boolean> {
    const table = (entity: new () => unknown) => this.dataSource.getRepository(entity).metadata.tablePath;
    const [{ reach }] = await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM ${table(GrantEntity)} WHERE subject_id = $1
                        AND resource_type IN ('ACTOR', 'ACTOR_TASK') AND 'VIEW_OWNER_RUNS' = ANY(permissions))
           OR EXISTS (SELECT 1 FROM ${table(ResourceProjectionEntity)} WHERE owner_id = $1 AND type = 'ACTOR'
                        AND is_public AND NOT deleted) AS reach`,
      [subjectId],
    );
    return reach;
  }
}
