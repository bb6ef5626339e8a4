import { relativeSpread, Spread } from './repeat';

export type Verdict = 'PASS' | 'FAIL' | 'unstable' | '' | `${'PASS' | 'FAIL'} (each of ${number})`;

export interface Row {
  figure: string;
  atrium: string;
  baseline: string;
  ratio: string;
  target: string;
  result: Verdict;
}

export const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : 'n/a');
export const rps = (v: number): string =>
  Number.isFinite(v) ? `${Math.round(v).toLocaleString('en-US')} req/s` : 'n/a';
export const ratio = (a: number, b: number): string =>
  b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : 'n/a';
export const verdict = (ok: boolean): Verdict => (ok ? 'PASS' : 'FAIL');

/** `median (min–max)` of a figure over the repetitions: the median by `format`, the extremes by `plain`. */
export function ranged(s: Spread, format: (v: number) => string, plain = format): string {
  if (!Number.isFinite(s.median)) return 'n/a';
  return `${format(s.median)} (${plain(s.min)}–${plain(s.max)})`;
}

/** The same with the spread ((max − min) / median): the baseline's, which decides "unstable". */
export function rangedWithSpread(s: Spread, format: (v: number) => string, plain = format): string {
  const spread = relativeSpread(s);
  if (!Number.isFinite(s.median)) return 'n/a';
  return `${format(s.median)} (${plain(s.min)}–${plain(s.max)}, spread ${Number.isFinite(spread) ? (spread * 100).toFixed(0) : '∞'} %)`;
}

export const times = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)}×` : 'n/a');
export const plainMs = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : 'n/a');
export const plainRps = (v: number): string =>
  Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a';
export const percent = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)} %` : 'n/a');

const HEADERS = ['figure', 'Atrium', 'baseline', 'ratio', 'target', 'result'];

function cells(row: Row): string[] {
  return [row.figure, row.atrium, row.baseline, row.ratio, row.target, row.result];
}

/** The table as Markdown (it reads as a plain-text table in a terminal too). */
export function markdownTable(rows: Row[]): string {
  const all = [HEADERS, ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [
    line(HEADERS),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...rows.map((r) => line(cells(r))),
  ].join('\n');
}
