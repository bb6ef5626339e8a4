import { z } from 'zod';
import { AppError } from './app-error';
import { parseInput, resourceRefSchema } from './validation';

describe('parseInput', () => {
  const schema = z
    .object({ name: z.string(), nested: z.object({ n: z.number() }).strict().optional() })
    .strict();

  it('returns the parsed value', () => {
    expect(parseInput(schema, { name: 'x' })).toEqual({ name: 'x' });
  });

  it.each([
    [{ name: 1 }, 'Field "body.name" is invalid'],
    [{ name: 'x', extra: true }, 'Field "body.extra" is not allowed'],
    [{ name: 'x', nested: { n: 'one' } }, 'Field "body.nested.n" is invalid'],
    [{ name: 'x', nested: { n: 1, m: 2 } }, 'Field "body.nested.m" is not allowed'],
  ])('names the failing field of %j', (input, message) => {
    try {
      parseInput(schema, input);
      throw new Error('expected a failure');
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).type).toBe('invalid-input');
      expect((err as AppError).message).toContain(message);
    }
  });
});

describe('resourceRefSchema', () => {
  it('accepts ids and username~name, nothing else', () => {
    for (const ok of ['AbCdEfGhIjKlMnOpQ', 'alice~my-data', '~my-data'])
      expect(resourceRefSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['short', 'a~', 'alice~bad name', '../etc', 'x'.repeat(300)]) {
      expect(resourceRefSchema.safeParse(bad).success).toBe(false);
    }
  });
});

describe('parseInput on a query number that is not one', () => {
  it('says a number was expected, not "received nan"', () => {
    const query = z.object({ limit: z.coerce.number().int().optional() });
    expect(() => parseInput(query, { limit: 'abc' }, 'query')).toThrow(
      'Field "query.limit" must be a number',
    );
  });
});

describe('parseInput on a union (a dataset push: one item or an array of them)', () => {
  const push = z.union([
    z.record(z.unknown()),
    z
      .array(z.record(z.unknown(), { message: 'each item must be a JSON object' }))
      .min(1)
      .max(3),
  ]);
  const message = (input: unknown) => {
    try {
      parseInput(push, input);
      return 'accepted';
    } catch (err) {
      return (err as AppError).message;
    }
  };

  it('names the types it takes when the value is of none of them', () => {
    expect(message('a string')).toBe('Field "body" is invalid: must be an object or an array');
    expect(message(null)).toBe('Field "body" is invalid: must be an object or an array');
  });

  it('answers with the alternative of the value’s type, naming the field inside', () => {
    expect(message([{}, 2])).toBe('Field "body.1" is invalid: each item must be a JSON object');
    expect(message([{}, {}, {}, {}])).toBe(
      'Field "body" is invalid: Array must contain at most 3 element(s)',
    );
    expect(message({ a: 1 })).toBe('accepted');
  });
});
