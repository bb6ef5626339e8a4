import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Events } from '@atrium/contracts';
import {
  addToOutbox,
  EVENT_BUS,
  EventBus,
  EventHandlers,
  ServiceOutboxRelay,
  subscribeHandlers,
} from '@atrium/messaging';
import { DataSource } from 'typeorm';
import { AuditLogService } from '../audit/audit-log.service';
import { GrantsService } from '../grants/grants.service';
import { IssueRunGrantsConsumer } from '../grants/issue-run-grants.consumer';
import { TokenCreationEntity } from '../token-creations/token-creation.entity';
import { MembershipsService } from '../memberships/memberships.service';
import { ProjectionsService } from './projections.service';

/**
 * The permissions service's event queue, each event applied once: projections from identity's
 * and resources' events; runs attached to issues (IssueRunGrantsConsumer).
 */
@Injectable()
export class ProjectionEventsConsumer implements OnApplicationBootstrap {
  readonly handlers: EventHandlers;

  constructor(
    dataSource: DataSource,
    projections: ProjectionsService,
    grants: GrantsService,
    audit: AuditLogService,
    issueRunGrants: IssueRunGrantsConsumer,
    memberships: MembershipsService,
    private readonly outbox: ServiceOutboxRelay,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {
    const generalAccessChanged = (resourceId: string | null, accountId: string | null = null) =>
      ({ resourceId, subjectId: null, accountId, reason: 'general-access-changed' }) as const;
    this.handlers = new EventHandlers(dataSource, 'permissions')
      .on(Events.accountCreated, (facts, manager) => projections.upsertAccount(facts, manager))
      .on(Events.accountUpdated, async (facts, manager) => {
        await projections.upsertAccount(facts, manager);
        // Every replica drops the decisions that read this account (gateway AccessDecisions).
        await addToOutbox(manager, Events.permissionsChanged, generalAccessChanged(null, facts.id));
      })
      .on(Events.resourceCreated, (facts, manager) => projections.upsertResource(facts, manager))
      .on(Events.resourceUpdated, async ({ changedBy, ...facts }, manager) => {
        await projections.upsertResource(facts, manager, changedBy ?? null);
        await addToOutbox(manager, Events.permissionsChanged, generalAccessChanged(facts.id));
      })
      .on(Events.apiTokenCreated, (token, manager) =>
        audit.record(manager, {
          action: 'token.created',
          actorId: token.userId,
          subjectId: token.userId,
          resourceId: null,
          resourceType: null,
          accountId: token.userId,
          before: null,
          after: { tokenId: token.tokenId, name: token.name, expiresAt: token.expiresAt, scope: token.scope },
        }),
      )
      .on(Events.apiTokenRevoked, (token, manager) =>
        audit.record(manager, {
          action: 'token.revoked',
          actorId: token.userId,
          subjectId: token.userId,
          resourceId: null,
          resourceType: null,
          accountId: token.userId,
          before: { tokenId: token.tokenId },
          after: null,
        }),
      )
      .on(Events.apiTokenChanged, (token, manager) =>
        audit.record(manager, {
          action: token.change === 'rotated' ? 'token.rotated' : 'token.scope-changed',
          actorId: token.userId,
          subjectId: token.userId,
          resourceId: null,
          resourceType: null,
          accountId: token.userId,
          before: { tokenId: token.tokenId },
          after: { tokenId: token.tokenId, scope: token.scope },
        }),
      )
      .on(Events.runLeaseChanged, (lease, manager) =>
        audit.record(manager, {
          action: `run.${lease.change}`,
          actorId: lease.runnerUserId,
          subjectId: lease.starterId,
          resourceId: lease.runId,
          resourceType: 'ACTOR_RUN',
          accountId: lease.starterId,
          before: null,
          after: { worker: lease.worker, attempt: lease.attempt, status: lease.status },
        }),
      )
      .on(Events.resourceDeleted, async (facts, manager) => {
        await projections.recordDeleted(facts, manager);
        await grants.deleteForResource(manager, facts.id);
        await manager.delete(TokenCreationEntity, { resourceId: facts.id });
      })
      .on(Events.membershipChanged, async ({ changedBy, ...facts }, manager) => {
        await memberships.upsert(facts, manager, changedBy ?? null);
        // Always: a gateway refresh may have applied this state first, on one replica only.
        await addToOutbox(manager, Events.permissionsChanged, {
          resourceId: null,
          subjectId: facts.userId,
          reason: 'membership-changed',
        });
      })
      .on(Events.issuesRunAttached, (event, manager) => issueRunGrants.apply(event, manager));
  }

  async onApplicationBootstrap(): Promise<void> {
    await subscribeHandlers(this.bus, this.handlers, this.outbox);
  }
}
