import { CronExpressionParser } from 'cron-parser';

/** Shorthands Apify schedules accept in place of the five fields, as the six fields they stand for. */
const MACROS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  /** Names standing for values, from `min` on (months, days of the week). */
  names?: string[];
  /** Day fields also take `?` ("no specific value"). */
  question?: boolean;
}

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const FIELDS: FieldSpec[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31, question: true },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  // 7 is Sunday too, as in most cron implementations.
  { name: 'day of week', min: 0, max: 7, names: DAYS, question: true },
];

function value(token: string, spec: FieldSpec): number | null {
  if (/^\d{1,2}$/.test(token)) {
    const n = Number(token);
    return n >= spec.min && n <= spec.max ? n : null;
  }
  const named = spec.names?.indexOf(token.toUpperCase()) ?? -1;
  return named >= 0 ? named + (spec.names === MONTHS ? 1 : 0) : null;
}

function validField(field: string, spec: FieldSpec): boolean {
  if (spec.question && field === '?') return true;
  return field.split(',').every((item) => {
    const [range, step, ...rest] = item.split('/');
    if (rest.length || range === undefined) return false;
    if (step !== undefined && (!/^\d{1,2}$/.test(step) || Number(step) < 1 || Number(step) > spec.max))
      return false;
    if (range === '*') return true;
    const bounds = range.split('-');
    if (bounds.length > 2) return false;
    const values = bounds.map((b) => value(b, spec));
    if (values.some((v) => v === null)) return false;
    return values.length === 1 || (values[0] as number) <= (values[1] as number);
  });
}

/** The values a valid field stands for, Sunday always 0; `*` and `?` stay as they are. */
function expand(field: string, spec: FieldSpec): string {
  if (field === '*' || field === '?') return field;
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const [range = '*', step = '1'] = item.split('/');
    const bounds =
      range === '*' ? [spec.min, spec.max] : range.split('-').map((b) => value(b, spec) as number);
    const from = bounds[0] as number;
    // `5/10` runs from 5 to the end, as `5-59/10`.
    const to = bounds.length > 1 ? (bounds[1] as number) : item.includes('/') ? spec.max : from;
    for (let v = from; v <= to; v += Number(step)) values.add(spec.names === DAYS && v === 7 ? 0 : v);
  }
  return [...values].sort((a, b) => a - b).join(',');
}

/**
 * The six fields cron-parser is given for a valid expression: each field as the plain list of its
 * values, so the parser only does calendar arithmetic and never judges syntax the validator took
 * (it refuses overlaps such as `0-10,5`, upper-case macros and `@midnight`). Day of month and day of
 * week keep `*` and `?`: when both are restricted a day matching either fires, as in cron.
 */
function parserFields(expression: string): string {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@')) return MACROS[trimmed.toLowerCase()] as string;
  const fields = trimmed.split(/\s+/);
  const withSeconds = fields.length === 6 ? fields : ['0', ...fields];
  return withSeconds.map((f, i) => expand(f, [SECOND, ...FIELDS][i] as FieldSpec)).join(' ');
}

/**
 * The times after `after` that a valid cron expression names, in `timezone` (an IANA name), in
 * order; none when it names no date (30 February). Parsed once: walking many ticks stays cheap.
 */
export function* cronTimes(expression: string, timezone: string, after: Date): Generator<Date> {
  let times;
  try {
    times = CronExpressionParser.parse(parserFields(expression), { tz: timezone, currentDate: after });
  } catch {
    return;
  }
  while (times.hasNext()) yield times.next().toDate();
}

/** The last time at or before `at` that a valid cron expression names; null when it names none. */
export function latestCronTime(expression: string, timezone: string, at: Date): Date | null {
  try {
    const currentDate = new Date(at.getTime() + 1);
    return CronExpressionParser.parse(parserFields(expression), { tz: timezone, currentDate })
      .prev()
      .toDate();
  } catch {
    return null;
  }
}

/** The first time after `after` that a valid cron expression names; null when it names none. */
export function nextCronTime(expression: string, timezone: string, after: Date): Date | null {
  return cronTimes(expression, timezone, after).next().value ?? null;
}

/**
 * Why a cron expression is not one Apify schedules accept (five fields, an optional leading
 * seconds field, or a macro such as `@daily`), or null when it is.
 */
export function cronExpressionProblem(expression: string): string | null {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@'))
    return Object.hasOwn(MACROS, trimmed.toLowerCase()) ? null : `unknown macro "${trimmed}"`;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return 'must have 5 fields (or 6 with seconds first)';
  const specs = fields.length === 6 ? [SECOND, ...FIELDS] : FIELDS;
  const bad = specs.findIndex((spec, i) => !validField(fields[i] as string, spec));
  if (bad >= 0) return `the ${specs[bad]?.name} field "${fields[bad]}" is not valid`;
  return nextCronTime(trimmed, 'UTC', new Date(0)) ? null : 'names no date that exists (such as 30 February)';
}
