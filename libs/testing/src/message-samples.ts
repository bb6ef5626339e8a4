import { ZodFirstPartyTypeKind, ZodTypeAny } from 'zod';

/**
 * Valid sample payloads of internal messages, built from their zod schemas (for the tolerance
 * contract test: every RPC route and event must read a payload with fields it does not know).
 * A string or number is the first of a few candidates its schema accepts; a refinement picks the
 * first of several shapes (every optional field, none, all but one) it accepts. Where none fits,
 * a sample is kept by hand in SAMPLES; a new message that neither way covers fails the test.
 */

const STRINGS = [
  'Abcdefghijklmno17',
  'alice',
  'a long password',
  'alice~results',
  'alice@example.com',
  '2026-01-01T00:00:00.000Z',
  '2026-01-01',
  'https://example.com/a',
  '* * * * *',
  'UTC',
  '0.1',
  'a',
  'ACTOR',
  'results',
  'text/plain',
  'EXAMPLE_NAME',
  '0123456789abcdef0123456789abcdef',
  '00000000-0000-4000-8000-000000000000',
];
const NUMBERS = [1, 0, 60, 1024, 2, 100, 1000, 0.5, 1_700_000_000];
const MAX_DEPTH = 12;

/** Samples by message name (an RPC pattern or an event name) for schemas no generated shape fits. */
export const SAMPLES: Record<string, unknown> = {};

type Mode = 'full' | 'min';

/** A valid payload of `schema` (strictly valid), or undefined when none was found. */
export function samplePayload(schema: ZodTypeAny, name: string): unknown {
  if (name in SAMPLES) return SAMPLES[name];
  for (const mode of ['full', 'min'] as const) {
    const value = generate(schema, mode, 0);
    if (value !== NONE && schema.safeParse(value).success) return value;
  }
  return undefined;
}

const NONE = Symbol('none');
type Generated = unknown | typeof NONE;

function firstValid(schema: ZodTypeAny, candidates: unknown[]): Generated {
  for (const c of candidates) if (c !== NONE && schema.safeParse(c).success) return c;
  return NONE;
}

