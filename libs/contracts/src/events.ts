import { z, ZodTypeAny } from 'zod';
import { RESOURCE_TYPES } from './access.enums';
import { apiTokenScopeSchema, membershipFactsSchema } from './access-scope';
import { accountFactsSchema, changedByField, resourceFactsSchema } from './facts';
import { signingKeyRotationSchema } from './signing-keys';
import { WEBHOOK_EVENT_TYPES } from './webhooks.contract';

export interface EventDefinition<S extends ZodTypeAny = ZodTypeAny> {
  readonly name: string;
  readonly payload: S;
}
function event<S extends ZodTypeAny>(name: string, payload: S): EventDefinition<S> {
  return { name, payload };
}
export type EventPayload<E> = E extends EventDefinition<infer S> ? z.output<S> : never;

/** Every event crosses the wire in this envelope; `id` is the idempotency key. */
export interface EventEnvelope<P = unknown> {
  id: string;
  name: string;
  occurredAt: string;
  payload: P;
  /** The request whose handling caused it, when one did: its consumers' work is part of it. */
  requestId?: string;
  /** The W3C trace context of the event's publication, when tracing is on. */
  traceparent?: string;
  /**
   * The message schema version of the release that published it (MESSAGE_SCHEMA_VERSION,
   * schema-version.ts); absent from releases before versioning.
   */
  schemaVersion?: string;
}

export const Events = {
  accountCreated: event('account.created', accountFactsSchema),
  accountUpdated: event('account.updated', accountFactsSchema),
  apiTokenCreated: event(
    'api-token.created',
    z
      .object({
        tokenId: z.string(),
        userId: z.string(),
        name: z.string(),
        expiresAt: z.string().nullable(),
        scope: apiTokenScopeSchema.nullable(),
      })
      .strict(),
  ),
  apiTokenRevoked: event('api-token.revoked', z.object({ tokenId: z.string(), userId: z.string() }).strict()),
  /** A token got a new secret (the old one stops working) or a new scope: caches of it are dropped. */
  apiTokenChanged: event(
    'api-token.changed',
    z
      .object({
        tokenId: z.string(),
        userId: z.string(),
        change: z.enum(['rotated', 'scope-changed']),
        scope: apiTokenScopeSchema.nullable(),
      })
      .strict(),
  ),
  /** Sessions ended (logout, password change or reset, refresh-token reuse): refuse their access tokens. */
  sessionsEnded: event(
    'sessions.ended',
    z.object({ userId: z.string(), sessionIds: z.array(z.string()) }).strict(),
  ),
  /** An organization or collaboration membership was created or changed (role, shares, status), and by whom. */
  membershipChanged: event('membership.changed', membershipFactsSchema.extend(changedByField)),
  resourceCreated: event('resource.created', resourceFactsSchema),
  resourceUpdated: event('resource.updated', resourceFactsSchema.extend(changedByField)),
  resourceDeleted: event(
    'resource.deleted',
    z
      .object({
        id: z.string(),
        type: z.enum(RESOURCE_TYPES),
        ownerId: z.string(),
        version: z.number().int(),
      })
      .strict(),
  ),
  /**
   * A reporter who owns a run (or holds MANAGE_ACCESS on it) attached it to an issue: the Actor's
   * owner is to be able to READ it.
   */
  issuesRunAttached: event(
    'issues.run-attached',
    z
      .object({
        issueId: z.string(),
        actorId: z.string(),
        actorOwnerId: z.string(),
        runId: z.string(),
        reporterId: z.string(),
      })
      .strict(),
  ),
  /**
   * A change took a user's access to storages' signing keys away (a grant revoked or narrowed, an
   * organization member removed or its role without STORAGE WRITE): the resources service gives
   * those storages new keys.
   */
  signingKeysRotationRequested: event('signing-keys.rotation-requested', signingKeyRotationSchema),
  /**
   * A run or build was created or finished (Apify's webhook event types), declared in the
   * transaction that changed it: the resources service's webhook dispatcher consumes it.
   */
  actorJobEventOccurred: event(
    'actor-job.event-occurred',
    z
      .object({
        eventType: z.enum(WEBHOOK_EVENT_TYPES),
        actorId: z.string(),
        actorTaskId: z.string().nullable(),
        actorRunId: z.string().optional(),
        actorBuildId: z.string().optional(),
      })
      .strict(),
  ),
  /**
   * A runner took, finished or lost a run: the lease's token acts as the run's starter, so the
   * starter's audit log says who executed it (the permissions service records it).
   */
  runLeaseChanged: event(
    'run.lease-changed',
    z
      .object({
        runId: z.string(),
        starterId: z.string(),
        runnerUserId: z.string(),
        worker: z.string(),
        attempt: z.number().int(),
        change: z.enum(['claimed', 'finished', 'lost']),
        status: z.string(),
      })
      .strict(),
  ),
  permissionsChanged: event(
    'permissions.changed',
    z
      .object({
        resourceId: z.string().nullable(),
        subjectId: z.string().nullable(),
        /** On a change of an account's settings (`general-access-changed` without a resource): which. */
        accountId: z.string().nullable().optional(),
        reason: z.enum([
          'grant-created',
          'grant-updated',
          'grant-revoked',
          'resource-deleted',
          'general-access-changed',
          'membership-changed',
          'token-creation',
        ]),
      })
      .strict(),
  ),
} as const;
