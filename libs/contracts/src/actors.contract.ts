import { z } from 'zod';
import { ListPage, paginationSchema } from './resources.contract';
import { rpc } from './rpc-route';
import { changedByField } from './facts';
import { RUN_GENERAL_ACCESS } from './runs.contract';
import { idSchema, resourceNameSchema } from './validation';
import {
  actorVersionListSchema,
  ActorVersionView,
  buildRefSchema,
  versionNumberSchema,
} from './actor-versions.contract';

/** Statuses of a build or run (Apify's ACT_JOB_STATUSES). */
export const ACTOR_JOB_STATUSES = [
  'READY',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'TIMED-OUT',
  'ABORTED',
] as const;
export type ActorJobStatus = (typeof ACTOR_JOB_STATUSES)[number];
export const ACTOR_JOB_TERMINAL_STATUSES: readonly ActorJobStatus[] = [
  'SUCCEEDED',
  'FAILED',
  'TIMED-OUT',
  'ABORTED',
];

/** Apify's run defaults when an Actor sets none. */
export const DEFAULT_RUN_OPTIONS = {
  build: 'latest',
  timeoutSecs: 3600,
  memoryMbytes: 4096,
  restartOnError: false,
} as const;

/** Largest JSON input (task input, schedule action input) kept with a resource, in characters. */
export const MAX_STORED_INPUT_CHARS = 1_000_000;

/** A JSON object whose serialization stays within `MAX_STORED_INPUT_CHARS`. */
export const boundedJsonObject = z
  .record(z.unknown())
  .refine((v) => JSON.stringify(v).length <= MAX_STORED_INPUT_CHARS, {
    message: `must be at most ${MAX_STORED_INPUT_CHARS} characters as JSON`,
  });

/** Apify's memory sizes: a power of two from 128 MB to 32 GB. */
export const memoryMbytesSchema = z
  .number()
  .int()
  .min(128)
  .max(32768)
  .refine((n) => (n & (n - 1)) === 0, { message: 'must be a power of 2' });

/** Run options as Actors (`defaultRunOptions`), tasks (`options`) and schedule actions carry them. */
export const actorRunOptionsSchema = z
  .object({
    build: buildRefSchema.optional(),
    timeoutSecs: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .optional(),
    memoryMbytes: memoryMbytesSchema.optional(),
    restartOnError: z.boolean().optional(),
  })
  .strict();
export type ActorRunOptions = z.infer<typeof actorRunOptionsSchema>;

const actorFields = {
  name: resourceNameSchema,
  title: z.string().max(200).nullable().optional(),
  description: z.string().max(20_000).nullable().optional(),
  isPublic: z.boolean().optional(),
  isDeprecated: z.boolean().optional(),
  seoTitle: z.string().max(200).nullable().optional(),
  seoDescription: z.string().max(1000).nullable().optional(),
  categories: z.array(z.string().min(1).max(100)).max(20).optional(),
  defaultRunOptions: actorRunOptionsSchema.optional(),
  exampleRunInput: z
    .object({ body: z.string().max(MAX_STORED_INPUT_CHARS), contentType: z.string().min(1).max(255) })
    .strict()
    .nullable()
    .optional(),
  versions: actorVersionListSchema.optional(),
};

/** POST /v2/acts: Apify's Actor fields; `name` is required and unique in the owner's account. */
export const createActorBody = z.object(actorFields).strict();
/** PUT /v2/acts/:actorId: any of the same fields; `defaultRunOptions` merge, `versions` replace. */
export const updateActorBody = z.object({ ...actorFields, name: resourceNameSchema.optional() }).strict();

export interface TaggedBuildView {
  buildId: string;
  buildNumber: string;
  finishedAt: string | null;
}

/** An Actor as the resources service returns it; the gateway adds the owner's `username`. */
export interface ActorView {
  id: string;
  userId: string;
  name: string;
  title: string | null;
  description: string | null;
  isPublic: boolean;
  isDeprecated: boolean;
  seoTitle: string | null;
  seoDescription: string | null;
  categories: string[];
  createdAt: string;
  modifiedAt: string;
  defaultRunOptions: Required<ActorRunOptions>;
  exampleRunInput: { body: string; contentType: string } | null;
  /** Left out of list items, as Apify does. */
  versions?: ActorVersionView[];
  taggedBuilds: Record<string, TaggedBuildView>;
  stats: { totalBuilds: number };
}

/** How the store sorts: Apify's `sortBy` values. */
export const STORE_SORTS = ['relevance', 'popularity', 'newest', 'lastUpdate'] as const;

/** Apify's store stats of an Actor, from its runs on Atrium (metamorphs: none, Atrium runs none). */
export interface StoreActorStats {
  totalBuilds: number;
  totalRuns: number;
  totalUsers: number;
  totalUsers7Days: number;
  totalUsers30Days: number;
  totalUsers90Days: number;
  totalMetamorphs: number;
  lastRunStartedAt: string | null;
}

/** A public Actor as the store lists it; the gateway adds the owner's `username`. */
export interface StoreActorRow {
  id: string;
  userId: string;
  title: string;
  name: string;
  description: string | null;
  categories: string[];
  stats: StoreActorStats;
  /** Atrium prices nothing: every Actor is free. */
  currentPricingInfo: { pricingModel: 'FREE' };
}

export interface BuildView {
  id: string;
  actId: string;
  /** The Actor's owner (the build's owner account). */
  userId: string;
  buildNumber: string;
  status: ActorJobStatus;
  startedAt: string;
  finishedAt: string | null;
  meta: { origin: string; clientIp?: string; userAgent?: string };
  options: { useCache?: boolean; betaPackages?: boolean };
  createdAt: string;
  modifiedAt: string;
  /** Link sharing, as runs have it: by id, never by name. */
  generalAccess: (typeof RUN_GENERAL_ACCESS)[number];
  /** Taken from the version's source files when built (Apify's deprecated, still served, field). */
  inputSchema: string | null;
  /** `.actor/actor.json` of the version's source files, its `input` resolved. */
  actorDefinition: Record<string, unknown> | null;
}