function generate(schema: ZodTypeAny, mode: Mode, depth: number): Generated {
  if (depth > MAX_DEPTH) return NONE;
  const def = schema._def as Record<string, any>;
  const K = ZodFirstPartyTypeKind;
  const g = (s: ZodTypeAny, m: Mode = mode) => generate(s, m, depth + 1);
  switch (def.typeName as ZodFirstPartyTypeKind) {
    case K.ZodString:
      return firstValid(schema, STRINGS);
    case K.ZodNumber:
      return firstValid(schema, NUMBERS);
    case K.ZodBigInt:
      return 1n;
    case K.ZodBoolean:
      return true;
    case K.ZodDate:
      return new Date('2026-01-01T00:00:00Z');
    case K.ZodNull:
      return null;
    case K.ZodUndefined:
    case K.ZodVoid:
      return undefined;
    case K.ZodAny:
    case K.ZodUnknown:
      return 'value';
    case K.ZodLiteral:
      return def.value;
    case K.ZodEnum:
      return def.values[0];
    case K.ZodNativeEnum:
      return Object.values(def.values)[0];
    case K.ZodOptional:
    case K.ZodDefault:
      return mode === 'min' ? undefined : g(def.innerType);
    case K.ZodNullable: {
      const inner = g(def.innerType);
      return inner === NONE ? null : inner;
    }
    case K.ZodCatch:
    case K.ZodReadonly:
      return g(def.innerType);
    case K.ZodBranded:
    case K.ZodPromise:
      return g(def.type);
    case K.ZodPipeline:
      return g(def.in);
    case K.ZodLazy:
      return g(def.getter());
    case K.ZodObject:
      return generateObject(schema, mode, depth);
    case K.ZodArray: {
      const element = g(def.type);
      if (element === NONE) return mode === 'min' && !def.minLength && !def.exactLength ? [] : NONE;
      const length = Math.max(1, def.exactLength?.value ?? 0, def.minLength?.value ?? 0);
      return firstValid(schema, [
        Array.from({ length }, () => element),
        Array.from({ length }, (_, i) => (typeof element === 'string' ? `${element}${i || ''}` : element)),
      ]);
    }
    case K.ZodRecord: {
      if (mode === 'min') return {};
      const key = g(def.keyType);
      const value = g(def.valueType);
      return key === NONE || value === NONE ? {} : { [String(key)]: value };
    }
    case K.ZodUnion:
    case K.ZodDiscriminatedUnion:
      return firstValid(
        schema,
        (def.options as ZodTypeAny[]).flatMap((o) => [g(o), g(o, mode === 'full' ? 'min' : 'full')]),
      );
    case K.ZodIntersection: {
      const left = g(def.left);
      const right = g(def.right);
      return left === NONE || right === NONE ? NONE : { ...(left as object), ...(right as object) };
    }
    case K.ZodTuple:
      return (def.items as ZodTypeAny[]).map((i) => g(i));
    case K.ZodEffects: {
      // A refined string or number: the first candidate the refinement accepts too.
      const inner = (def.schema as ZodTypeAny)._def.typeName;
      if (inner === K.ZodString) return firstValid(schema, STRINGS);
      if (inner === K.ZodNumber) return firstValid(schema, NUMBERS);
      // A refinement may want some optional fields and not others: try a few shapes.
      const full = g(def.schema, 'full');
      const min = g(def.schema, 'min');
      const shapes = [mode === 'min' ? min : full, mode === 'min' ? full : min];
      if (isPlainObject(full) && isPlainObject(min)) {
        for (const key of Object.keys(full)) {
          const { [key]: value, ...without } = full;
          shapes.push(without, { ...min, [key]: value });
        }
      }
      return firstValid(schema, shapes);
    }
    default:
      return NONE;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function generateObject(schema: ZodTypeAny, mode: Mode, depth: number): Generated {
  const shape = (schema._def as { shape: () => Record<string, ZodTypeAny> }).shape();
  const value: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(shape)) {
    let generated = generate(field, mode, depth + 1);
    // An optional field that cannot be generated is left out; a required one fails the object.
    if (generated === NONE) {
      if (!field.isOptional()) return NONE;
      generated = undefined;
    }
    if (generated !== undefined) value[key] = generated;
  }
  return value;
}

/** The name of the field `withUnknownFields` adds. */
export const UNKNOWN_FIELD = 'fieldOfALaterRelease';

/**
 * The payload with a field its schema does not know added to it and to every object nested in it
 * that the schema describes field by field (not to records or pass-through objects: their keys
 * are data).
 */
export function withUnknownFields(schema: ZodTypeAny, value: unknown, depth = 0): unknown {
  if (value === null || value === undefined || depth > MAX_DEPTH) return value;
  const def = schema._def as Record<string, any>;
  const K = ZodFirstPartyTypeKind;
  const w = (s: ZodTypeAny, v: unknown) => withUnknownFields(s, v, depth + 1);
  switch (def.typeName as ZodFirstPartyTypeKind) {
    case K.ZodOptional:
    case K.ZodNullable:
    case K.ZodDefault:
    case K.ZodCatch:
    case K.ZodReadonly:
      return w(def.innerType, value);
    case K.ZodBranded:
      return w(def.type, value);
    case K.ZodEffects:
      return w(def.schema, value);
    case K.ZodPipeline:
      return w(def.in, value);
    case K.ZodLazy:
      return w(def.getter(), value);
    case K.ZodArray:
      return Array.isArray(value) ? value.map((v) => w(def.type, v)) : value;
    case K.ZodRecord:
      return typeof value === 'object'
        ? Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, w(def.valueType, v)]))
        : value;
    case K.ZodUnion:
    case K.ZodDiscriminatedUnion: {
      const option = (def.options as ZodTypeAny[]).find((o) => o.safeParse(value).success);
      return option ? w(option, value) : value;
    }
    case K.ZodObject: {
      if (typeof value !== 'object' || Array.isArray(value)) return value;
      const shape = def.shape() as Record<string, ZodTypeAny>;
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>))
        out[k] = k in shape ? w(shape[k], v) : v;
      const describesEveryField =
        def.unknownKeys !== 'passthrough' && def.catchall?._def?.typeName === K.ZodNever;
      if (describesEveryField) out[UNKNOWN_FIELD] = { addedBy: 'a later release', n: 1 };
      return out;
    }
    default:
      return value;
  }
}

/** How many unknown fields `withUnknownFields` added (0: the payload has no object to add one to). */
export function countUnknownFields(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, v) => n + countUnknownFields(v), 0);
  if (value === null || typeof value !== 'object') return 0;
  return Object.entries(value).reduce(
    (n, [k, v]) => n + (k === UNKNOWN_FIELD ? 1 : countUnknownFields(v)),
    0,
  );
}
