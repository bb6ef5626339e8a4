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

/**
 * A whole number in a query parameter, in decimal digits: `0x10`, `1e3`, ` 5` or `` are refused
 * (JavaScript's `Number` would read them as 16, 1000, 5 and 0).
 */
export function queryInt(min: number, max?: number) {
  const n = z.coerce
    .number({ invalid_type_error: 'must be a whole number in decimal digits' })
    .int()
    .min(min);
  return z.preprocess(
    (v) => (typeof v === 'string' && !/^-?[0-9]+$/.test(v) ? NaN : v),
    max === undefined ? n : n.max(max),
  );
}

export const paginationQuery = {
  offset: queryInt(0, 1_000_000_000).optional(),
  limit: queryInt(1).optional(),
  desc: queryBoolean.optional(),
};

/**
 * Validates the query parameters the route knows; others (e.g. `token`) pass untouched. A known
 * parameter sent in bracket form (`ownership[]=…`, `name[a]=…`) or twice is refused, naming it, rather than
 * passed over as an unknown one (which would quietly answer as if it were not sent).
 */
export function parseQuery<S extends ZodTypeAny>(schema: S, query: unknown): z.output<S> {
  const given = (query ?? {}) as Record<string, unknown>;
  const known = queryKeys(schema);
  for (const key of Object.keys(given)) {
    // `limit[]=1`, `name[a]=x`, or a parameter sent twice (`limit=1&limit=2`, read as a list).
    const base = /^([^[\]]+)\[/.exec(key)?.[1] ?? (Array.isArray(given[key]) ? key : undefined);
    if (base && known.has(base))
      throw new AppError(
        'invalid-input',
        `Field "query.${base}" is invalid: send it once, as ${base}=<value>`,
      );
  }
  return parseInput(schema, given, 'query');
}

/** The parameter names of a query schema (an object, possibly refined). */
function queryKeys(schema: ZodTypeAny): ReadonlySet<string> {
  let inner: ZodTypeAny = schema;
  while (inner instanceof z.ZodEffects) inner = inner.innerType();
  return new Set(inner instanceof z.ZodObject ? Object.keys(inner.shape as object) : []);
}

export function parseBody<S extends ZodTypeAny>(schema: S, body: unknown): z.output<S> {
  // Bodies of other content types arrive as raw bytes (gateway.app.ts); JSON routes refuse them.
  if (Buffer.isBuffer(body)) {
    throw new AppError('invalid-input', 'The body must be JSON (Content-Type: application/json)');
  }
  return parseInput(schema, body, 'body');
}
