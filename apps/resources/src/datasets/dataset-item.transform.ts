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
 * the item as it is. Fields unwind in the order given. What an element brings takes the field's
 * place among the parent's keys (so `fields=tags,name&unwind=tags` keeps `tags` first), and
 * wins over a parent's key of the same name.
 */
function unwind(items: Item[], field: string): Item[] {
  return items.flatMap((item) => {
    const value = Object.hasOwn(item, field) ? item[field] : undefined; // not `__proto__`'s prototype
    if (!isObject(value) && !(Array.isArray(value) && value.length > 0)) return [item];
    const elements: unknown[] = Array.isArray(value) ? value : [value];
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

/**
 * What `fields` picks of a stored item (before unwinding and flattening): the fields it names, and
 * for a field `a.b` where `a` is flattened, `a` — then `narrowed` says which of `a`'s flattened keys
 * stay (those `fields` names), unless `fields` names `a` itself.
 */
function picksOf(
  fields: readonly string[] | undefined,
  flattened: ReadonlySet<string> | undefined,
): { picks: string[] | undefined; narrowed: Map<string, Set<string>> } {
  const narrowed = new Map<string, Set<string>>();
  if (!fields) return { picks: undefined, narrowed };
  const picks = new Set<string>();
  for (const field of fields) {
    picks.add(field);
    const prefix = field.includes('.') ? field.slice(0, field.indexOf('.')) : undefined;
    if (!prefix || !flattened?.has(prefix) || fields.includes(prefix)) continue;
    picks.add(prefix);
    narrowed.set(prefix, (narrowed.get(prefix) ?? new Set()).add(field));
  }
  return { picks: [...picks], narrowed };
}

/** Drops the flattened keys of a narrowed field that `fields` does not name (see `picksOf`). */
function narrow(item: Item, narrowed: ReadonlyMap<string, ReadonlySet<string>>): Item {
  if (!narrowed.size) return item;
  for (const key of Object.keys(item)) {
    const named = key.includes('.') ? narrowed.get(key.slice(0, key.indexOf('.'))) : undefined;
    if (named && !named.has(key)) delete item[key];
  }
  return item;
}

/**
 * A stored item as Apify's item options make it: hidden fields dropped (`skipHidden`), then the
 * item dropped when nothing visible is left (`skipEmpty`), then `fields` and `omit` on its own
 * fields, then `unwind`, then `flatten`. `fields` comes before `unwind` as on Apify, whose
 * `simplified` is documented as `fields=url,pageFunctionResult,errorInfo` with
 * `unwind=pageFunctionResult`: what the unwound field holds is kept. Returns zero items
 * (skipped), one, or several (unwound).
 */
export function transformItem(stored: Item, options: DatasetItemsTransform): Item[] {
  let item = stored;
  if (options.skipHidden) {
    item = {};
    for (const key in stored) if (!isHiddenField(key)) item[key] = stored[key];
  }
  if (options.skipEmpty && isEmpty(item)) return [];
  const flattened = options.flatten?.length ? new Set(options.flatten) : undefined;
  const { picks, narrowed } = picksOf(options.fields, flattened);
  let items = [project(item, picks, options.omit)];
  for (const field of options.unwind ?? []) items = unwind(items, field);
  return flattened ? items.map((one) => narrow(flatten(one, flattened), narrowed)) : items;
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
