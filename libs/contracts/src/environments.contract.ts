import { z } from 'zod';
import { EnvironmentOperation } from './access.enums';
import { ListPage, paginationSchema } from './resources.contract';
import { catalogueType } from './resource-types';
import { rpc } from './rpc-route';
import { idSchema, resourceNameSchema } from './validation';

/** Environments and environment groups (account collaboration, Virtuozzo), kept by the resources service. */

export const ENVIRONMENT_STATUSES = ['CREATED', 'RUNNING', 'STOPPED'] as const;
export type EnvironmentStatus = (typeof ENVIRONMENT_STATUSES)[number];

export const DEFAULT_REGION = 'default';
export const regionSchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'may contain only lowercase letters, digits and hyphens');

const MAX_CONFIG_CHARS = 64_000;
/** An environment's settings: a JSON object of bounded size. */
export const environmentConfigSchema = z
  .record(z.unknown())
  .refine((c) => JSON.stringify(c).length <= MAX_CONFIG_CHARS, {
    message: `must be at most ${MAX_CONFIG_CHARS} characters as JSON`,
  });

export const createEnvironmentBody = z
  .object({
    name: resourceNameSchema,
    groupId: idSchema.nullable().optional(),
    /** A primary account whose collaboration lets the caller create there (default: the caller's). */
    ownerId: idSchema.optional(),
    region: regionSchema.optional(),
    config: environmentConfigSchema.optional(),
  })
  .strict();
