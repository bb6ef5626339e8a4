import { Injectable } from '@nestjs/common';
import { PermissionsRpc, RpcPayload, STORAGE_TYPES } from '@atrium/contracts';
import { preparedQuery } from '@atrium/persistence';
import { DataSource } from 'typeorm';
import { GrantEntity } from '../grants/grant.entity';
import { AccountProjectionEntity } from '../projections/account-projection.entity';
import { ResourceProjectionEntity } from '../projections/resource-projection.entity';

/** What a type's listing is made of: its grants, and for runs and storages what the runs give. */
type Shape = 'granted' | 'runs' | 'storages';

/**
 * What is shared with a user, for `ownership=sharedWithMe`: everything of a type the user
 * reaches by an active grant or by an exception of the decision order (runs through
 * VIEW_OWNER_RUNS on their Actor or task, runs shared with a public Actor's creator, and the
 * default storages of those runs). Link sharing (general access) is not "shared with me".
 * Hidden grants (an issue's run share) are not listed. Paged by id (offset, or keyset with
 * `cursor`): complete and stable, never truncated.
 *
 * With `ids` (a scoped token's listing), only those of them are listed and counted.
 *
 * One prepared statement, one round trip, answers both the exact total and the page. The grants
 * come in id order from `grant_subject_type_resource_idx`, so a page reads only its own rows
 * (and the offset's) and the total counts index entries; what the runs add is kept disjoint from
 * the grants (`UNION ALL … NOT EXISTS`) so no step has to gather and deduplicate every row.
 */
@Injectable()
export class SharedWithQuery {
  private readonly statements = new Map<string, string>();

  constructor(private readonly dataSource: DataSource) {}

  async list(
    req: RpcPayload<typeof PermissionsRpc.listSharedWith>,
  ): Promise<{ total: number; resourceIds: string[]; nextCursor: string | null; validUntil: string | null }> {
    const shape: Shape =
      req.resourceType === 'ACTOR_RUN'
        ? 'runs'
        : (STORAGE_TYPES as readonly string[]).includes(req.resourceType)
          ? 'storages'
          : 'granted';
    const { desc } = req;
    const keyset = req.cursor !== undefined;
    const only = req.ids !== undefined;
    const name = `permissions.shared-with.${shape}.${desc ? 'desc' : 'asc'}${keyset ? '.cursor' : ''}${only ? '.ids' : ''}`;
    let text = this.statements.get(name);
    if (!text) this.statements.set(name, (text = this.statement(shape, desc, keyset, only)));
    const params: unknown[] = [req.subjectId, req.resourceType, req.limit + 1, req.offset];
    if (keyset) params.push(req.cursor);
    if (only) params.push(req.ids);
    const [row] = await preparedQuery<{ total: number; ids: string[]; validUntil: Date | null }>(
      this.dataSource,
      name,
      text,
      params,
    );
    const page = row.ids.slice(0, req.limit);
    return {
      total: row.total,
      resourceIds: page,
      nextCursor: row.ids.length > req.limit ? page[page.length - 1] : null,
      validUntil: row.validUntil && new Date(row.validUntil).toISOString(),
    };
  }

