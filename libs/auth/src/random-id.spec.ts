import { newId, randomBase62 } from './random-id';

describe('newId', () => {
  it('is 17 base62 characters and does not repeat', () => {
    const ids = new Set(Array.from({ length: 5000 }, newId));
    expect(ids.size).toBe(5000);
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z]{17}$/);
  });

  it('uses every character about equally (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (const ch of randomBase62(62 * 2000)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).toBe(62);
    // 2000 expected per character; a biased generator (byte % 62) over-represents the first 8 by ~25 %.
    for (const n of counts.values()) expect(Math.abs(n - 2000)).toBeLessThan(300);
  });
});
