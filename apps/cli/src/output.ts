/**
 * What the CLI prints and how it exits. Exit codes mean one thing each (listed in `atrium --help`);
 * an error is one line on stderr, or with `--json` the API's error object on stdout.
 */
export const EXIT = {
  OK: 0,
  /** The operation or the run failed (a run's own exit code is passed on when it has one). */
  FAILED: 1,
  /** Bad usage or input: an unknown option, a missing argument, a file that cannot be read, a 400. */
  USAGE: 2,
  /** Not logged in, or the token is not valid (401). */
  UNAUTHENTICATED: 3,
  /** Not allowed (403). */
  DENIED: 4,
  /** No such resource, or not one the caller may see (404). */
  NOT_FOUND: 5,
  /** Atrium could not be reached or did not answer (network, 5xx, 503). */
  UNAVAILABLE: 6,
  /** A run timed out (as `timeout(1)` does). */
  TIMED_OUT: 124,
  /** A run was aborted, or the command was interrupted with Ctrl+C. */
  ABORTED: 130,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    the operation or the run failed (\`run\` passes on the command's own exit code)
  2    bad usage or input (unknown option, missing argument, unreadable file, invalid value)
  3    not logged in, or the token is not valid
  4    not allowed
  5    not found (or not visible to you)
  6    Atrium unreachable or unavailable
  124  the run timed out
  130  the run was aborted, or interrupted with Ctrl+C`;

/** The API's error object: `{ error: { type, message } }`. */
export interface ApiErrorBody {
  error: { type: string; message: string; [more: string]: unknown };
}

/** An error the CLI reports and exits with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.FAILED,
    /** The API's error object, printed as is with `--json`. */
    readonly body?: ApiErrorBody,
    /** Already told (e.g. a run's outcome): only the exit code remains. */
    readonly reported = false,
  ) {
    super(message);
  }
}

export function exitCodeOfStatus(status: number): number {
  if (status === 401) return EXIT.UNAUTHENTICATED;
  if (status === 403) return EXIT.DENIED;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status >= 500) return EXIT.UNAVAILABLE;
  if (status >= 400 && status < 500 && status !== 409 && status !== 402) return EXIT.USAGE;
  return EXIT.FAILED;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export type Column<Row> = [header: string, cell: (row: Row) => unknown];

/** C0 and C1 control characters: a name or title must not move the cursor or recolour the terminal. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** One table cell or field: one line, no control characters (other users' names and titles are shown). */
export function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map(text).join(',');
  if (typeof value === 'object') return JSON.stringify(value).replace(CONTROL, '�');
  return String(value).replace(/\s+/g, ' ').replace(CONTROL, '�');
}

/**
 * A table for people: a header, then one padded line per row ("(none)" when there are none).
 * `header: false` prints the rows alone (more rows of a table already shown, as `audit --follow` does,
 * with fixed `widths` for every column but the last so that they line up).
 */
export function printTable<Row>(
  rows: Row[],
  columns: Column<Row>[],
  { header = true, widths: fixed }: { header?: boolean; widths?: number[] } = {},
): void {
  if (rows.length === 0) {
    if (!header) return;
    process.stdout.write('(none)\n');
    return;
  }
  // Fixed widths keep later rows under the header printed earlier (a longer cell is cut with `…`).
  const fit = (value: string, i: number) =>
    fixed && i < columns.length - 1 && value.length > fixed[i] ? value.slice(0, fixed[i] - 1) + '…' : value;
  const cells = rows.map((row) => columns.map(([, cell], i) => fit(text(cell(row)), i)));
  const headers = columns.map(([header]) => header);
  const widths = fixed ?? headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd() + '\n';
  process.stdout.write((header ? line(headers) : '') + cells.map(line).join(''));
}

/** `key: value` lines for one object. */
export function printFields(fields: [label: string, value: unknown][]): void {
  const width = Math.max(...fields.map(([label]) => label.length));
  for (const [label, value] of fields)
    process.stdout.write(`${`${label}:`.padEnd(width + 2)}${text(value)}\n`);
}
