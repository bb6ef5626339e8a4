import type { DatasetCell, DatasetItemsTransform } from '@atrium/contracts';

type Item = Record<string, unknown>;

/** Apify: tabular exports (CSV, XLSX, HTML) hold at most 2,000 columns of names up to 200 characters. */
export const MAX_TABLE_COLUMNS = 2000;
export const MAX_COLUMN_NAME_LENGTH = 200;

const isObject = (value: unknown): value is Item =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Top-level fields starting with `#` are hidden (Apify). */
export const isHiddenField = (key: string): boolean => key.startsWith('#');

function withoutHidden(item: Item): Item {
  const out: Item = {};
  for (const key in item) if (!isHiddenField(key)) out[key] = item[key];
  return out;
}

function isEmpty(item: Item): boolean {
  for (const _key in item) return false;
  return true;
}

/**
 * Whether `clean=true` returns the item: it has a field that is not hidden. The dataset's
 * `cleanItemCount` counts exactly these.
 */
export function isCleanItem(item: Item): boolean {
  for (const key in item) if (!isHiddenField(key)) return true;
  return false;
}

/** Items one stored item may unwind into (each field's elements times the others'). */
export const MAX_UNWOUND = 10_000;

/** A stored item that would unwind into more than MAX_UNWOUND items. */
export class UnwindTooLarge extends Error {
  constructor() {
    super(`unwinds into more than ${MAX_UNWOUND} items`);
  }
}

/**
 * Apify's `unwind`: an array field makes one item per element, each merged into the parent
 * without that field (an element that is not an object stays under the field's name); an
 * object field is merged into the parent; anything else (missing, scalar, empty array) leaves
 * the item as it is. Fields unwind in the order given. What an element brings takes the field's
 * place among the parent's keys (so `fields=tags,name&unwind=tags` keeps `tags` first), and
 * wins over a parent's key of the same name.
 */
function unwind(items: Item[], field: string): Item[] {
  let made = 0;
  return items.flatMap((item) => {
    const value = Object.hasOwn(item, field) ? item[field] : undefined; // not `__proto__`'s prototype
    const unwinds = isObject(value) || (Array.isArray(value) && value.length > 0);
    const elements: unknown[] = Array.isArray(value) ? value : [value];
    made += unwinds ? elements.length : 1;
    if (made > MAX_UNWOUND) throw new UnwindTooLarge();
    if (!unwinds) return [item];
    return elements.map((element) => {
      const out: Item = {};
      for (const key in item) {
        if (key !== field) out[key] = item[key];
        else if (isObject(element)) Object.assign(out, element);
        else out[field] = element;
      }
      return isObject(element) ? Object.assign(out, element) : out;
    });
  });
}

/** Apify's `flatten`: `{ foo: { bar: 1 } }` → `{ 'foo.bar': 1 }`, in the field's place, nested objects all the way. */
function flatten(item: Item, fields: ReadonlySet<string>): Item {
  const out: Item = {};
  const put = (prefix: string, value: unknown) => {
    if (isObject(value) && Object.keys(value).length > 0) {
      for (const [key, inner] of Object.entries(value)) put(`${prefix}.${key}`, inner);
    } else out[prefix] = value;
  };
  for (const [key, value] of Object.entries(item)) {
    if (fields.has(key) && isObject(value)) put(key, value);
    else out[key] = value;
  }
  return out;
}

/** `fields` keeps these of an item's own fields, in the order given (Apify); `omit` drops these. */
function project(item: Item, fields: readonly string[] | undefined, omit?: string[]): Item {
  const picked = fields
    ? Object.fromEntries(fields.filter((f) => Object.hasOwn(item, f)).map((f) => [f, item[f]]))
    : item;
  if (!omit?.length) return picked;
  const out = fields ? picked : { ...picked };
  for (const key of omit) delete out[key];
  return out;
}

/** The field a flattened key (`a.b`) came from (`a`); the key itself when it has no dot. */
const fieldOf = (key: string) => (key.includes('.') ? key.slice(0, key.indexOf('.')) : key);

