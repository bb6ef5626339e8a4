import { z, ZodRawShape, ZodTypeAny } from 'zod';
import { named } from './zod-openapi';

/**
 * What the gateway answers, for the OpenAPI document and the typed client (`libs/client`): each
 * view names its main fields and lets the others through (`passthrough`), as the presenters may
 * add fields without the document breaking. Routes bind them with `@Returns` (validated.ts).
 */
const view = <S extends ZodRawShape>(name: string, shape: S) =>
  named(name, z.object({ id: z.string(), ...shape }).passthrough());

const timestamps = { createdAt: z.string(), modifiedAt: z.string().optional() };

/** Apify's list envelope: `{ total, offset, limit, desc, count, items }`. */
export const listOf = <T extends ZodTypeAny>(item: T) =>
  z
    .object({
      total: z.number(),
      offset: z.number().optional(),
      limit: z.number().optional(),
      desc: z.boolean().optional(),
      count: z.number().optional(),
      items: z.array(item),
    })
    .passthrough();

/** A JSON object whose shape the route does not fix (run outputs, validation reports, health). */
export const anyObject = z.object({}).passthrough();
/** A body of bytes or text (logs, records, exports). */
export const rawBody = z.string();

export const userView = view('User', {
  username: z.string(),
  email: z.string().optional(),
  emailVerified: z.boolean().optional(),
  createdAt: z.string(),
  settings: anyObject.optional(),
});
export const publicUserView = view('PublicUser', { username: z.string() });
export const authResultView = named(
  'AuthResult',
  z.object({ user: userView, accessToken: z.string(), refreshToken: z.string() }),
);
export const apiTokenView = view('ApiToken', { name: z.string().nullable().optional(), ...timestamps });
export const createdApiTokenView = named(
  'CreatedApiToken',
  apiTokenView.extend({ token: z.string() }).passthrough(),
);

const owned = { userId: z.string(), name: z.string().nullable().optional(), ...timestamps };
export const actorView = view('Actor', { ...owned, title: z.string().nullable().optional() });
export const buildView = view('Build', {
  actId: z.string(),
  status: z.string(),
  buildNumber: z.string().optional(),
  startedAt: z.string().optional(),
});
export const versionView = named(
  'ActorVersion',
  z.object({ versionNumber: z.string(), sourceType: z.string().optional() }).passthrough(),
);
export const envVarView = named(
  'EnvVar',
  z
    .object({ name: z.string(), value: z.string().optional(), isSecret: z.boolean().optional() })
    .passthrough(),
);
export const runView = view('Run', {
  actId: z.string(),
  actorTaskId: z.string().nullable().optional(),
  userId: z.string(),
  status: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable().optional(),
  defaultDatasetId: z.string().optional(),
  defaultKeyValueStoreId: z.string().optional(),
  defaultRequestQueueId: z.string().optional(),
});
export const issueView = view('ActorIssue', { title: z.string(), status: z.string(), ...timestamps });
export const issueCommentView = view('ActorIssueComment', { text: z.string(), ...timestamps });
export const subscriptionView = named(
  'IssueSubscription',
  z.object({ subscribed: z.boolean() }).passthrough(),
);
export const notificationView = view('Notification', { createdAt: z.string() });

export const appView = view('App', owned);
export const appContentView = view('AppContent', {});
export const appCollaboratorView = view('AppCollaborator', {});

export const organizationView = view('Organization', owned);
export const organizationRoleView = view('OrganizationRole', { name: z.string() });
export const organizationMemberView = named(
  'OrganizationMember',
  z.object({ userId: z.string() }).passthrough(),
);
export const invitationView = view('Invitation', { status: z.string().optional() });

export const webhookView = view('Webhook', {
  eventTypes: z.array(z.string()),
  condition: anyObject,
  requestUrl: z.string(),
  ...timestamps,
});
export const webhookDispatchView = view('WebhookDispatch', {
  webhookId: z.string(),
  status: z.string(),
  eventType: z.string(),
});

export const accessGrantView = view('AccessGrant', { permissions: z.array(z.string()) });
export const collaborationMemberView = view('CollaborationMember', {});
export const collaborationRoleView = view('CollaborationRole', { name: z.string() });
export const collaborationPolicyView = view('CollaborationPolicy', { name: z.string() });
export const collaborationView = view('Collaboration', {});
export const auditEntryView = view('AuditEntry', { createdAt: z.string() });
export const usageView = named('Usage', anyObject);
export const storeItemView = view('StoreActor', {});

// Storage, tasks, schedules and environments: for their controllers' `@Returns`.
const storage = { ...owned, accessedAt: z.string().optional() };
export const datasetView = view('Dataset', { ...storage, itemCount: z.number().optional() });
export const keyValueStoreView = view('KeyValueStore', storage);
export const keyValueStoreKeysView = named(
  'KeyValueStoreKeys',
  z
    .object({
      items: z.array(z.object({ key: z.string(), size: z.number() }).passthrough()),
      count: z.number(),
      limit: z.number(),
      isTruncated: z.boolean(),
      nextExclusiveStartKey: z.string().nullable().optional(),
    })
    .passthrough(),
);
export const requestQueueView = view('RequestQueue', storage);
export const queueRequestView = view('QueueRequest', { url: z.string(), uniqueKey: z.string() });
export const actorTaskView = view('ActorTask', { ...owned, actId: z.string() });
export const scheduleView = view('Schedule', {
  ...owned,
  cronExpression: z.string(),
  isEnabled: z.boolean(),
});
export const environmentView = view('Environment', owned);
export const environmentGroupView = view('EnvironmentGroup', owned);
/** A resource's access list, paged by cursor. */
export const accessListView = named(
  'AccessList',
  z.object({ items: z.array(accessGrantView), nextCursor: z.string().nullable().optional() }).passthrough(),
);