  /**
   * The statement of a shape and order. Parameters: $1 subject, $2 resource type, $3 page size
   * (one more than asked, to tell whether a next page exists), $4 offset, $5 cursor (keyset only),
   * then the ids to keep to (`only`).
   */
  private statement(shape: Shape, desc: boolean, keyset: boolean, only: boolean): string {
    const table = (entity: new () => unknown) => this.dataSource.getRepository(entity).metadata.tablePath;
    const [g, r, a] = [table(GrantEntity), table(ResourceProjectionEntity), table(AccountProjectionEntity)];
    const active = (alias: string) =>
      `(${alias}.expires_at IS NULL OR ${alias}.expires_at > now()) AND (${alias}.not_before IS NULL OR ${alias}.not_before <= now())`;
    // A grant that lists its resource. Grants go with their resource (deleted in the same
    // transaction as its tombstone), so the grant index alone answers the common case.
    const listing = (alias: string, type: string) =>
      `${alias}.subject_id = $1 AND ${alias}.resource_type = ${type} AND NOT ${alias}.hidden AND ${active(alias)}`;
    const granted = (alias: string, type: string) =>
      `SELECT ${alias}.resource_id AS id FROM ${g} ${alias} WHERE ${listing(alias, type)}`;
    // When time alone changes what any part reads (every grant it reads is the subject's): the
    // first start or end still to come of one of them (from grant_subject_timed_idx).
    const timeChanges = `SELECT min(least(
        CASE WHEN t.not_before > now() THEN t.not_before END, CASE WHEN t.expires_at > now() THEN t.expires_at END))
      FROM ${g} t WHERE t.subject_id = $1 AND (t.not_before IS NOT NULL OR t.expires_at IS NOT NULL)
        AND (t.not_before > now() OR t.expires_at > now())`;
    // What the exceptions add is listed only where no grant lists it already: the two parts
    // are then disjoint, and a plain UNION ALL of them is the set.
    const notGranted = (id: string) =>
      `NOT EXISTS (SELECT 1 FROM ${g} gx WHERE ${listing('gx', '$2')} AND gx.resource_id = ${id})`;
    // The exceptions can give runs beyond the grants only with VIEW_OWNER_RUNS on some Actor or
    // task, or to the owner of a public Actor. Uncorrelated, so PostgreSQL evaluates it once,
    // from two index lookups, and skips the joins over every run when it is false.
    const mayReachRunsBeyondGrants = `(
      EXISTS (SELECT 1 FROM ${g} WHERE subject_id = $1 AND resource_type IN ('ACTOR', 'ACTOR_TASK')
                AND 'VIEW_OWNER_RUNS' = ANY(permissions))
      OR EXISTS (SELECT 1 FROM ${r} WHERE owner_id = $1 AND type = 'ACTOR' AND is_public AND NOT deleted))`;
    const exceptionRuns = `
      SELECT e.id FROM (
        SELECT run.id FROM ${r} run
          JOIN ${r} parent ON parent.id IN (run.actor_id, run.task_id) AND parent.owner_id = run.owner_id
          JOIN ${g} gp ON gp.resource_id = parent.id AND gp.subject_id = $1
            AND 'VIEW_OWNER_RUNS' = ANY(gp.permissions) AND ${active('gp')}
        WHERE run.type = 'ACTOR_RUN' AND NOT run.deleted
        UNION
        SELECT run.id FROM ${r} run
          JOIN ${r} actor ON actor.id = run.actor_id AND actor.is_public AND actor.owner_id = $1
          JOIN ${a} starter ON starter.id = run.owner_id AND starter.share_runs_with_public_actor_creators
        WHERE run.type = 'ACTOR_RUN' AND NOT run.deleted AND run.owner_id <> $1
      ) e WHERE ${mayReachRunsBeyondGrants}`;
    // What the runs add (the runs of the exceptions, or the default storages of the runs the
    // user reaches), worked out once and on its own: were it planned together with the check
    // against the grants below, the planner could, on tables it has no statistics for, run that
    // check for every storage of the type before narrowing them to the runs' (quadratic).
    const derived = {
      granted: undefined,
      runs: exceptionRuns,
      storages: `
        SELECT s.id FROM ${r} s
        WHERE s.type = $2 AND NOT s.deleted AND s.owner_id <> $1
          AND s.run_id IN (${granted('gu', "'ACTOR_RUN'")} UNION ${exceptionRuns})`,
    }[shape];
    // The parts of the listing, disjoint: the grants, then what the runs add beyond them; with
    // `only`, each kept to the given ids.
    const among = (id: string) => (only ? ` AND ${id} = ANY($${keyset ? 6 : 5}::varchar[])` : '');
    const parts = [`${granted('gr', '$2')}${among('gr.resource_id')}`];
    if (derived) parts.push(`SELECT d.id FROM derived d WHERE ${notGranted('d.id')}${among('d.id')}`);
    const order = desc ? 'DESC' : 'ASC';
    const from = (part: string) =>
      `SELECT p.id FROM (${part}) p ${keyset ? `WHERE p.id ${desc ? '<' : '>'} $5` : ''} ORDER BY p.id ${order}`;
    // PostgreSQL does not merge-append UNION ALL parts that have a WHERE clause in their order,
    // so each part is cut to the rows the page can need (its grants read in index order, and
    // stopped there), and only those are sorted together.
    const page =
      parts.length === 1
        ? `${from(parts[0])} LIMIT $3 OFFSET $4`
        : `SELECT u.id FROM (${parts.map((part) => `(${from(part)} LIMIT $3::int + $4::int)`).join(' UNION ALL ')}) u
           ORDER BY u.id ${order} LIMIT $3 OFFSET $4`;
    return `${derived ? `WITH derived AS MATERIALIZED (${derived})` : ''}
      SELECT (SELECT count(*) FROM (${parts.join(' UNION ALL ')}) c)::int AS total,
             (SELECT coalesce(json_agg(l.id ORDER BY l.id ${order}), '[]'::json) FROM (${page}) l) AS ids,
             (${timeChanges}) AS "validUntil"`;
  }
}