/**
 * `PUT /v2/actor-builds/:id`: its status, moved forward by whoever builds it (Atrium runs no
 * builder), as a run's; who may read the build by link (needs MANAGE_ACCESS, as on runs).
 */
export const updateBuildBody = z
  .object({
    status: z.enum(ACTOR_JOB_STATUSES).optional(),
    generalAccess: z.enum(RUN_GENERAL_ACCESS).optional(),
  })
  .strict();

const listRequest = <T extends z.ZodRawShape>(extra: T) =>
  z
    .object({
      ownerId: z.string().min(1).optional(),
      ids: z.array(idSchema).max(1000).optional(),
      ...extra,
      page: paginationSchema,
    })
    .strict();

const buildMetaSchema = z
  .object({
    origin: z.enum(['API', 'WEB', 'SCHEDULER', 'CLI']),
    clientIp: z.string().max(100).optional(),
    userAgent: z.string().max(500).optional(),
  })
  .strict();

export const ActorsRpc = {
  createActor: rpc<ActorView>()(
    'resources',
    'resources.actors.create',
    z.object({ ownerId: z.string().min(1), createdBy: z.string().min(1), actor: createActorBody }).strict(),
  ),
  /** `revealSecrets`: the caller may WRITE the Actor (else secret env var values stay here). */
  getActor: rpc<ActorView>()(
    'resources',
    'resources.actors.get',
    z.object({ id: idSchema, revealSecrets: z.boolean().optional() }).strict(),
  ),
  updateActor: rpc<ActorView>()(
    'resources',
    'resources.actors.update',
    z.object({ id: idSchema, changes: updateActorBody, ...changedByField }).strict(),
  ),
  /** Deletes the Actor and its builds (its tasks stay, as their owners' records). */
  deleteActor: rpc<{ ok: true }>()(
    'resources',
    'resources.actors.delete',
    z.object({ id: idSchema }).strict(),
  ),
  listActors: rpc<ListPage<ActorView>>()(
    'resources',
    'resources.actors.list',
    listRequest({}).refine((r) => (r.ownerId === undefined) !== (r.ids === undefined), {
      message: 'exactly one of ownerId or ids is required',
    }),
  ),
  /**
   * Public Actors (Apify Store), to anyone: `search` in name, title and description (and every
   * Actor of `searchOwnerId`, the account whose username the search names), `ownerId` (the
   * `username` filter), `category`; sorted by `sortBy`. Never an Actor that is not public.
   */
  listStore: rpc<ListPage<StoreActorRow>>()(
    'resources',
    'resources.actors.list-store',
    z
      .object({
        search: z.string().max(200).optional(),
        searchOwnerId: idSchema.optional(),
        ownerId: idSchema.optional(),
        category: z.string().max(100).optional(),
        sortBy: z.enum(STORE_SORTS).default('relevance'),
        page: paginationSchema,
      })
      .strict(),
  ),
  /** Records a new build of a version (default: the Actor's highest, else "0.0"), status READY. */
  createBuild: rpc<BuildView>()(
    'resources',
    'resources.builds.create',
    z
      .object({
        actorId: idSchema,
        version: versionNumberSchema.optional(),
        tag: buildRefSchema.optional(),
        options: z
          .object({ useCache: z.boolean().optional(), betaPackages: z.boolean().optional() })
          .strict(),
        meta: buildMetaSchema,
        createdBy: z.string().min(1),
      })
      .strict(),
  ),
  getBuild: rpc<BuildView>()('resources', 'resources.builds.get', z.object({ id: idSchema }).strict()),
  /** Builds of one Actor, of one owner account, or the given ids in their order. */
  listBuilds: rpc<ListPage<BuildView>>()(
    'resources',
    'resources.builds.list',
    listRequest({ actorId: idSchema.optional() }).refine(
      (r) => [r.ownerId, r.ids, r.actorId].filter((v) => v !== undefined).length === 1,
      { message: 'exactly one of ownerId, ids or actorId is required' },
    ),
  ),
  /** Moves a build along READY → RUNNING → a terminal status; SUCCEEDED tags it on the Actor. */
  updateBuildStatus: rpc<BuildView>()(
    'resources',
    'resources.builds.update-status',
    z.object({ id: idSchema, status: z.enum(ACTOR_JOB_STATUSES) }).strict(),
  ),
  /** Changes a build's status (forward only) and general access (in the catalogue, as a run's). */
  updateBuild: rpc<BuildView>()(
    'resources',
    'resources.builds.update',
    z.object({ id: idSchema, changes: updateBuildBody }).strict(),
  ),
  /** Aborts a build that has not finished; a finished one is returned unchanged. */
  abortBuild: rpc<BuildView>()('resources', 'resources.builds.abort', z.object({ id: idSchema }).strict()),
  /**
   * The build a run of the Actor would use: `ref` a build number or tag, by default the Actor's
   * `defaultRunOptions.build`; 404 when there is none.
   */
  resolveBuild: rpc<BuildView>()(
    'resources',
    'resources.builds.resolve',
    z.object({ actorId: idSchema, ref: buildRefSchema.optional() }).strict(),
  ),
  getBuildLog: rpc<{ log: string }>()(
    'resources',
    'resources.builds.get-log',
    z.object({ id: idSchema }).strict(),
  ),
  deleteBuild: rpc<{ ok: true }>()(
    'resources',
    'resources.builds.delete',
    z.object({ id: idSchema }).strict(),
  ),
} as const;