/** Names `a.b` of flattened keys (`flatten=a`) among `names`, by the field they flatten. */
function flattenedNames(names: readonly string[], flattened: ReadonlySet<string>): Map<string, Set<string>> {
  const byField = new Map<string, Set<string>>();
  for (const name of names) {
    const field = fieldOf(name);
    if (field !== name && flattened.has(field))
      byField.set(field, (byField.get(field) ?? new Set()).add(name));
  }
  return byField;
}

/**
 * A stored item as Apify's item options make it: hidden fields dropped (`skipHidden`), then the
 * item dropped when nothing visible is left (`skipEmpty`), then `fields` and `omit` on its own
 * fields, then `unwind`, then `flatten`. `fields` comes before `unwind` as on Apify, whose
 * `simplified` is documented as `fields=url,pageFunctionResult,errorInfo` with
 * `unwind=pageFunctionResult`: what the unwound field holds is kept. A name `a.b` in `fields` or
 * `omit` where `a` is flattened names that flattened key: `fields` keeps `a` for the flattening
 * and then, of its keys, only those it names (all of them if it names `a` too); `omit` drops it.
 * An empty `fields` keeps everything (apify-client sends `fields=` for `[]`). Returns zero items
 * (skipped), one, or several (unwound).
 */
export function transformItem(stored: Item, options: DatasetItemsTransform): Item[] {
  const item = options.skipHidden ? withoutHidden(stored) : stored;
  if (options.skipEmpty && isEmpty(item)) return [];
  const fields = options.fields?.length ? options.fields : undefined;
  const flattened = new Set(options.flatten ?? []);
  // Flattened fields `fields` names only by some of their keys: those keys stay, no others.
  const narrowed = flattenedNames(fields ?? [], flattened);
  for (const field of fields ?? []) narrowed.delete(field);
  const omitted = flattenedNames(options.omit ?? [], flattened);
  // …and are picked where their first named key is (the key order follows `fields`).
  const picks = fields && [
    ...new Set(fields.flatMap((f) => (narrowed.has(fieldOf(f)) ? [f, fieldOf(f)] : [f]))),
  ];
  let items = [project(item, picks, options.omit)];
  for (const field of options.unwind ?? []) items = unwind(items, field);
  // What unwinding brought to the top level is hidden by the same rule as the item's own fields,
  // and an item it left empty is skipped as a stored one is.
  if (options.skipHidden && options.unwind?.length) items = items.map(withoutHidden);
  if (options.skipEmpty && options.unwind?.length) items = items.filter((one) => !isEmpty(one));
  if (!flattened.size) return items;
  return items.map((one) => {
    const flat = flatten(one, flattened);
    for (const key of Object.keys(flat)) {
      const field = fieldOf(key);
      const kept = narrowed.get(field);
      if ((kept && !kept.has(key)) || omitted.get(field)?.has(key)) delete flat[key];
    }
    return flat;
  });
}

function toCell(value: unknown): DatasetCell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  return String(value);
}

/**
 * An item as a table row, the way Apify's CSV and Excel exports show nested data: objects and
 * arrays become one cell per leaf named by its path (`address/city`, `tags/0`); an empty object
 * or array has no leaf, so no cell.
 */
export function toTableRow(item: Item): Record<string, DatasetCell> {
  const row: Record<string, DatasetCell> = {};
  const put = (name: string, value: unknown) => {
    if (Array.isArray(value) || isObject(value)) {
      for (const [key, inner] of Object.entries(value)) put(`${name}/${key}`, inner);
    } else row[name] = toCell(value);
  };
  for (const [key, value] of Object.entries(item)) put(key, value);
  return row;
}

/** The column names of rows, in order of first appearance, within Apify's table limits. */
export function tableColumns(
  rows: Iterable<Record<string, DatasetCell>>,
  seen = new Set<string>(),
): string[] {
  for (const row of rows) {
    for (const name of Object.keys(row)) {
      if (seen.size >= MAX_TABLE_COLUMNS) return [...seen];
      if (name.length <= MAX_COLUMN_NAME_LENGTH) seen.add(name);
    }
  }
  return [...seen];
}
