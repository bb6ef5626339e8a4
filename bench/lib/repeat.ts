import type { Verdict } from './report';

/**
 * Figures from repetitions. Every ratio row comes from ≥ 3 alternated repetitions (baseline,
 * Atrium, baseline, Atrium, …): each repetition gives a ratio of two runs measured moments apart,
 * the row shows the median of those ratios with their min–max, and the median and min–max of each
 * side's own figure. When the baseline's figure moved more than the stated bound between its own
 * repetitions (max − min over the median), the machine was not steady enough for the median to
 * decide: the row says "unstable" instead of PASS or FAIL — unless every repetition's own ratio is
 * on the same side of the target, which no noise between repetitions can have decided: then it
 * says "PASS (each of N)" or "FAIL (each of N)" (`verdictOf`).
 */

/** The median and extremes of one figure over the repetitions. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  values: number[];
}

/** Median (the mean of the middle two for an even count), min and max; NaN when there is nothing. */
export function spreadOf(values: readonly number[]): Spread {
  const finite = values.filter((v) => !Number.isNaN(v));
  if (!finite.length) return { median: NaN, min: NaN, max: NaN, values: [...values] };
  const sorted = [...finite].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], values: [...values] };
}

/** (max − min) / median: how far a figure moved between repetitions, as a fraction of its median. */
export function relativeSpread(spread: Spread): number {
  return spread.median > 0 ? (spread.max - spread.min) / spread.median : Infinity;
}

/** One figure of Atrium against the baseline's, repetition by repetition. */
export interface Compared {
  atrium: Spread;
  baseline: Spread;
  /** Atrium's figure over the baseline's of the same repetition. */
  ratio: Spread;
  /** Whether the baseline's own spread stayed within the bound. */
  stable: boolean;
}

/** Pairs the i-th Atrium figure with the i-th baseline figure; `maxSpread` bounds the baseline's. */
export function compare(atrium: readonly number[], baseline: readonly number[], maxSpread: number): Compared {
  if (atrium.length !== baseline.length)
    throw new Error(`${atrium.length} Atrium figures against ${baseline.length} baseline figures`);
  const base = spreadOf(baseline);
  return {
    atrium: spreadOf(atrium),
    baseline: base,
    ratio: spreadOf(atrium.map((a, i) => (baseline[i] > 0 ? a / baseline[i] : NaN))),
    stable: relativeSpread(base) <= maxSpread,
  };
}

/**
 * The verdict of a ratio row whose target `ok` judges one ratio: on the median when the baseline
 * was steady; otherwise only when every repetition agrees, and saying so.
 */
export function verdictOf(cmp: Compared, ok: (ratio: number) => boolean): Verdict {
  if (cmp.stable) return ok(cmp.ratio.median) ? 'PASS' : 'FAIL';
  const each = cmp.ratio.values.filter((v) => !Number.isNaN(v));
  if (each.length && each.every(ok)) return `PASS (each of ${each.length})`;
  if (each.length && !each.some(ok)) return `FAIL (each of ${each.length})`;
  return 'unstable';
}
