import { z } from 'zod';
import { AppScope, appScopeInputSchemaValues } from './access.enums';
import { ListPage, paginationSchema } from './resources.contract';
import { rpc } from './rpc-route';
import { idSchema, resourceNameSchema } from './validation';

/** What an app holds (Clarifai): each kind is a collection under `/v2/apps/:appId/`. */
export const APP_CONTENT_KINDS = [
  'inputs',
  'annotations',
  'concepts',
  'models',
  'workflows',
  'tasks',
  'collectors',
  'vocabs',
] as const;
export type AppContentKind = (typeof APP_CONTENT_KINDS)[number];

/** The scopes guarding each kind's operations; concepts cannot be deleted, only inputs patched. */
export const APP_CONTENT_SCOPES: Record<
  AppContentKind,
  { add: AppScope; get: AppScope; delete: AppScope | null; patch: AppScope | null }
> = {
  inputs: { add: 'Inputs:Add', get: 'Inputs:Get', delete: 'Inputs:Delete', patch: 'Inputs:Patch' },
  annotations: { add: 'Annotations:Add', get: 'Annotations:Get', delete: 'Annotations:Delete', patch: null },
  concepts: { add: 'Concepts:Add', get: 'Concepts:Get', delete: null, patch: null },
  models: { add: 'Models:Add', get: 'Models:Get', delete: 'Models:Delete', patch: null },
  workflows: { add: 'Workflows:Add', get: 'Workflows:Get', delete: 'Workflows:Delete', patch: null },
  tasks: { add: 'Tasks:Add', get: 'Tasks:Get', delete: 'Tasks:Delete', patch: null },
  collectors: { add: 'Collectors:Add', get: 'Collectors:Get', delete: 'Collectors:Delete', patch: null },
  vocabs: { add: 'Vocabs:Add', get: 'Vocabs:Get', delete: 'Vocabs:Delete', patch: null },
};

/** Concepts are named by their app's users (Clarifai: "dog", "cat"), unique per app. */
export const conceptIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, "_" or "-"');
const conceptIds = (max: number) =>
  z
    .array(conceptIdSchema)
    .min(1)
    .max(max)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'must not repeat a concept' });
const displayName = z.string().trim().min(1).max(200);
const description = z.string().max(5000).nullable().optional();

export const MAX_INPUT_TEXT_CHARS = 20_000;
const MAX_INPUT_METADATA_CHARS = 20_000;
const inputMetadata = z
  .record(z.unknown())
  .refine((v) => JSON.stringify(v).length <= MAX_INPUT_METADATA_CHARS, {
    message: `must be at most ${MAX_INPUT_METADATA_CHARS} characters as JSON`,
  });
const inputDataFields = {
  text: z.string().min(1).max(MAX_INPUT_TEXT_CHARS).optional(),
  url: z.string().url().max(2000).optional(),
  metadata: inputMetadata.optional(),
};

export const createAppBody = z.object({ name: resourceNameSchema, description }).strict();
export const updateAppBody = z
  .object({ name: resourceNameSchema.optional(), description })
  .strict()
  .refine((b) => b.name !== undefined || b.description !== undefined, {
    message: 'name or description is required',
  });

/** The body of `POST /v2/apps/:appId/<kind>` for each kind. */
export const APP_CONTENT_BODIES = {
  inputs: z
    .object({
      data: z
        .object(inputDataFields)
        .strict()
        .refine((d) => d.text !== undefined || d.url !== undefined, {
          message: 'text or url is required',
        }),
    })
    .strict(),
  annotations: z.object({ inputId: idSchema, conceptIds: conceptIds(50) }).strict(),
  concepts: z.object({ id: conceptIdSchema, name: displayName.optional() }).strict(),
  models: z.object({ name: displayName, description, conceptIds: conceptIds(200) }).strict(),
  /** A workflow chains models. */
  workflows: z
    .object({ name: displayName, description, modelIds: z.array(idSchema).min(1).max(20) })
    .strict(),
  /** A labeling task: which concepts to annotate. */
  tasks: z.object({ name: displayName, description, conceptIds: conceptIds(200) }).strict(),
  /** A collector gathers inputs, optionally through a model that screens them first. */
  collectors: z.object({ name: displayName, description, modelId: idSchema.nullable().optional() }).strict(),
  /** A vocabulary: a named set of the app's concepts. */
  vocabs: z.object({ name: displayName, description, conceptIds: conceptIds(500) }).strict(),
} satisfies Record<AppContentKind, z.ZodTypeAny>;
export type AppContentBody<K extends AppContentKind> = z.output<(typeof APP_CONTENT_BODIES)[K]>;

