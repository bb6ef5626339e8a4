import { newId } from '@atrium/auth';

/** Issue 8, item 13 (first half): ids come from the CSPRNG, are long enough and have no modulo bias. */

/** The module object itself (a namespace import would be a copy), so that a spy sees libs/auth's calls. */
const crypto = jest.requireActual<typeof import('node:crypto')>('node:crypto');
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));
const SAMPLES = 100_000;
const LENGTH = 17;
/** Family-wise significance over all the tests of one sample (Bonferroni-corrected per test). */
const ALPHA = 0.001;

/** erfc, Numerical Recipes' Chebyshev fit (fractional error below 1.2e-7). */
const ERFC_COEFFICIENTS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
];
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + z / 2);
  const poly = ERFC_COEFFICIENTS.reduceRight((acc, c) => c + t * acc, 0);
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** P(χ²(df) ≥ x), by the Wilson–Hilferty normal approximation (accurate for df ≥ 30). */
function chiSquareP(x: number, df: number): number {
  const z = (Math.cbrt(x / df) - (1 - 2 / (9 * df))) / Math.sqrt(2 / (9 * df));
  return erfc(z / Math.SQRT2) / 2;
}

function chiSquare(observed: number[]): { statistic: number; p: number } {
  const total = observed.reduce((a, b) => a + b, 0);
  const expected = total / observed.length;
  const statistic = observed.reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0);
  return { statistic, p: chiSquareP(statistic, observed.length - 1) };
}

/** Per position, over all positions, and over adjacent pairs (correlation between characters). */
function uniformityTests(ids: string[]): { name: string; p: number }[] {
  const perPosition = Array.from({ length: LENGTH }, () => new Array<number>(62).fill(0));
  const overall = new Array<number>(62).fill(0);
  const pairs = new Array<number>(62 * 62).fill(0);
  for (const id of ids) {
    for (let i = 0; i < LENGTH; i++) {
      const c = INDEX.get(id[i])!;
      perPosition[i][c]++;
      overall[c]++;
      if (i > 0) pairs[INDEX.get(id[i - 1])! * 62 + c]++;
    }
  }
  return [
    ...perPosition.map((counts, i) => ({ name: `position ${i}`, p: chiSquare(counts).p })),
    { name: 'all positions', p: chiSquare(overall).p },
    { name: 'adjacent pairs', p: chiSquare(pairs).p },
  ];
}

describe('security: identifiers (item 13)', () => {
  it('checks the statistics themselves against known values', () => {
    // χ²(61) upper 0.1% point ≈ 100.88; χ²(3843) median ≈ 3842.3.
    expect(chiSquareP(100.88, 61)).toBeCloseTo(0.001, 4);
    expect(chiSquareP(3842.33, 3843)).toBeCloseTo(0.5, 2);
  });

  it(`draws ${SAMPLES.toLocaleString('en')} ids from the CSPRNG: 17 base62 characters, unique, uniform`, () => {
    const randomBytes = jest.spyOn(crypto, 'randomBytes');
    const mathRandom = jest.spyOn(Math, 'random');
    const ids = Array.from({ length: SAMPLES }, () => newId());
    expect(randomBytes).toHaveBeenCalled();
    expect(mathRandom).not.toHaveBeenCalled();
    randomBytes.mockRestore();
    mathRandom.mockRestore();

    expect(ids.filter((id) => !/^[0-9A-Za-z]{17}$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(SAMPLES);
    expect(LENGTH * Math.log2(62)).toBeGreaterThan(100);
    const tests = uniformityTests(ids);
    const threshold = ALPHA / tests.length;
    const failed = tests.filter((t) => t.p <= threshold);
    expect(failed).toEqual([]);
    const worst = Math.min(...tests.map((t) => t.p));
    console.log(
      `[security:13] ids: ${SAMPLES} sampled, all unique; ${tests.length} χ² tests (17 positions, all, adjacent pairs), smallest p = ${worst.toFixed(4)} > ${threshold.toExponential(1)}`,
    );
  });

  it('would catch modulo bias: the same tests reject `byte % 62` without rejection sampling', () => {
    const biased = Array.from({ length: SAMPLES }, () =>
      [...crypto.randomBytes(LENGTH)].map((b) => ALPHABET[b % 62]).join(''),
    );
    const tests = uniformityTests(biased);
    expect(tests.filter((t) => t.name.startsWith('position')).every((t) => t.p < 1e-9)).toBe(true);
  });
});
