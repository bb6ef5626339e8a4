import type { DatasetCell, DatasetItemsTransform } from '@atrium/contracts';

type Item = Record<string, unknown>;

/** Apify: tabular exports (CSV, XLSX, HTML) hold at most 2,000 columns of names up to 200 characters. */
export const MAX_TABLE_COLUMNS = 2000;
export const MAX_COLUMN_NAME_LENGTH = 200;

const isObject = (value: unknown): value is Item =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Top-level fields starting with `#` are hidden (Apify). */
export const isHiddenField = (key: string): boolean => key.startsWith('#');

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

/**
 * Apify's `unwind`: an array field makes one item per element, each merged into the parent
 * without that field (an element that is not an object stays under the field's name); an
 * object field is merged into the parent; anything else (missing, scalar, empty array) leaves
 * the item as it is. Fields unwind in the order given.
 */
function unwind(items: Item[], field: string): Item[] {
  return items.flatMap((item) => {
    const value = item[field];
    if (!isObject(value) && !(Array.isArray(value) && value.length > 0)) return [item];
    const { [field]: _unwound, ...parent } = item;
    const elements: unknown[] = Array.isArray(value) ? value : [value];
    return elements.map((element) =>
      isObject(element) ? { ...parent, ...element } : { ...parent, [field]: element },
    );
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

/** `fields` keeps only these, in the order given (Apify); `omit` drops these. */
function project(item: Item, fields?: string[], omit?: string[]): Item {
  const picked = fields
    ? Object.fromEntries(fields.filter((f) => Object.hasOwn(item, f)).map((f) => [f, item[f]]))
    : item;
  if (!omit?.length) return picked;
  const out = fields ? picked : { ...picked };
  for (const key of omit) delete out[key];
  return out;
}

/**
 * A stored item as Apify's item options make it: hidden fields dropped (`skipHidden`), then the
 * item dropped when nothing visible is left (`skipEmpty`), then `unwind`, `flatten`, `fields`
 * and `omit`. Returns zero items (skipped), one, or several (unwound).
 */
export function transformItem(stored: Item, options: DatasetItemsTransform): Item[] {
  let item = stored;
  if (options.skipHidden) {
    item = {};
    for (const key in stored) if (!isHiddenField(key)) item[key] = stored[key];
  }
  if (options.skipEmpty && isEmpty(item)) return [];
  let items = [item];
  for (const field of options.unwind ?? []) items = unwind(items, field);
  const flattened = options.flatten?.length ? new Set(options.flatten) : undefined;
  return items.map((one) => project(flattened ? flatten(one, flattened) : one, options.fields, options.omit));
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
