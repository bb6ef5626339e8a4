import { AppError, parseInput } from '@atrium/contracts';
import { z, ZodTypeAny } from 'zod';

/** Query booleans as Apify clients send them: `1`/`0`, `true`/`false`. */
export const queryBoolean = z
  .enum(['1', '0', 'true', 'false', ''])
  .transform((v) => v === '1' || v === 'true');

/** A comma-separated list, as `fields=a,b`. */
export const queryList = z
  .string()
  .max(4000)
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );

export const paginationQuery = {
  offset: z.coerce.number().int().min(0).max(1_000_000_000).optional(),
  limit: z.coerce.number().int().min(1).optional(),
  desc: queryBoolean.optional(),
};

/** Validates the query parameters the route knows; others (e.g. `token`) pass untouched. */
export function parseQuery<S extends ZodTypeAny>(schema: S, query: unknown): z.output<S> {
  return parseInput(schema, query ?? {}, 'query');
}

export function parseBody<S extends ZodTypeAny>(schema: S, body: unknown): z.output<S> {
  // Bodies of other content types arrive as raw bytes (gateway.app.ts); JSON routes refuse them.
  if (Buffer.isBuffer(body)) {
    throw new AppError('invalid-input', 'The body must be JSON (Content-Type: application/json)');
  }
  return parseInput(schema, body, 'body');
}
