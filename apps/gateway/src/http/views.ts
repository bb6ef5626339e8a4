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

/**
 * Apify's list envelope: `{ total, offset, limit, desc, count, items }`; an owned-or-shared list
 * with `ownership=sharedWithMe` also answers `nextCursor` (the `cursor` of the next page, null on
 * the last).
 */
export const listOf = <T extends ZodTypeAny>(item: T) =>
  z
    .object({
      total: z.number(),
      offset: z.number().optional(),
      limit: z.number().optional(),
      desc: z.boolean().optional(),
      count: z.number().optional(),
      items: z.array(item),
      nextCursor: z.string().nullable().optional(),
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
/** Owned by an account, named `ownerId` (environments, groups, organizations). */
const ownedBy = { ownerId: z.string(), createdAt: z.string(), modifiedAt: z.string() };
const nullableString = z.string().nullable();
const generalAccess = z.string();
export const actorView = view('Actor', {
  userId: z.string(),
  name: z.string(),
  title: nullableString,
  description: nullableString,
  isPublic: z.boolean(),
  isDeprecated: z.boolean(),
  seoTitle: nullableString,
  seoDescription: nullableString,
  categories: z.array(z.string()),
  createdAt: z.string(),
  modifiedAt: z.string(),
  defaultRunOptions: anyObject,
  exampleRunInput: z.object({ body: z.string(), contentType: z.string() }).passthrough().nullable(),
  /** The owner's, as Apify shows it. */
  username: nullableString,
  /** Left out of list items, as Apify does. */
  versions: z.array(anyObject).optional(),
  taggedBuilds: z.record(anyObject),
  stats: z.object({ totalBuilds: z.number() }).passthrough(),
});
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
  userId: z.string(),
  actorTaskId: nullableString,
  startedAt: z.string(),
  finishedAt: nullableString,
  status: z.string(),
  statusMessage: nullableString,
  isStatusMessageTerminal: z.boolean(),
  meta: anyObject,
  options: z.object({ build: z.string(), timeoutSecs: z.number(), memoryMbytes: z.number() }).passthrough(),
  buildId: nullableString,
  defaultDatasetId: z.string(),
  defaultKeyValueStoreId: z.string(),
  defaultRequestQueueId: z.string(),
  generalAccess,
  consoleUrl: z.string(),
});
/** The start response alone carries the run's token, as an API token is shown once. */
export const startedRunView = named('StartedRun', runView.extend({ runToken: z.string() }).passthrough());
export const issueView = view('ActorIssue', {
  actId: z.string(),
  /** The author. */
  userId: z.string(),
  title: z.string(),
  description: z.string(),
  status: z.string(),
  /** The attached run: shown to the Actor's owner and the author only. */
  runId: nullableString.optional(),
  commentCount: z.number(),
  createdAt: z.string(),
  modifiedAt: z.string(),
  closedAt: nullableString,
});
export const issueCommentView = view('ActorIssueComment', { text: z.string(), ...timestamps });
export const subscriptionView = named(
  'IssueSubscription',
  z.object({ subscribed: z.boolean() }).passthrough(),
);
export const notificationView = view('Notification', { createdAt: z.string() });

export const appView = view('App', owned);
export const appContentView = view('AppContent', {});
export const appCollaboratorView = view('AppCollaborator', {});

export const organizationView = view('Organization', {
  username: z.string(),
  ownerId: z.string(),
  createdAt: z.string(),
  settings: anyObject,
  /** The caller's role in it. */
  role: z.object({ id: z.string(), name: z.string(), permissions: anyObject }).passthrough(),
});
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