export const updateEnvironmentBody = z
  .object({ name: resourceNameSchema.optional(), groupId: idSchema.nullable().optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.groupId !== undefined, { message: 'name or groupId is required' });

export const ENVIRONMENT_ACTIONS = [
  'start',
  'stop',
  'restart',
  'deploy',
  'configure',
  'ssh',
  'clone',
  'migrate',
] as const;
export type EnvironmentAction = (typeof ENVIRONMENT_ACTIONS)[number];
/** The collaboration operation each action needs. */
export const ENVIRONMENT_ACTION_PERMISSIONS: Record<EnvironmentAction, EnvironmentOperation> = {
  start: 'START_STOP',
  stop: 'START_STOP',
  restart: 'RESTART',
  deploy: 'DEPLOY',
  configure: 'CONFIGURE',
  ssh: 'SSH',
  clone: 'CLONE',
  migrate: 'MIGRATE',
};

/** The body each action takes (POST /v2/environments/:envId/actions/:action). */
export const environmentActionBodies = {
  start: z.object({}).strict(),
  stop: z.object({}).strict(),
  restart: z.object({}).strict(),
  deploy: z.object({ artifact: z.string().trim().min(1).max(500) }).strict(),
  configure: z.object({ config: environmentConfigSchema }).strict(),
  ssh: z.object({}).strict(),
  clone: z.object({ name: resourceNameSchema.optional() }).strict(),
  migrate: z.object({ region: regionSchema }).strict(),
} satisfies Record<EnvironmentAction, z.ZodTypeAny>;

/** The state-changing actions the resources service applies (clone creates: see `cloneEnvironment`). */
export const environmentActionSchema = z.discriminatedUnion('action', [
  z.object({ action: z.literal('start') }).strict(),
  z.object({ action: z.literal('stop') }).strict(),
  z.object({ action: z.literal('restart') }).strict(),
  z.object({ action: z.literal('deploy'), artifact: environmentActionBodies.deploy.shape.artifact }).strict(),
  z.object({ action: z.literal('configure'), config: environmentConfigSchema }).strict(),
  z.object({ action: z.literal('ssh') }).strict(),
  z.object({ action: z.literal('migrate'), region: regionSchema }).strict(),
]);

export const createEnvironmentGroupBody = z
  .object({
    name: resourceNameSchema,
    parentId: idSchema.nullable().optional(),
    ownerId: idSchema.optional(),
  })
  .strict();
export const updateEnvironmentGroupBody = z
  .object({ name: resourceNameSchema.optional(), parentId: idSchema.nullable().optional() })
  .strict()
  .refine((b) => b.name !== undefined || b.parentId !== undefined, {
    message: 'name or parentId is required',
  });

export interface EnvironmentDeploymentView {
  id: string;
  artifact: string;
  deployedBy: string;
  deployedAt: string;
}

export interface EnvironmentView {
  id: string;
  name: string;
  /** The owner account (a primary, also when a collaboration member created it). */
  ownerId: string;
  createdBy: string;
  groupId: string | null;
  status: EnvironmentStatus;
  region: string;
  config: Record<string, unknown>;
  deployments: EnvironmentDeploymentView[];
  createdAt: string;
  modifiedAt: string;
}

export interface EnvironmentLogLine {
  at: string;
  message: string;
}

export interface SshSessionView {
  sessionId: string;
  host: string;
  port: number;
  user: string;
  expiresAt: string;
}

export interface EnvironmentGroupView {
  id: string;
  name: string;
  ownerId: string;
  createdBy: string;
  parentId: string | null;
  createdAt: string;
  modifiedAt: string;
}

const listRequest = z
  .object({
    ownerIds: z.array(z.string().min(1).max(100)).min(1).max(100).optional(),
    ids: z.array(idSchema).max(1000).optional(),
    page: paginationSchema,
  })
  .strict()
  .refine((r) => (r.ownerIds === undefined) !== (r.ids === undefined), {
    message: 'exactly one of ownerIds or ids is required',
  });

const actorField = { actorId: z.string().min(1).max(100) };

/** Environments: their catalogue rows (owner, name, group) and their state, changed by actions. */
export const ENVIRONMENTS = catalogueType<EnvironmentView>()(
  { type: 'ENVIRONMENT', collection: 'environments', idParam: 'envId', updateBody: updateEnvironmentBody },
  /** The group, when given, must be the owner's (else invalid-input naming `body.groupId`). */
  z
    .object({
      ownerId: z.string().min(1).max(100),
      createdBy: z.string().min(1).max(100),
      name: resourceNameSchema,
      groupId: idSchema.nullable().optional(),
      region: regionSchema.optional(),
      config: environmentConfigSchema.optional(),
    })
    .strict(),
  listRequest,
);

/**
 * Environment groups: a group's update may move it under a new parent, which must be the owner's
 * and neither the group nor one of its descendants; only an empty group (no environments, no
 * child groups) can be deleted (else conflict).
 */
export const ENVIRONMENT_GROUPS = catalogueType<EnvironmentGroupView>()(
  {
    type: 'ENVIRONMENT_GROUP',
    collection: 'environment-groups',
    idParam: 'groupId',
    updateBody: updateEnvironmentGroupBody,
  },
  /** The parent, when given, must be the owner's (else invalid-input naming `body.parentId`). */
  z
    .object({
      ownerId: z.string().min(1).max(100),
      createdBy: z.string().min(1).max(100),
      name: resourceNameSchema,
      parentId: idSchema.nullable().optional(),
    })
    .strict(),
  listRequest,
);

export const EnvironmentGroupsRpc = ENVIRONMENT_GROUPS.rpc;

export const EnvironmentsRpc = {
  ...ENVIRONMENTS.rpc,
  /** Applies an action to the environment's state and log; `ssh` also opens a session. */
  runEnvironmentAction: rpc<{ environment: EnvironmentView; session?: SshSessionView }>()(
    'resources',
    'resources.environments.run-action',
    z.object({ id: idSchema, ...actorField, action: environmentActionSchema }).strict(),
  ),
  /** A copy on the same owner and group, with its config, region and deployments. */
  cloneEnvironment: rpc<EnvironmentView>()(
    'resources',
    'resources.environments.clone',
    z.object({ id: idSchema, ...actorField, name: resourceNameSchema.optional() }).strict(),
  ),
  getEnvironmentLog: rpc<ListPage<EnvironmentLogLine>>()(
    'resources',
    'resources.environments.log',
    z.object({ id: idSchema, page: paginationSchema }).strict(),
  ),
  /**
   * Checks that each item is an environment (or environment group) of the owner: invalid-input
   * naming the item's `field` otherwise. For collaboration shares.
   */
  verifyOwnedItems: rpc<{ ok: true }>()(
    'resources',
    'resources.environments.verify-owned',
    z
      .object({
        ownerId: z.string().min(1).max(100),
        items: z
          .array(
            z
              .object({
                id: idSchema,
                type: z.enum(['ENVIRONMENT', 'ENVIRONMENT_GROUP']),
                field: z.string().min(1).max(200),
              })
              .strict(),
          )
          .max(1000),
      })
      .strict(),
  ),
} as const;