/** `PATCH /v2/apps/:appId/inputs/:inputId`: the given data fields replace the stored ones. */
export const patchInputBody = z
  .object({
    data: z
      .object({
        text: inputDataFields.text.nullable(),
        url: inputDataFields.url.nullable(),
        metadata: inputDataFields.metadata,
      })
      .partial()
      .strict()
      .refine((d) => Object.keys(d).length > 0, { message: 'at least one data field is required' }),
  })
  .strict();

/** `POST /v2/apps/:appId/searches`: inputs whose text contains `text` and annotated with every concept. */
export const searchAppBody = z
  .object({
    query: z
      .object({ text: z.string().trim().min(1).max(1000).optional(), conceptIds: conceptIds(50).optional() })
      .strict()
      .refine((q) => q.text !== undefined || q.conceptIds !== undefined, {
        message: 'text or conceptIds is required',
      }),
  })
  .strict();

/** `POST /v2/apps/:appId/models/:modelId/outputs`. */
export const predictBody = z
  .object({
    inputs: z
      .array(
        z
          .object({
            data: z.object({ text: z.string().min(1).max(MAX_INPUT_TEXT_CHARS) }).strict(),
          })
          .strict(),
      )
      .min(1)
      .max(32),
  })
  .strict();

/** `POST /v2/apps/:appId/collaborators`: scopes basic (e.g. "Input") or fine (e.g. "Inputs:Get"). */
const scopeNames = z.array(z.enum(appScopeInputSchemaValues)).min(1).max(appScopeInputSchemaValues.length);
export const addCollaboratorBody = z
  .object({ user: z.string().trim().min(1).max(254), scopes: scopeNames })
  .strict();
export const updateCollaboratorBody = z.object({ scopes: scopeNames }).strict();

export interface AppView {
  id: string;
  name: string;
  /** The owner account. */
  userId: string;
  description: string | null;
  createdAt: string;
  modifiedAt: string;
}

export interface AppInputView {
  id: string;
  appId: string;
  data: { text: string | null; url: string | null; metadata: Record<string, unknown> };
  /** Concepts its annotations name. */
  conceptIds: string[];
  createdBy: string;
  createdAt: string;
  modifiedAt: string;
}
export interface AppAnnotationView {
  id: string;
  appId: string;
  inputId: string;
  conceptIds: string[];
  createdBy: string;
  createdAt: string;
}
export interface AppConceptView {
  id: string;
  appId: string;
  name: string;
  createdBy: string;
  createdAt: string;
}
export interface AppModelVersionView {
  version: number;
  conceptIds: string[];
  /** The annotated inputs it learned from. */
  inputIds: string[];
  /** Examples learned per concept. */
  examples: Record<string, number>;
  trainedBy: string;
  createdAt: string;
}
export interface AppModelView {
  id: string;
  appId: string;
  name: string;
  description: string | null;
  conceptIds: string[];
  versionCount: number;
  latestVersion: AppModelVersionView | null;
  createdBy: string;
  createdAt: string;
  modifiedAt: string;
}
interface AppComponentBase {
  id: string;
  appId: string;
  name: string;
  description: string | null;
  createdBy: string;
  createdAt: string;
}
export type AppWorkflowView = AppComponentBase & { modelIds: string[] };
export type AppTaskView = AppComponentBase & { conceptIds: string[] };
export type AppCollectorView = AppComponentBase & { modelId: string | null };
export type AppVocabView = AppComponentBase & { conceptIds: string[] };

export interface AppContentViews {
  inputs: AppInputView;
  annotations: AppAnnotationView;
  concepts: AppConceptView;
  models: AppModelView;
  workflows: AppWorkflowView;
  tasks: AppTaskView;
  collectors: AppCollectorView;
  vocabs: AppVocabView;
}
export type AppContentView = AppContentViews[AppContentKind];

export interface AppPrediction {
  model: { id: string; name: string; version: number };
  outputs: {
    input: { data: { text: string } };
    /** Every concept of the trained version, best first; `value` in [0, 1]. */
    concepts: { id: string; name: string; value: number }[];
  }[];
}

/** An app collaborator as the resources service records it: the PAT it was given. */
export interface AppCollaboratorRecord {
  appId: string;
  userId: string;
  tokenId: string;
  addedBy: string;
  createdAt: string;
}

/** A collaborator as the API shows it: the user, its scopes (from its grant), who added it. */
export interface AppCollaboratorView {
  id: string;
  userId: string;
  username: string | null;
  appId: string;
  scopes: AppScope[];
  addedBy: string;
  createdAt: string;
  modifiedAt: string;
}

