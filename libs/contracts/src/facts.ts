import { z } from 'zod';
import { ACCOUNT_GENERAL_ACCESS, GENERAL_ACCESS, RESOURCE_TYPES } from './access.enums';
import { idSchema } from './validation';

/** What the permissions service keeps about an account (projection fed by identity). */
export const accountFactsSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    generalResourceAccess: z.enum(ACCOUNT_GENERAL_ACCESS),
    shareRunsWithPublicActorCreators: z.boolean(),
    version: z.number().int().nonnegative(),
  })
  .strict();
export type AccountFacts = z.infer<typeof accountFactsSchema>;

/** What the permissions service keeps about a resource (projection fed by resources). */
export const resourceFactsSchema = z
  .object({
    id: z.string(),
    type: z.enum(RESOURCE_TYPES),
    ownerId: z.string(),
    name: z.string().nullable(),
    generalAccess: z.enum(GENERAL_ACCESS),
    /** Actors only: a public Actor is readable by all and runnable by any signed-in user. */
    isPublic: z.boolean(),
    /** Runs and builds: their Actor; runs of a task: the task; storages of a run: the run. */
    actorId: z.string().nullable(),
    taskId: z.string().nullable(),
    runId: z.string().nullable(),
    /** Environments: their group; environment groups: their parent group (account collaboration). */
    groupId: z.string().nullable(),
    version: z.number().int().nonnegative(),
  })
  .strict();
export type ResourceFacts = z.infer<typeof resourceFactsSchema>;

/**
 * On a change of access (general access, publishing, a membership), in its request and its event:
 * the user who made it, named by the audit log. Optional, so that requests and events of earlier
 * releases are still accepted.
 */
export const changedByField = { changedBy: idSchema.optional() };
