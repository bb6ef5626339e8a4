import { z } from 'zod';

/**
 * Who a request acts as, as passed between services. `userId: null` is anonymous. `runId` is set
 * for a run token: it acts as the user who started the run, limited to what the run may touch.
 */
export const principalSchema = z
  .object({
    userId: z.string().nullable(),
    runId: z.string().optional(),
  })
  .strict();
export type PrincipalRef = z.infer<typeof principalSchema>;