const contentAdd = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('inputs'), item: APP_CONTENT_BODIES.inputs }).strict(),
  z.object({ kind: z.literal('annotations'), item: APP_CONTENT_BODIES.annotations }).strict(),
  z.object({ kind: z.literal('concepts'), item: APP_CONTENT_BODIES.concepts }).strict(),
  z.object({ kind: z.literal('models'), item: APP_CONTENT_BODIES.models }).strict(),
  z.object({ kind: z.literal('workflows'), item: APP_CONTENT_BODIES.workflows }).strict(),
  z.object({ kind: z.literal('tasks'), item: APP_CONTENT_BODIES.tasks }).strict(),
  z.object({ kind: z.literal('collectors'), item: APP_CONTENT_BODIES.collectors }).strict(),
  z.object({ kind: z.literal('vocabs'), item: APP_CONTENT_BODIES.vocabs }).strict(),
]);
export type AppContentAdd = z.output<typeof contentAdd>;

const contentRef = { appId: idSchema, kind: z.enum(APP_CONTENT_KINDS), id: z.string().min(1).max(64) };
const userId = z.string().min(1).max(100);

export const AppsRpc = {
  createApp: rpc<AppView>()(
    'resources',
    'resources.apps.create',
    z.object({ ownerId: userId, createdBy: userId, app: createAppBody }).strict(),
  ),
  getApp: rpc<AppView>()('resources', 'resources.apps.get', z.object({ id: idSchema }).strict()),
  updateApp: rpc<AppView>()(
    'resources',
    'resources.apps.update',
    z.object({ id: idSchema, changes: updateAppBody }).strict(),
  ),
  /** Deletes the app with its contents; answers the collaborators' tokens, for the caller to revoke. */
  deleteApp: rpc<{ ok: true; collaboratorTokens: { userId: string; tokenId: string }[] }>()(
    'resources',
    'resources.apps.delete',
    z.object({ id: idSchema }).strict(),
  ),
  listApps: rpc<ListPage<AppView>>()(
    'resources',
    'resources.apps.list',
    z
      .object({
        ownerId: userId.optional(),
        ids: z.array(idSchema).max(1000).optional(),
        page: paginationSchema,
      })
      .strict()
      .refine((r) => (r.ownerId === undefined) !== (r.ids === undefined), {
        message: 'exactly one of ownerId or ids is required',
      }),
  ),
  addContent: rpc<AppContentView>()(
    'resources',
    'resources.apps.contents.add',
    z.object({ appId: idSchema, createdBy: userId, content: contentAdd }).strict(),
  ),
  getContent: rpc<AppContentView>()(
    'resources',
    'resources.apps.contents.get',
    z.object(contentRef).strict(),
  ),
  deleteContent: rpc<{ ok: true }>()(
    'resources',
    'resources.apps.contents.delete',
    z.object(contentRef).strict(),
  ),
  listContents: rpc<ListPage<AppContentView>>()(
    'resources',
    'resources.apps.contents.list',
    z.object({ appId: idSchema, kind: z.enum(APP_CONTENT_KINDS), page: paginationSchema }).strict(),
  ),
  patchInput: rpc<AppInputView>()(
    'resources',
    'resources.apps.inputs.patch',
    z.object({ appId: idSchema, id: idSchema, changes: patchInputBody }).strict(),
  ),
  search: rpc<ListPage<AppInputView>>()(
    'resources',
    'resources.apps.search',
    z.object({ appId: idSchema, query: searchAppBody.shape.query, page: paginationSchema }).strict(),
  ),
  /** Trains a new version of the model from its concepts' annotated inputs. */
  trainModel: rpc<AppModelView>()(
    'resources',
    'resources.apps.models.train',
    z.object({ appId: idSchema, modelId: idSchema, trainedBy: userId }).strict(),
  ),
  predict: rpc<AppPrediction>()(
    'resources',
    'resources.apps.models.predict',
    z.object({ appId: idSchema, modelId: idSchema, inputs: predictBody.shape.inputs }).strict(),
  ),
  /**
   * Records the personal access token a collaborator was given (replacing an earlier record of
   * the same user, whose token is answered so the caller can revoke it).
   */
  recordCollaborator: rpc<{ previousTokenId: string | null }>()(
    'resources',
    'resources.apps.collaborators.record',
    z.object({ appId: idSchema, userId, tokenId: idSchema, addedBy: userId }).strict(),
  ),
  listCollaborators: rpc<AppCollaboratorRecord[]>()(
    'resources',
    'resources.apps.collaborators.list',
    z.object({ appId: idSchema, userId: userId.optional() }).strict(),
  ),
  forgetCollaborator: rpc<{ ok: true }>()(
    'resources',
    'resources.apps.collaborators.forget',
    z.object({ appId: idSchema, userId }).strict(),
  ),
} as const;
