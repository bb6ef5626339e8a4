import {
  ALL_RPC_ROUTES,
  Events,
  parseInput,
  parseInternal,
  parseSchemaVersion,
  safeParseInternal,
  schemaCompatibility,
  tolerantSchema,
} from '@atrium/contracts';
import { z, ZodTypeAny } from 'zod';
import { countUnknownFields, samplePayload, withUnknownFields } from './message-samples';

/**
 * Rolling upgrades (README): every internal message — each RPC route's request and each event's
 * payload, enumerated from the contracts — is read with fields this release does not know, at its
 * top level and in every nested object, and reads exactly as without them.
 */
const messages: { kind: string; name: string; schema: ZodTypeAny }[] = [
  ...Object.values(ALL_RPC_ROUTES)
    .flat()
    .map((r) => ({ kind: 'RPC', name: r.pattern, schema: r.request })),
  ...Object.values(Events).map((e) => ({ kind: 'event', name: e.name, schema: e.payload as ZodTypeAny })),
];

describe('internal messages are read tolerantly', () => {
  it('covers every RPC route and every event', () => {
    expect(messages.filter((m) => m.kind === 'RPC').length).toBe(Object.values(ALL_RPC_ROUTES).flat().length);
    expect(messages.filter((m) => m.kind === 'event').length).toBe(Object.keys(Events).length);
    expect(new Set(messages.map((m) => m.name)).size).toBe(messages.length);
  });

  it.each(messages.map((m) => [`${m.kind} ${m.name}`, m] as const))(
    '%s: accepts unknown fields, top level and nested, and ignores them',
    (_, { name, schema }) => {
      const sample = samplePayload(schema, name);
      // A message no sample fits: keep one by hand in SAMPLES (libs/testing/src/message-samples.ts).
      expect({ name, sampleFound: sample !== undefined }).toEqual({ name, sampleFound: true });
      const clean = parseInternal(schema, sample);
      const extended = withUnknownFields(schema, sample);
      if (countUnknownFields(extended) > 0 && !hasPassThrough(schema)) {
        // The schema does refuse it as it stands (so reading it tolerantly is what accepts it)…
        expect(schema.safeParse(extended).success).toBe(false);
      }
      // …and the reading accepts it and gives the handler exactly what the sample gives.
      const read = safeParseInternal(schema, extended);
      expect(read.error?.issues).toBeUndefined();
      expect(read.data).toEqual(clean);
      expect(countUnknownFields(read.data)).toBe(0);
    },
  );

  it('adds unknown fields in nested objects too, for the routes that have them', () => {
    const nested = messages.filter((m) => {
      const extended = withUnknownFields(m.schema, samplePayload(m.schema, m.name));
      return countUnknownFields(extended) > 1;
    });
    // A floor, not a census: nested objects are common in the contracts (scopes, settings, facts…).
    expect(nested.length).toBeGreaterThan(20);
  });
});

function hasPassThrough(schema: ZodTypeAny): boolean {
  return JSON.stringify(schema._def, (k, v) =>
    k === 'unknownKeys' && v === 'passthrough' ? 'PT' : v,
  ).includes('"PT"');
}

describe('tolerant reading', () => {
  const scope = z.object({ type: z.enum(['A', 'B']), ids: z.array(z.string()).min(1) }).strict();
  const request = z
    .object({
      userId: z.string().min(1),
      scope: scope.optional(),
      items: z.array(z.object({ n: z.number() }).strict()).default([]),
      data: z.record(z.unknown()).optional(),
    })
    .strict()
    .refine((r) => r.scope !== undefined || r.items.length > 0, { message: 'scope or items is required' });

  it('strips unknown fields at every depth, keeps record keys (data) and refinements', () => {
    const read = parseInternal(request, {
      userId: 'u',
      later: 1,
      scope: { type: 'A', ids: ['x'], later: { deep: true } },
      items: [{ n: 1, later: 'x' }],
      data: { anyKey: 1 },
    });
    expect(read).toEqual({
      userId: 'u',
      scope: { type: 'A', ids: ['x'] },
      items: [{ n: 1 }],
      data: { anyKey: 1 },
    });
  });

  it('stays strict on the fields it knows, and an unknown field never satisfies a rule', () => {
    expect(() => parseInternal(request, { userId: 'u', scope: { type: 'C', ids: ['x'] }, later: 1 })).toThrow(
      'Field "payload.scope.type" is invalid',
    );
    expect(() => parseInternal(request, { userId: '', later: 1 })).toThrow('payload.userId');
    // Only unknown fields: the refinement still wants scope or items.
    expect(() => parseInternal(request, { userId: 'u', scopes: { type: 'A' } })).toThrow(
      'scope or items is required',
    );
  });

  it('leaves input from outside strict: parseInput refuses the field parseInternal ignores', () => {
    expect(() => parseInput(request, { userId: 'u', items: [{ n: 1 }], later: 1 })).toThrow(
      'Field "body.later" is not allowed',
    );
    expect(() => parseInput(request, { userId: 'u', items: [{ n: 1, later: 1 }] })).toThrow(
      'Field "body.items.0.later" is not allowed',
    );
    // The shared schema itself is unchanged: only its tolerant copy strips.
    expect(request.safeParse({ userId: 'u', items: [{ n: 1 }], later: 1 }).success).toBe(false);
    expect(tolerantSchema(request)).toBe(tolerantSchema(request));
  });

  it('reads a union by its strict meaning first', () => {
    const byIdOrName = z.union([
      z.object({ id: z.string() }).strict(),
      z.object({ username: z.string() }).strict(),
    ]);
    expect(parseInternal(byIdOrName, { username: 'alice' })).toEqual({ username: 'alice' });
    expect(parseInternal(byIdOrName, { username: 'alice', later: 1 })).toEqual({ username: 'alice' });
  });
});

describe('schema versions', () => {
  it('parses major.minor and bare majors', () => {
    expect(parseSchemaVersion('2.13')).toEqual({ major: 2, minor: 13 });
    expect(parseSchemaVersion('3')).toEqual({ major: 3, minor: 0 });
    expect(parseSchemaVersion(4)).toEqual({ major: 4, minor: 0 });
    expect(parseSchemaVersion('v2')).toBeUndefined();
    expect(parseSchemaVersion(undefined)).toBeUndefined();
  });

  it('reads majors N-1..N+1 as expected during an upgrade; others are outside the rule', () => {
    expect(schemaCompatibility('2.0', '2.3')).toBe('current');
    expect(schemaCompatibility('2.9', '2.3')).toBe('current');
    expect(schemaCompatibility('1.4', '2.3')).toBe('compatible');
    expect(schemaCompatibility('3.0', '2.3')).toBe('compatible');
    expect(schemaCompatibility('4.0', '2.3')).toBe('outside');
    expect(schemaCompatibility('0.9', '2.3')).toBe('outside');
    // No version: a release before versioning, major 1.
    expect(schemaCompatibility(undefined, '1.0')).toBe('unversioned');
    expect(schemaCompatibility(undefined, '2.0')).toBe('unversioned');
    expect(schemaCompatibility(undefined, '3.0')).toBe('outside');
  });
});
