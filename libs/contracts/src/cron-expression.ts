/** Shorthands Apify schedules accept in place of the five fields. */
const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];

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

/**
 * Why a cron expression is not one Apify schedules accept (five fields, an optional leading
 * seconds field, or a macro such as `@daily`), or null when it is.
 */
export function cronExpressionProblem(expression: string): string | null {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@'))
    return MACROS.includes(trimmed.toLowerCase()) ? null : `unknown macro "${trimmed}"`;
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) return 'must have 5 fields (or 6 with seconds first)';
  const specs = fields.length === 6 ? [SECOND, ...FIELDS] : FIELDS;
  const bad = specs.findIndex((spec, i) => !validField(fields[i] as string, spec));
  return bad >= 0 ? `the ${specs[bad]?.name} field "${fields[bad]}" is not valid` : null;
}
