import { z } from 'zod';
import { ListPage, paginationSchema } from './resources.contract';
import { rpc } from './rpc-route';
import { idSchema } from './validation';

/** Apify's webhook event types (`@apify/consts` WEBHOOK_EVENT_TYPES); TEST is what `/test` sends. */
export const WEBHOOK_EVENT_TYPES = [
  'ACTOR.RUN.CREATED',
  'ACTOR.RUN.SUCCEEDED',
  'ACTOR.RUN.FAILED',
  'ACTOR.RUN.TIMED_OUT',
  'ACTOR.RUN.ABORTED',
  'ACTOR.RUN.RESURRECTED',
  'ACTOR.BUILD.CREATED',
  'ACTOR.BUILD.SUCCEEDED',
  'ACTOR.BUILD.FAILED',
  'ACTOR.BUILD.TIMED_OUT',
  'ACTOR.BUILD.ABORTED',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export type WebhookDispatchEventType = WebhookEventType | 'TEST';

export const WEBHOOK_DISPATCH_STATUSES = ['ACTIVE', 'SUCCEEDED', 'FAILED'] as const;
export type WebhookDispatchStatus = (typeof WEBHOOK_DISPATCH_STATUSES)[number];

/** The most characters of a response body a dispatch call keeps. */
export const WEBHOOK_RESPONSE_BODY_MAX_CHARS = 1000;
const TEMPLATE_MAX_CHARS = 64 * 1024;

/** What a webhook watches: exactly one of an Actor's runs (and builds), a task's runs, or one run. */
export const webhookConditionSchema = z
  .object({
    actorId: idSchema.optional(),
    actorTaskId: idSchema.optional(),
    actorRunId: idSchema.optional(),
  })
  .strict()
  .refine((c) => [c.actorId, c.actorTaskId, c.actorRunId].filter(Boolean).length === 1, {
    message: 'must name exactly one of actorId, actorTaskId or actorRunId',
  });
export type WebhookCondition = z.output<typeof webhookConditionSchema>;

const requestUrlSchema = z
  .string()
  .max(2000)
  .url()
  .refine((v) => /^https?:\/\//i.test(v), 'must be an http:// or https:// URL');
const eventTypesSchema = z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length);
/** Optional fields Apify also accepts as null (meaning: the default). */
const nullish = <S extends z.ZodTypeAny>(schema: S) => schema.nullable().optional();

const webhookFields = {
  isAdHoc: nullish(z.boolean()),
  eventTypes: eventTypesSchema,
  condition: webhookConditionSchema,
  ignoreSslErrors: nullish(z.boolean()),
  doNotRetry: nullish(z.boolean()),
  requestUrl: requestUrlSchema,
  payloadTemplate: nullish(z.string().max(TEMPLATE_MAX_CHARS)),
  headersTemplate: nullish(z.string().max(TEMPLATE_MAX_CHARS)),
  description: nullish(z.string().max(1000)),
  shouldInterpolateStrings: nullish(z.boolean()),
  isApifyIntegration: nullish(z.boolean()),
};

export const createWebhookBody = z
  .object({ ...webhookFields, idempotencyKey: nullish(z.string().min(1).max(256)) })
  .strict();
export type CreateWebhookBody = z.output<typeof createWebhookBody>;

export const updateWebhookBody = z
  .object({
    ...webhookFields,
    eventTypes: eventTypesSchema.optional(),
    condition: webhookConditionSchema.optional(),
    requestUrl: requestUrlSchema.optional(),
    // apify-client's WebhookUpdateData carries it too; a webhook's key is fixed at creation.
    idempotencyKey: nullish(z.string().min(1).max(256)),
  })
  .strict();
export type UpdateWebhookBody = z.output<typeof updateWebhookBody>;

/** What a dispatch is about: the run or build and its Actor (and task). */
export interface WebhookEventData {
  actorId?: string;
  actorTaskId?: string | null;
  actorRunId?: string;
  actorBuildId?: string;
}

export interface WebhookDispatchCallView {
  startedAt: string;
  finishedAt: string | null;
  errorMessage: string | null;
  responseStatus: number | null;
  responseBody: string | null;
}

export interface WebhookView {
  id: string;
  userId: string;
  createdAt: string;
  modifiedAt: string;
  isAdHoc: boolean;
  eventTypes: WebhookEventType[];
  condition: WebhookCondition;
  ignoreSslErrors: boolean;
  doNotRetry: boolean;
  requestUrl: string;
  payloadTemplate: string;
  /** WRITE-only: the gateway leaves it out for a caller who may not edit the webhook. */
  headersTemplate: string | null;
  description: string | null;
  shouldInterpolateStrings: boolean;
  isApifyIntegration: boolean;
  lastDispatch: { status: WebhookDispatchStatus; finishedAt: string | null } | null;
  stats: { totalDispatches: number };
  /** Who created it: the dispatcher checks this user's access to the condition's target. */
  createdBy: string;
}

export interface WebhookDispatchView {
  id: string;
  userId: string;
  webhookId: string;
  createdAt: string;
  status: WebhookDispatchStatus;
  eventType: WebhookDispatchEventType;
  eventData: WebhookEventData | null;
  webhook: { requestUrl: string; isAdHoc: boolean; condition: WebhookCondition };
  calls: WebhookDispatchCallView[];
}

/** Apify's default payload template. */
export const DEFAULT_WEBHOOK_PAYLOAD_TEMPLATE = `{
    "userId": {{userId}},
    "createdAt": {{createdAt}},
    "eventType": {{eventType}},
    "eventData": {{eventData}},
    "resource": {{resource}}
}`;

const conditionFilter = z
  .object({ actorId: idSchema.optional(), actorTaskId: idSchema.optional() })
  .strict()
  .optional();

export const WebhooksRpc = {
  /** Creates a webhook owned by `ownerId`; an `idempotencyKey` seen before answers the webhook it created. */
  create: rpc<WebhookView & { created: boolean }>()(
    'resources',
    'resources.webhooks.create',
    z.object({ ownerId: idSchema, createdBy: idSchema, webhook: createWebhookBody }).strict(),
  ),
  get: rpc<WebhookView>()('resources', 'resources.webhooks.get', z.object({ id: idSchema }).strict()),
  /** The webhooks an account owns, optionally those watching one Actor or task. */
  list: rpc<ListPage<WebhookView>>()(
    'resources',
    'resources.webhooks.list',
    z.object({ ownerId: idSchema, condition: conditionFilter, page: paginationSchema }).strict(),
  ),
  update: rpc<WebhookView>()(
    'resources',
    'resources.webhooks.update',
    z.object({ id: idSchema, changes: updateWebhookBody }).strict(),
  ),
  delete: rpc<{ ok: true }>()('resources', 'resources.webhooks.delete', z.object({ id: idSchema }).strict()),
  /** Records a TEST dispatch and hands it to the dispatcher at once. */
  test: rpc<WebhookDispatchView>()(
    'resources',
    'resources.webhooks.test',
    z.object({ id: idSchema }).strict(),
  ),
  /** Dispatches of the given webhooks, newest last unless `desc`. */
  listDispatches: rpc<ListPage<WebhookDispatchView>>()(
    'resources',
    'resources.webhooks.list-dispatches',
    z.object({ webhookIds: z.array(idSchema).max(1000), page: paginationSchema }).strict(),
  ),
  getDispatch: rpc<WebhookDispatchView>()(
    'resources',
    'resources.webhooks.get-dispatch',
    z.object({ id: idSchema }).strict(),
  ),
} as const;
