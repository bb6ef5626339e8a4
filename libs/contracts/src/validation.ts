import { z, ZodError, ZodTypeAny } from 'zod';
import { AppError } from './app-error';

/** Parses input against a schema; on failure names the first failing field. */
export function parseInput<S extends ZodTypeAny>(schema: S, input: unknown, where = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new AppError('invalid-input', describeZodError(result.error, where));
}

export function describeZodError(error: ZodError, where: string): string {
  const issue = error.issues[0];
  if (!issue) return `Invalid ${where}`;
  if (issue.code === 'unrecognized_keys') {
    const path = issue.path.length ? `${issue.path.join('.')}.` : '';
    return `Field "${where}.${path}${issue.keys[0]}" is not allowed`;
  }
  const field = issue.path.length ? `${where}.${issue.path.join('.')}` : where;
  if (issue.code === 'invalid_union') {
    // zod says only "Invalid input". The alternative the value went furthest into (of its type,
    // failing on something inside or a bound) says what is wrong; when it fits none by type, the
    // types they take do.
    const wrongType = (e: ZodError) =>
      e.issues[0]?.code === 'invalid_type' && e.issues[0].path.length === issue.path.length;
    const further = issue.unionErrors.filter((e) => e.issues.length && !wrongType(e));
    if (further.length === 1) return describeZodError(further[0], where);
    const types = [
      ...new Set(
        issue.unionErrors.flatMap((e) =>
          e.issues[0]?.code === 'invalid_type' ? [String(e.issues[0].expected)] : [],
        ),
      ),
    ];
    if (further.length === 0 && types.length)
      return `Field "${field}" is invalid: must be ${types.map((t) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`)).join(' or ')}`;
  }
  // A query number that is not one (`?limit=abc`) reaches zod as NaN: say what was expected.
  // (A schema may say which numbers it takes: its own message then.)
  if (issue.code === 'invalid_type' && issue.received === 'nan')
    return `Field "${field}" ${issue.message.startsWith('Expected ') ? 'must be a number' : issue.message}`;
  return `Field "${field}" is invalid: ${issue.message}`;
}

/** Identifiers: 17-char base62 ids, or `username~name` references. */
/** Every id: 17 base62 characters (a test on a hot path can use it without zod). */
export const ID_PATTERN = /^[A-Za-z0-9]{17}$/;
export const idSchema = z.string().regex(ID_PATTERN, 'must be a 17-character id');

/**
 * On a content write: the user on whose behalf it is made, recorded as the cause of the usage it
 * adds to the owner's account (the owner when absent: an anonymous writer by link).
 */
export const causedByField = { causedBy: idSchema.optional() };
export const resourceNameSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-zA-Z0-9-]+$/, 'may contain only letters, digits and hyphens');
export const resourceRefSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^([A-Za-z0-9]{17}|[a-zA-Z0-9._-]*~[a-zA-Z0-9-]{1,63})$/, 'must be an id or "username~name"');
export const usernameSchema = z
  .string()
  .min(3)
  .max(30)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/, 'may contain letters, digits, ".", "_" and "-"')
  // Grants and invitations take an id or a username: a username shaped like an id would pass for someone else's.
  .refine((v) => !ID_PATTERN.test(v), 'must not look like an id (17 letters and digits only)');
/** The first and last milliseconds of the years 0001 to 9999 (UTC). */
const FIRST_TIME = Date.parse('0001-01-01T00:00:00Z');
const LAST_TIME = Date.parse('9999-12-31T23:59:59.999Z');
/**
 * Whether a time (ms since the epoch) falls in the years 0001 to 9999 in UTC: what PostgreSQL
 * takes as an ISO 8601 literal and what every ISO 8601 reader reads (later years are written
 * `+010000-…`, and PostgreSQL has no year 0000).
 */
export function isWritableTime(time: number): boolean {
  return time >= FIRST_TIME && time <= LAST_TIME;
}
export const WRITABLE_TIME_MESSAGE = 'must fall between the years 0001 and 9999 (in UTC)';

/**
 * An ISO 8601 date and time with its offset, e.g. `2030-01-31T12:00:00Z`, passed on in UTC. The
 * pattern alone takes offsets such as `+99:99`, which name no time: those are refused too, and so
 * is a time outside the years 0001 to 9999 once in UTC.
 */
export const isoDateSchema = z
  .string()
  .datetime({ offset: true, message: 'must be an ISO 8601 date and time, e.g. 2030-01-31T12:00:00Z' })
  .superRefine((v, ctx) => {
    const time = Date.parse(v);
    const problem = Number.isNaN(time)
      ? 'must be an ISO 8601 date and time, e.g. 2030-01-31T12:00:00Z'
      : !isWritableTime(time)
        ? WRITABLE_TIME_MESSAGE
        : undefined;
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  })
  .transform((v) => new Date(v).toISOString());