export const accessGrantView = view('AccessGrant', {
  resourceType: z.string(),
  resourceId: z.string(),
  userId: z.string(),
  permissions: z.array(z.string()),
  expiresAt: nullableString,
  notBefore: nullableString,
  grantedBy: z.string(),
  /** Where a grant came from when no one gave it by hand (e.g. an issue that attached a run). */
  source: z.object({ type: z.string(), id: z.string() }).nullable(),
  hidden: z.boolean(),
  createdAt: z.string(),
  modifiedAt: z.string(),
});
export const collaborationMemberView = view('CollaborationMember', {});
export const collaborationRoleView = view('CollaborationRole', { name: z.string() });
export const collaborationPolicyView = view('CollaborationPolicy', { name: z.string() });
export const collaborationView = view('Collaboration', {});
export const auditEntryView = view('AuditEntry', {
  occurredAt: z.string(),
  action: z.string(),
  actorId: nullableString,
  subjectId: nullableString,
  resourceId: nullableString,
  resourceType: nullableString,
  accountId: z.string(),
  before: z.unknown(),
  after: z.unknown(),
});
/** The audit log, paged by cursor. */
export const auditLogView = named(
  'AuditLog',
  z
    .object({
      limit: z.number(),
      count: z.number(),
      nextCursor: nullableString,
      items: z.array(auditEntryView),
    })
    .passthrough(),
);
export const usageView = named('Usage', anyObject);
export const storeItemView = view('StoreActor', {});

// Storage, tasks, schedules and environments: for their controllers' `@Returns`.
/** A storage as presented (storage-presenter.ts): the signing key for writers only. */
const storage = {
  name: nullableString,
  userId: z.string(),
  createdAt: z.string(),
  modifiedAt: z.string(),
  accessedAt: z.string(),
  generalAccess,
  /** For writers only. */
  urlSigningSecretKey: z.string().optional(),
  consoleUrl: z.string(),
};
const runStorage = { ...storage, actId: nullableString, actRunId: nullableString };
export const datasetView = view('Dataset', {
  ...storage,
  itemCount: z.number(),
  cleanItemCount: z.number(),
  /** Signed for writers. */
  itemsPublicUrl: z.string(),
});
export const keyValueStoreView = view('KeyValueStore', {
  ...runStorage,
  stats: z.object({ recordCount: z.number(), storageBytes: z.number() }).passthrough(),
  /** Signed for writers. */
  keysPublicUrl: z.string(),
});
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
export const requestQueueView = view('RequestQueue', {
  ...runStorage,
  totalRequestCount: z.number(),
  handledRequestCount: z.number(),
  pendingRequestCount: z.number(),
  hadMultipleClients: z.boolean(),
});
export const queueRequestView = view('QueueRequest', { url: z.string(), uniqueKey: z.string() });
export const actorTaskView = view('ActorTask', {
  userId: z.string(),
  actId: z.string(),
  name: z.string(),
  title: nullableString,
  description: nullableString,
  createdAt: z.string(),
  modifiedAt: z.string(),
  options: anyObject,
  input: anyObject.nullable(),
  /** The owner's, as Apify shows it. */
  username: nullableString,
});
export const scheduleView = view('Schedule', {
  userId: z.string(),
  name: z.string(),
  title: nullableString,
  cronExpression: z.string(),
  timezone: z.string(),
  isEnabled: z.boolean(),
  isExclusive: z.boolean(),
  description: nullableString,
  createdAt: z.string(),
  modifiedAt: z.string(),
  /** Null while the schedule is disabled. */
  nextRunAt: nullableString,
  lastRunAt: nullableString,
  notifications: z.object({ email: z.boolean() }).passthrough(),
  actions: z.array(anyObject),
});
export const scheduleLogEntryView = named(
  'ScheduleLogEntry',
  z.object({ message: z.string(), level: z.enum(['INFO', 'ERROR']), createdAt: z.string() }).passthrough(),
);
export const environmentView = view('Environment', {
  name: z.string(),
  ...ownedBy,
  createdBy: z.string(),
  groupId: nullableString,
  status: z.string(),
  region: z.string(),
  config: anyObject,
  deployments: z.array(anyObject),
});
export const environmentGroupView = view('EnvironmentGroup', {
  name: z.string(),
  ...ownedBy,
  createdBy: z.string(),
  parentId: nullableString,
});
/** A resource's access list: its owner, general access, a page of grants (by cursor), derived access. */
export const accessListView = named(
  'AccessList',
  z
    .object({
      resourceId: z.string(),
      resourceType: z.string(),
      owner: z.object({ userId: z.string() }).passthrough(),
      generalAccess,
      effectiveGeneralAccess: z.string(),
      grants: z.array(accessGrantView),
      nextCursor: nullableString,
      derived: z.array(
        z
          .object({
            rule: z.string(),
            userId: z.string(),
            role: z.string(),
            permissions: z.array(z.string()),
          })
          .passthrough(),
      ),
    })
    .passthrough(),
);
