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
    const granted = `
      SELECT r.id FROM ${r} r JOIN ${g} gr ON gr.resource_id = r.id
      WHERE gr.subject_id = $1 AND r.type = $2 AND NOT r.deleted AND NOT gr.hidden AND ${active('gr')}`;
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
    const runs = `${granted} UNION ${exceptionRuns}`;
    let shared = granted;
    if (req.resourceType === 'ACTOR_RUN') shared = runs;
    else if ((STORAGE_TYPES as readonly string[]).includes(req.resourceType)) {
      shared = `${granted} UNION
        SELECT s.id FROM ${r} s
        WHERE s.type = $2 AND NOT s.deleted AND s.owner_id <> $1
          AND s.run_id IN (${runs.replace(/r\.type = \$2/, "r.type = 'ACTOR_RUN'")})`;
    }
    const params = [req.subjectId, req.resourceType];
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
}
