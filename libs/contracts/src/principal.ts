import { z } from 'zod';

/** Who a request acts as, as passed between services. `userId: null` is anonymous. */
export const principalSchema = z
  .object({
    userId: z.string().nullable(),
  })
  .strict();
export type PrincipalRef = z.infer<typeof principalSchema>;
