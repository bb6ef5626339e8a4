import { z, ZodFirstPartyTypeKind, ZodTypeAny } from 'zod';
import { AppError } from './app-error';
import { describeZodError } from './validation';

/**
 * The version of the internal message schemas (RPC payloads and event payloads) this release
 * sends, as `major.minor`. Events carry it in their envelope (`schemaVersion`), RPC requests over
 * RabbitMQ in a header (libs/messaging/src/schema-version.ts).
 *
 * The compatibility rule (README, "Rolling upgrades"), which is what lets replicas of two
 * releases run side by side:
 * - a consumer accepts payloads of majors N-1, N and N+1: it reads them tolerantly (fields it does
 *   not know are ignored, never acted on) and strictly for everything it knows;
 * - minor: additive changes (a new optional field, route or event). Major: a change an N-1 reader
 *   cannot read (a field made required, removed or given a new meaning). A field is removed only
 *   after no release in the window sends or reads it; a release bumps the major by at most one;
 * - a message without a version comes from a release before versioning: major 1.
 * A message outside the window (a skipped release) is still processed when its payload validates,
 * and logged once per message name and version: rejecting it would lose it, while the payload's
 * validation is what protects the consumer either way.
 */
export const MESSAGE_SCHEMA_VERSION = '1.0';

export interface SchemaVersion {
  major: number;
  minor: number;
}

/** The major a message without a version is read as (releases before versioning). */
export const UNVERSIONED_MAJOR = 1;

/** `major.minor` (or a bare major); undefined when absent or not a version. */
export function parseSchemaVersion(value: unknown): SchemaVersion | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return { major: value, minor: 0 };
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{1,6})(?:\.(\d{1,6}))?$/.exec(value);
  return match ? { major: Number(match[1]), minor: Number(match[2] ?? 0) } : undefined;
}

/**
 * How this release reads a message of `version`: `current` (same major), `compatible` (one major
 * apart), `outside` (further apart: read anyway, see above), `unversioned` (no or a malformed version).
 */
export function schemaCompatibility(
  version: unknown,
  current: string = MESSAGE_SCHEMA_VERSION,
): 'current' | 'compatible' | 'outside' | 'unversioned' {
  const theirs = parseSchemaVersion(version);
  const ours = parseSchemaVersion(current)!;
  const major = theirs?.major ?? UNVERSIONED_MAJOR;
  const distance = Math.abs(major - ours.major);
  if (distance > 1) return 'outside';
  if (!theirs) return 'unversioned';
  return distance === 0 ? 'current' : 'compatible';
}

const tolerantCache = new WeakMap<ZodTypeAny, ZodTypeAny>();

/**
 * The same schema with every strict object, nested ones included, stripping unknown keys instead
 * of refusing them. Objects that pass unknown keys through (records, `.passthrough()`: data, not
 * schema) stay as they are; refinements, defaults and transforms are kept.
 */
export function tolerantSchema<S extends ZodTypeAny>(schema: S): S {
  let tolerant = tolerantCache.get(schema);
  if (!tolerant) {
    tolerant = convert(schema);
    tolerantCache.set(schema, tolerant);
  }
  return tolerant as S;
}

function convert(schema: ZodTypeAny): ZodTypeAny {
  // zod 3 keeps a schema's parts in `_def`; a copy with tolerant parts is built the way zod does.
  const def = schema._def as Record<string, unknown> & { typeName: ZodFirstPartyTypeKind };
  const copy = (parts: Record<string, unknown>): ZodTypeAny =>
    new (schema.constructor as new (def: unknown) => ZodTypeAny)({ ...def, ...parts });
  const t = (s: unknown) => tolerantSchema(s as ZodTypeAny);
  const K = ZodFirstPartyTypeKind;
  switch (def.typeName) {
    case K.ZodObject: {
      const shape = Object.fromEntries(
        Object.entries((def.shape as () => Record<string, ZodTypeAny>)()).map(([k, v]) => [k, t(v)]),
      );
      return copy({
        shape: () => shape,
        unknownKeys: def.unknownKeys === 'strict' ? 'strip' : def.unknownKeys,
        catchall: t(def.catchall),
      });
    }
    case K.ZodArray:
    case K.ZodBranded:
    case K.ZodPromise:
      return copy({ type: t(def.type) });
    case K.ZodOptional:
    case K.ZodNullable:
    case K.ZodDefault:
    case K.ZodCatch:
    case K.ZodReadonly:
      return copy({ innerType: t(def.innerType) });
    case K.ZodEffects:
      return copy({ schema: t(def.schema) });
    case K.ZodUnion:
      return copy({ options: (def.options as ZodTypeAny[]).map(t) });
    case K.ZodDiscriminatedUnion: {
      const options = (def.options as ZodTypeAny[]).map(t);
      return z.discriminatedUnion(def.discriminator as string, options as never);
    }
    case K.ZodIntersection:
      return copy({ left: t(def.left), right: t(def.right) });
    case K.ZodRecord:
    case K.ZodMap:
      return copy({ keyType: t(def.keyType), valueType: t(def.valueType) });
    case K.ZodSet:
      return copy({ valueType: t(def.valueType) });
    case K.ZodTuple:
      return copy({ items: (def.items as ZodTypeAny[]).map(t), rest: def.rest ? t(def.rest) : def.rest });
    case K.ZodLazy:
      return copy({ getter: () => t((def.getter as () => ZodTypeAny)()) });
    case K.ZodPipeline:
      return copy({ in: t(def.in), out: t(def.out) });
    default:
      return schema;
  }
}

/**
 * Reads an internal message (an RPC payload, an event payload) tolerantly: as the schema says,
 * except that fields it does not know — a newer release's — are dropped instead of refused.
 * A payload that passes the strict schema is read by it, so a current message reads exactly as
 * before; input from outside (REST) goes through `parseInput` and stays strict.
 */
export function safeParseInternal<S extends ZodTypeAny>(
  schema: S,
  input: unknown,
): z.SafeParseReturnType<z.input<S>, z.output<S>> {
  const strict = schema.safeParse(input);
  return strict.success ? strict : tolerantSchema(schema).safeParse(input);
}

/** `safeParseInternal`, throwing invalid-input naming the first failing field. */
export function parseInternal<S extends ZodTypeAny>(
  schema: S,
  input: unknown,
  where = 'payload',
): z.output<S> {
  const result = safeParseInternal(schema, input);
  if (result.success) return result.data;
  throw new AppError('invalid-input', describeZodError(result.error, where));
}
