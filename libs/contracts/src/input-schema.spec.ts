import { asInputSchema, inputSchemaAsJsonSchema, validateActorInput } from './input-schema';

describe('Actor input schema', () => {
  const schema = asInputSchema({
    title: 'In',
    type: 'object',
    schemaVersion: 1,
    properties: {
      url: { type: 'string', editor: 'textfield', pattern: '^https://', minLength: 10 },
      pages: { type: 'integer', minimum: 1, maximum: 5, default: 1 },
      ratio: { type: 'number', nullable: true },
      tags: { type: 'array', editor: 'stringList', maxItems: 2 },
      proxy: { type: 'object', editor: 'proxy' },
      debug: { type: 'boolean' },
      mode: { type: 'string', enum: ['a', 'b'] },
    },
    required: ['url', 'pages'],
  })!;

  it('accepts valid input, filling defaults before checking what is required', () => {
    expect(validateActorInput(schema, { url: 'https://example.com' })).toBeNull();
    expect(
      validateActorInput(schema, {
        url: 'https://example.com',
        pages: 5,
        ratio: null,
        tags: ['x'],
        proxy: {},
        debug: false,
        mode: 'b',
        unknown: 1,
      }),
    ).toBeNull();
    expect(validateActorInput(schema, { url: 'https://example.com', ratio: 2 })).toBeNull();
  });

  it.each([
    [{}, 'input.url', 'is required'],
    [{ url: 'http://example.com' }, 'input.url', 'must match'],
    [{ url: 'https://x' }, 'input.url', 'at least 10'],
    [{ url: 'https://example.com', pages: 6 }, 'input.pages', '≤ 5'],
    [{ url: 'https://example.com', pages: 1.5 }, 'input.pages', 'integer'],
    [{ url: 'https://example.com', pages: null }, 'input.pages', 'null'],
    [{ url: 'https://example.com', ratio: 'x' }, 'input.ratio', 'number'],
    [{ url: 'https://example.com', tags: ['a', 'b', 'c'] }, 'input.tags', 'at most 2'],
    [{ url: 'https://example.com', proxy: [] }, 'input.proxy', 'object'],
    [{ url: 'https://example.com', debug: 'yes' }, 'input.debug', 'boolean'],
    [{ url: 'https://example.com', mode: 'c' }, 'input.mode', 'one of'],
    [[], 'input', 'JSON object'],
    ['text', 'input', 'JSON object'],
  ])('refuses %j naming %s', (input, field, message) => {
    const problem = validateActorInput(schema, input);
    expect(problem?.field).toBe(field);
    expect(problem?.message).toContain(message);
  });

  // Found by the outside attack pass: `(a+)+$` against 27 a's and a "!" held the event loop 1.9 s,
  // doubling with each character.
  it('gives a catastrophically backtracking pattern a deadline, and says so', () => {
    const slow = asInputSchema({ type: 'object', properties: { a: { type: 'string', pattern: '(a+)+$' } } })!;
    const started = Date.now();
    const problem = validateActorInput(slow, { a: `${'a'.repeat(40)}!` });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(problem).toEqual({ field: 'input.a', message: expect.stringContaining('backtracks too much') });
    expect(validateActorInput(slow, { a: 'aaa' })).toBeNull();
  });

  it('is null for what is not an object schema, and strips editor keys for OpenAPI', () => {
    expect(asInputSchema({ type: 'array' })).toBeNull();
    expect(asInputSchema('x')).toBeNull();
    expect(asInputSchema({ type: 'object' })).toBeNull();
    const json = inputSchemaAsJsonSchema(schema) as {
      properties: Record<string, object>;
      required: string[];
    };
    expect(json.properties.url).toEqual({ type: 'string', pattern: '^https://', minLength: 10 });
    expect(json.required).toEqual(['url', 'pages']);
  });
});
