import { jsonBeyondLimits } from './json-depth';

describe('jsonBeyondLimits', () => {
  const nested = (depth: number, open = '{"a":', close = '}') =>
    open.repeat(depth) + '1' + close.repeat(depth);

  it('counts objects and arrays, not brackets inside strings or escaped quotes', () => {
    expect(jsonBeyondLimits(nested(3), 3)).toBeNull();
    expect(jsonBeyondLimits(nested(4), 3)?.limit).toBe('depth');
    expect(jsonBeyondLimits(nested(4, '[', ']'), 3)?.limit).toBe('depth');
    expect(jsonBeyondLimits(JSON.stringify({ s: '[[[[[{{{{{', t: 'a\\"[[[[[[' }), 2, 1)).toBeNull();
    expect(jsonBeyondLimits('[1,[2],[3],[4],[5]]', 2)).toBeNull();
    expect(jsonBeyondLimits('[1,[2],[3],[4],[5]]', 2, 5)).toBeNull();
    expect(jsonBeyondLimits('[1,[2],[3],[4],[5]]', 2, 4)?.limit).toBe('containers');
  });

  it('refuses the attack passes bodies (5,000 levels; 3 million arrays) and accepts ordinary ones', () => {
    expect(jsonBeyondLimits(nested(5000))?.limit).toBe('depth');
    expect(jsonBeyondLimits(`[${Array(3_000_000).fill('[]').join(',')}]`)?.limit).toBe('containers');
    expect(jsonBeyondLimits(JSON.stringify([{ a: { b: [1, 2, { c: 'x' }] } }]))).toBeNull();
    // 9 MB of small scraped items (about 22 bytes per object or array: 414,000 of them) is within.
    const item = { url: 'https://example.com/p/1', title: 'A title', tags: ['a', 'b'], offers: [{ p: 1 }] };
    const items = JSON.stringify(Array(Math.floor(9_000_000 / JSON.stringify(item).length)).fill(item));
    expect(jsonBeyondLimits(items)).toBeNull();
  });

  it('finds a number no double holds (JSON.parse would make it Infinity, stored as null)', () => {
    expect(jsonBeyondLimits('{"x":1e309}')).toEqual({ limit: 'number', token: '1e309' });
    expect(jsonBeyondLimits('[1,-2.5E+400]')).toEqual({ limit: 'number', token: '-2.5E+400' });
    expect(jsonBeyondLimits(`[${'9'.repeat(400)}]`)?.limit).toBe('number');
    // Within range, and numbers or exponents inside strings are taken.
    expect(jsonBeyondLimits('{"x":1e308,"y":-1.7976931348623157e308,"s":"1e309","t":true}')).toBeNull();
    expect(jsonBeyondLimits(`[${'9'.repeat(300)}]`)?.limit).toBe('integer');
  });

  it('finds integers a double would round and non-zero numbers it would make 0; takes what it holds', () => {
    expect(jsonBeyondLimits('{"id":18446744073709551617}')).toEqual({
      limit: 'integer',
      token: '18446744073709551617',
    });
    expect(jsonBeyondLimits('[-9007199254740993]')?.limit).toBe('integer');
    expect(jsonBeyondLimits('[18446744073709551617.0]')?.limit).toBe('integer');
    expect(jsonBeyondLimits('[9007199254740993.000]')?.limit).toBe('integer');
    expect(jsonBeyondLimits('[9007199254740992.0,9007199254740993.5,1.8446744073709551617e19]')).toBeNull();
    expect(jsonBeyondLimits('{"tiny":1e-400}')).toEqual({ limit: 'tiny', token: '1e-400' });
    // What JavaScript itself writes round-trips: 2^64 as JSON.stringify writes it, 2^53, -0, 0e5.
    expect(
      jsonBeyondLimits('[18446744073709552000,9007199254740992,-0,0e5,0.000,1.0000000000000000000001]'),
    ).toBeNull();
    expect(
      jsonBeyondLimits(JSON.stringify([Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 64, -(2 ** 60), 1e21])),
    ).toBeNull();
  });
});
