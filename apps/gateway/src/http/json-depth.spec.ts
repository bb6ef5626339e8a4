import { jsonNestsDeeperThan } from './json-depth';

describe('jsonNestsDeeperThan', () => {
  const nested = (depth: number, open = '{"a":', close = '}') =>
    open.repeat(depth) + '1' + close.repeat(depth);

  it('counts objects and arrays, not brackets inside strings or escaped quotes', () => {
    expect(jsonNestsDeeperThan(nested(3), 3)).toBe(false);
    expect(jsonNestsDeeperThan(nested(4), 3)).toBe(true);
    expect(jsonNestsDeeperThan(nested(4, '[', ']'), 3)).toBe(true);
    expect(jsonNestsDeeperThan(JSON.stringify({ s: '[[[[[{{{{{', t: 'a\\"[[[[[[' }), 2)).toBe(false);
    expect(jsonNestsDeeperThan('[1,[2],[3],[4],[5]]', 2)).toBe(false);
  });

  it('refuses the attack pass body (5,000 levels) and accepts ordinary ones', () => {
    expect(jsonNestsDeeperThan(nested(5000))).toBe(true);
    expect(jsonNestsDeeperThan(JSON.stringify([{ a: { b: [1, 2, { c: 'x' }] } }]))).toBe(false);
  });
});
