import { Injectable } from '@nestjs/common';
import { AppError, EventPayload, Events } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { addToOutbox } from '@atrium/messaging';
import { EntityManager } from 'typeorm';
import { AuditLogService } from '../audit/audit-log.service';
import { ProjectionsService } from '../projections/projections.service';
import { GrantEntity } from './grant.entity';
import { GrantsService } from './grants.service';

/**
 * Handles `issues.run-attached` (on the permissions service's event queue, once per event id):
 * the Actor's owner gets READ on the attached run — and so, by derivation, on its log and
 * default storages — as a hidden grant whose source is the issue. A grant the owner already
 * holds on the run is left as it is. Only the run's owner, or a holder of MANAGE_ACCESS on it,
 * shares a run this way: the gateway attaches other runs without sharing, and a share claimed
 * for a reporter who (no longer) may give it is dropped here. A reporter whose MANAGE_ACCESS
 * comes from a grant with an expiry shares the run until then only (GrantsService.grantorUntil).
 */
@Injectable()
export class IssueRunGrantsConsumer {
  constructor(
    private readonly projections: ProjectionsService,
    private readonly audit: AuditLogService,
    private readonly grants: GrantsService,
  ) {}

  async apply(event: EventPayload<typeof Events.issuesRunAttached>, manager: EntityManager): Promise<void> {
    const run = await this.projections.resource(event.runId, manager);
    // A run since deleted, or not a run of this Actor, is shared with no one.
    if (!run || run.type !== 'ACTOR_RUN' || run.actorId !== event.actorId) return;
    if (run.ownerId === event.actorOwnerId) return;
    let expiresAt: Date | null;
    try {
      expiresAt = await this.grants.grantorUntil(manager, run, event.reporterId, ['READ']);
    } catch (err) {
      if (err instanceof AppError && err.type === 'insufficient-permissions') return;
      throw err;
    }
    const inserted = await manager
      .createQueryBuilder()
      .insert()
      .into(GrantEntity)
      .values({
        id: newId(),
        resourceType: 'ACTOR_RUN',
        resourceId: event.runId,
        subjectId: event.actorOwnerId,
        permissions: ['READ'],
        expiresAt,
        grantedBy: event.reporterId,
        sourceType: 'ACTOR_ISSUE',
        sourceId: event.issueId,
        hidden: true,
      })
      .orIgnore()
      .returning(['id', 'created_at'])
      .execute();
    const created = inserted.raw[0] as { id: string; created_at: Date } | undefined;
    if (!created) return;
    // In the audit log of the run's owner, as given by the reporter through the issue.
    await this.audit.record(manager, {
      action: 'grant.created',
      actorId: event.reporterId,
      subjectId: event.actorOwnerId,
      resourceId: event.runId,
      resourceType: 'ACTOR_RUN',
      accountId: run.ownerId,
      before: null,
      after: {
        id: created.id,
        resourceType: 'ACTOR_RUN',
        resourceId: event.runId,
        userId: event.actorOwnerId,
        permissions: ['READ'],
        expiresAt: expiresAt?.toISOString() ?? null,
        hidden: true,
        source: { type: 'ACTOR_ISSUE', id: event.issueId },
      },
    });
    await addToOutbox(manager, Events.permissionsChanged, {
      resourceId: event.runId,
      subjectId: event.actorOwnerId,
      reason: 'grant-created',
    });
  }
}
