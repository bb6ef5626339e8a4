export type Verdict = 'PASS' | 'FAIL' | '';

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
