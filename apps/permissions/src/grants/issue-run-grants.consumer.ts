import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { EventPayload, Events } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import {
  addToOutbox,
  EVENT_BUS,
  EventBus,
  EventHandlers,
  ServiceOutboxRelay,
  subscribeHandlers,
} from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { ProjectionsService } from '../projections/projections.service';
import { GrantEntity } from './grant.entity';

/** Its own queue, so that issue events wait there while the permissions service is down. */
export const ISSUE_RUN_GRANTS_CONSUMER = 'permissions-issue-run-grants';

/**
 * A run attached to an issue gives the Actor's owner READ on it (and so, by derivation, on its
 * log and default storages): a hidden grant whose source is the issue. Applied once per event;
 * a grant the owner already holds on the run is left as it is.
 */
@Injectable()
export class IssueRunGrantsConsumer implements OnApplicationBootstrap {
  readonly handlers: EventHandlers;

  constructor(
    dataSource: DataSource,
    private readonly projections: ProjectionsService,
    private readonly outbox: ServiceOutboxRelay,
    @Inject(EVENT_BUS) private readonly bus: EventBus,
  ) {
    this.handlers = new EventHandlers(dataSource, ISSUE_RUN_GRANTS_CONSUMER).on(
      Events.issuesRunAttached,
      (event, manager) => this.grantRunToActorOwner(event, manager),
    );
  }

  private async grantRunToActorOwner(
    event: EventPayload<typeof Events.issuesRunAttached>,
    manager: EntityManager,
  ): Promise<void> {
    const run = await this.projections.resource(event.runId);
    // A run since deleted, or not a run of this Actor, is shared with no one.
    if (!run || run.type !== 'ACTOR_RUN' || run.actorId !== event.actorId) return;
    if (run.ownerId === event.actorOwnerId) return;
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
        expiresAt: null,
        grantedBy: event.reporterId,
        sourceType: 'ACTOR_ISSUE',
        sourceId: event.issueId,
        hidden: true,
      })
      .orIgnore()
      .returning(['id'])
      .execute();
    if (!inserted.raw.length) return;
    await addToOutbox(manager, Events.permissionsChanged, {
      resourceId: event.runId,
      subjectId: event.actorOwnerId,
      reason: 'grant-created',
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await subscribeHandlers(this.bus, this.handlers, this.outbox);
  }
}
