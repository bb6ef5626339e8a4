import { z } from 'zod';
import { apiTokenScopeSchema } from './access-scope';

/**
 * Who a request acts as, as passed between services. `userId: null` is anonymous; otherwise the
 * account acted as (a user, or an organization for an organization API token). `runId` is set for
 * a run token: it acts as the user who started the run, limited to what the run may touch.
 * `scope` is set for a scoped API token (or a collaborator's personal access token): rule 1
 * narrows the account's rights to it.
 */
export const principalSchema = z
  .object({
    userId: z.string().nullable(),
    runId: z.string().optional(),
    tokenId: z.string().max(17).optional(),
    scope: apiTokenScopeSchema.nullable().optional(),
  })
  .strict();
export type PrincipalRef = z.infer<typeof principalSchema>;
