import {
  DatasetCell,
  DatasetItemsChunk,
  DatasetItemsTransform,
  DatasetView,
  DatasetsRpc,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import type ExcelJS from 'exceljs';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { toXmlName, type DatasetItemFormat, type DatasetItemsQuery } from './dataset-items.query';

/**
 * Dataset item exports, streamed. The resources service owns the items; RPC is request/reply, so
 * the gateway pulls the range chunk by chunk (`resources.datasets.read-items`, by position, each
 * chunk ≤ 1,000 items and ≈ 1 MiB) and serializes each into the response as the client reads
 * it: the next chunk is asked for only when the response has taken the previous one
 * (`Readable.from` pulls its generator on demand), so neither process holds more than a chunk
 * or two, whatever the dataset's size. Tabular formats (CSV, XLSX, HTML) need every column
 * before the first row, as Apify's exports hold the union of the items' fields: a first pass
 * over the same range collects only the column names.
 */

/** Apify's `x-apify-pagination-limit` when no limit is asked for. */
const NO_LIMIT = 999_999_999_999;
const MAX_TABLE_COLUMNS = 2000;
const BOM = '\ufeff';

const CONTENT_TYPES: Record<DatasetItemFormat, string> = {
  json: 'application/json; charset=utf-8',
  jsonl: 'application/jsonl; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  xml: 'application/xml; charset=utf-8',
  html: 'text/html; charset=utf-8',
  rss: 'application/rss+xml; charset=utf-8',
};

export interface DatasetItemsExport {
  headers: Record<string, string>;
  body: Readable;
}

type Row = Record<string, DatasetCell>;
type Range = { from: number; to: number; desc: boolean };

/** The stored positions the query's offset, limit and desc select, and its pagination headers. */
function rangeOf(itemCount: number, q: DatasetItemsQuery): { range: Range; headers: Record<string, string> } {
  const offset = q.offset ?? 0;
  const limit = q.limit || undefined;
  const desc = q.desc ?? false;
  let from: number;
  let to: number;
  if (desc) {
    to = Math.max(0, itemCount - offset);
    from = limit === undefined ? 0 : Math.max(0, to - limit);
  } else {
    from = Math.min(itemCount, offset);
    to = limit === undefined ? itemCount : Math.min(itemCount, offset + limit);
  }
  return {
    range: { from, to, desc },
    headers: {
      'x-apify-pagination-total': String(itemCount),
      'x-apify-pagination-offset': String(offset),
      'x-apify-pagination-limit': String(limit ?? NO_LIMIT),
      // As Apify's: the stored items in the range, before skipped ones (apify-client counts the body).
      'x-apify-pagination-count': String(to - from),
      'x-apify-pagination-desc': String(desc),
    },
  };
}

function transformOf(q: DatasetItemsQuery): DatasetItemsTransform {
  return {
    fields: q.fields,
    omit: q.omit,
    unwind: q.unwind,
    flatten: q.flatten,
    skipHidden: q.skipHidden,
    skipEmpty: q.skipEmpty,
  };
}

/** Pulls the range's chunks in order, one RPC per chunk, each asked for only when needed. */
async function* chunks(
  rpc: RpcClient,
  id: string,
  range: Range,
  shape: 'items' | 'table' | 'columns',
  transform: DatasetItemsTransform,
  first?: DatasetItemsChunk,
  signal?: AbortSignal,
): AsyncGenerator<{ items?: Record<string, unknown>[]; columns?: string[] }> {
  let next: { from: number; to: number } | null = range.from < range.to ? range : null;
  if (first) {
    yield first;
    next = first.rest;
  }
  while (next) {
    // The client is gone: no more chunks are asked for (a table's columns pass reads them all).
    signal?.throwIfAborted();
    const chunk = await rpc.call(DatasetsRpc.readItems, { id, ...next, desc: range.desc, shape, transform });
    yield chunk;
    next = chunk.rest;
  }
}

/** The union of the rows' columns: first appearance, then (with `fields`) in the order of `fields`. */
async function columnsOf(
  rpc: RpcClient,
  id: string,
  range: Range,
  q: DatasetItemsQuery,
  signal?: AbortSignal,
): Promise<string[]> {
  const seen = new Set<string>();
  for await (const chunk of chunks(rpc, id, range, 'columns', transformOf(q), undefined, signal)) {
    for (const column of chunk.columns ?? []) {
      if (seen.size >= MAX_TABLE_COLUMNS) break;
      seen.add(column);
    }
  }
  const columns = [...seen];
  const fields = q.fields;
  if (!fields?.length) return columns;
  // In the order of `fields`, though the first items may lack some: a field's own columns (`a`,
  // `a/b`) together; a column no field names (what unwinding or flattening a field brought) after
  // those of the field whose column it first came after.
  let previous = -1;
  return columns
    .map((column, at) => {
      const named = fields.findIndex((f) => column === f || column.startsWith(`${f}/`));
      previous = named === -1 ? previous : named;
      return { column, at, rank: previous, brought: named === -1 };
    })
    .sort((a, b) => a.rank - b.rank || Number(a.brought) - Number(b.brought) || a.at - b.at)
    .map((c) => c.column);
}

/** Characters XML 1.0 does not allow (control characters, U+FFFE, U+FFFF): written as U+FFFD. */
// eslint-disable-next-line no-control-regex -- the characters to replace
const NOT_XML_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
/** Escaped in text; a CR as a reference, or a reader would read it back as LF. */
const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\r': '&#13;',
  '\n': '&#10;',
  '\t': '&#9;',
};
/** Text, escaped, so the document stays well-formed and reads back the same. */
const xmlEscape = (text: string) =>
  text.replace(NOT_XML_CHAR, '\uFFFD').replace(/[&<>"\r]/g, (c) => XML_ESCAPES[c]);
/** An attribute's value: also LF and tab as references, which a reader would read back as spaces. */
const xmlAttributeEscape = (text: string) => xmlEscape(text).replace(/[\n\t]/g, (c) => XML_ESCAPES[c]);

const textOf = (value: unknown) =>
  typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
const xmlScalar = (value: unknown) => xmlEscape(textOf(value));

/**
 * An object's attributes from its `@`: each name made an XML name, not one reserved to XML
 * (`xmlns` would move the item into another namespace), and not one already given (`a b` and
 * `a_b` both become `a_b`: a duplicate attribute makes the whole document unreadable).
 */
function xmlAttributes(attributes: Record<string, unknown>): string {
  const given = new Set<string>();
  let out = '';
  for (const [key, text] of Object.entries(attributes)) {
    let name = toXmlName(key);
    if (/^xml/i.test(name)) name = `_${name}`;
    while (given.has(name)) name = `_${name}`;
    given.add(name);
    out += ` ${name}="${xmlAttributeEscape(textOf(text))}"`;
  }
  return out;
}

/**
 * One JSON value as the element `name`, in pieces, as Apify's export writes it: properties as
 * child elements, an array as the element repeated, null or an empty string as an empty element;
 * in an object, `@` (an object) gives the attributes and `#` the text. Written by hand, every name
 * made an XML name and every text escaped: no key or value can make markup (an XML builder took
 * `!` under `#` for a comment, and failed on an item with a `hasOwnProperty` key). In pieces: an
 * array under a long key repeats that key per element, so one item's XML can be a hundred times
 * its JSON, more than one string can hold.
 */
function* xmlParts(name: string, value: unknown): Generator<string> {
  if (Array.isArray(value)) {
    for (const element of value) yield* xmlParts(name, element);
    return;
  }
  if (value === null || value === '') return yield `<${name}/>`;
  if (typeof value !== 'object') return yield `<${name}>${xmlScalar(value)}</${name}>`;
  const entries = Object.entries(value as Record<string, unknown>);
  const at = entries.find(([key, inner]) => key === '@' && isPlainObject(inner))?.[1];
  const open = `<${name}${at ? xmlAttributes(at as Record<string, unknown>) : ''}`;
  let opened = false;
  for (const [key, inner] of entries) {
    if (key === '@' && inner === at) continue;
    const parts =
      key !== '#'
        ? xmlParts(toXmlName(key), inner)
        : isPlainObject(inner)
          ? xmlChildren(inner as Record<string, unknown>)
          : [xmlScalar(inner ?? '')];
    for (const part of parts) {
      if (!part) continue;
      if (!opened) yield `${open}>`;
      opened = true;
      yield part;
    }
  }
  yield opened ? `</${name}>` : `${open}/>`;
}

function* xmlChildren(children: Record<string, unknown>): Generator<string> {
  for (const [child, inner] of Object.entries(children)) yield* xmlParts(toXmlName(child), inner);
}

const isPlainObject = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Items as `row` elements, one per line, in pieces of ~64 KB, the event loop let through between them. */
async function* xmlRows(items: readonly unknown[], row: string): AsyncGenerator<string> {
  let piece = '';
  for (const item of items) {
    for (const part of xmlParts(row, item)) {
      piece += part;
      if (piece.length < 1 << 16) continue;
      yield piece;
      piece = '';
      await new Promise((resolve) => setImmediate(resolve));
    }
    piece += '\n';
  }
  if (piece) yield piece;
}

// Loaded on the first export that needs it, not at start (ExcelJS alone is some 400 modules).
let exceljs: typeof ExcelJS | undefined;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const excel = () => (exceljs ??= require('exceljs') as typeof ExcelJS);

const xmlText = (name: string, text: string) => `<${name}>${xmlEscape(text)}</${name}>`;
/** A table cell, escaped by hand (an XML builder per cell cost ~10 µs: seconds per export). */
const htmlCell = (tag: 'td' | 'th', value: DatasetCell) =>
  `<${tag}>${value === null ? '' : xmlEscape(String(value))}</${tag}>`;

/** A row's cells in the columns' order: its own fields only (never `constructor` of Object). */
const cellsOf = (row: Row, columns: readonly string[]): DatasetCell[] =>
  columns.map((c) => (Object.hasOwn(row, c) ? row[c] : null));

/** Cells written between two turns of the event loop: 100 rows of 100 columns. */
const CELLS_PER_SLICE = 10_000;

/**
 * Table rows in slices of about CELLS_PER_SLICE cells (every row has every column), the event
 * loop let through between them: a wide chunk never holds the process (2,000 columns: 5 rows).
 */
async function* slicesOf<T>(rows: readonly T[], columns: number): AsyncGenerator<readonly T[]> {
  const size = Math.max(1, Math.floor(CELLS_PER_SLICE / Math.max(1, columns)));
  for (let at = 0; at < rows.length; at += size) {
    if (at) await new Promise((resolve) => setImmediate(resolve));
    yield rows.slice(at, at + size);
  }
}

/** CSV cells as Apify writes them: booleans as `true`/`false`, null and missing as empty. */
const csvCast = { boolean: (value: boolean) => String(value) };
/**
 * Cells quoted beyond csv-stringify's own rule (a delimiter, a quote, CR or LF): ones holding
 * another line break of Unicode's (VT, FF, U+001C–U+001E, U+0085, U+2028, U+2029), which readers
 * that split lines by Unicode (Python's `str.splitlines`, editors) would otherwise cut the row at.
 */
// eslint-disable-next-line no-control-regex -- the line breaks to quote
const CSV_QUOTED_MATCH = /[\v\f\u001C-\u001E\u0085\u2028\u2029]/;

/**
 * What an export reads before it answers — a table's columns (a pass over every item), or the
 * first chunk of items — so that a failure there (an item that unwinds too far) is the response's
 * error (400), not a 200 cut short.
 */
interface Start {
  columns?: string[];
  first?: DatasetItemsChunk;
}

const TABLE_FORMATS: ReadonlySet<DatasetItemFormat> = new Set(['csv', 'html', 'xlsx']);

async function startOf(
  rpc: RpcClient,
  id: string,
  range: Range,
  q: DatasetItemsQuery,
  signal?: AbortSignal,
): Promise<Start> {
  if (TABLE_FORMATS.has(q.format)) return { columns: await columnsOf(rpc, id, range, q, signal) };
  if (range.from >= range.to) return {};
  const transform = transformOf(q);
  return { first: await rpc.call(DatasetsRpc.readItems, { id, ...range, shape: 'items', transform }) };
}

/** Text formats: an async generator of strings, one per chunk, read on demand. */
async function* textExport(
  rpc: RpcClient,
  dataset: DatasetView,
  range: Range,
  q: DatasetItemsQuery,
  baseUrl: string,
  start: Start,
): AsyncGenerator<string> {
  const transform = transformOf(q);
  const bom = q.bom ?? q.format === 'csv';
  if (bom) yield BOM;
  switch (q.format) {
    case 'json': {
      let first = true;
      yield '[';
      for await (const { items = [] } of chunks(rpc, dataset.id, range, 'items', transform, start.first)) {
        if (!items.length) continue;
        yield (first ? '\n' : ',\n') + items.map((item) => JSON.stringify(item)).join(',\n');
        first = false;
      }
      yield first ? ']' : '\n]';
      return;
    }
    case 'jsonl':
      for await (const { items = [] } of chunks(rpc, dataset.id, range, 'items', transform, start.first)) {
        if (items.length) yield items.map((item) => `${JSON.stringify(item)}\n`).join('');
      }
      return;
    case 'xml':
    case 'rss': {
      const row = q.xmlRow ?? 'item';
      if (q.format === 'xml') {
        yield `<?xml version="1.0" encoding="UTF-8"?>\n<${q.xmlRoot ?? 'items'}>\n`;
      } else {
        const label = dataset.name ?? dataset.id;
        yield (
          '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>' +
          xmlText('title', q.feedTitle ?? `Dataset ${label}`) +
          xmlText('description', q.feedDescription ?? `Items in dataset with id "${dataset.id}".`) +
          xmlText('link', `${baseUrl}/v2/datasets/${dataset.id}/items?format=rss`) +
          '\n'
        );
      }
      for await (const { items = [] } of chunks(rpc, dataset.id, range, 'items', transform, start.first)) {
        yield* xmlRows(items, row);
      }
      yield q.format === 'xml' ? `</${q.xmlRoot ?? 'items'}>\n` : '</channel></rss>\n';
      return;
    }
    case 'csv': {
      const columns = start.columns ?? [];
      // Rows as arrays: csv-stringify reads a record's `columns` as paths (`a.b`) on the object.
      const options = {
        delimiter: q.delimiter ?? ',',
        cast: csvCast,
        eof: true,
        quoted_match: CSV_QUOTED_MATCH,
      };
      if (!q.skipHeaderRow && columns.length) yield stringifyCsv([columns], options);
      for await (const { items = [] } of chunks(rpc, dataset.id, range, 'table', transform)) {
        for await (const rows of slicesOf(items as Row[], columns.length))
          yield stringifyCsv(
            rows.map((r) => cellsOf(r, columns)),
            options,
          );
      }
      return;
    }
    case 'html': {
      const columns = start.columns ?? [];
      yield (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">' +
        xmlText('title', `Dataset ${dataset.name ?? dataset.id}`) +
        '</head><body><table>\n' +
        `<thead><tr>${columns.map((c) => htmlCell('th', c)).join('')}</tr></thead>\n<tbody>\n`
      );
      for await (const { items = [] } of chunks(rpc, dataset.id, range, 'table', transform)) {
        for await (const rows of slicesOf(items as Row[], columns.length))
          yield rows
            .map(
              (r) =>
                `<tr>${cellsOf(r, columns)
                  .map((cell) => htmlCell('td', cell))
                  .join('')}</tr>\n`,
            )
            .join('');
      }
      yield '</tbody></table></body></html>\n';
      return;
    }
    default:
      throw new Error(`${q.format} is not a text format`);
  }
}

/** A cell as a sheet's XML can hold it: what XML does not allow as U+FFFD (ExcelJS wrote U+FFFE as is, a file Excel "repairs", and dropped control characters). */
const xlsxCell = (cell: DatasetCell) =>
  typeof cell === 'string' ? cell.replace(NOT_XML_CHAR, '\uFFFD') : cell;

/**
 * XLSX with ExcelJS's streaming WorkbookWriter: each row is committed (written into the zip) as
 * it arrives, and the next chunk is asked for only once the response has drained what is
 * buffered, so a workbook is never held whole.
 */
function xlsxExport(
  rpc: RpcClient,
  dataset: DatasetView,
  range: Range,
  q: DatasetItemsQuery,
  columns: readonly string[],
  signal?: AbortSignal,
): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const write = async () => {
    const workbook = new (excel().stream.xlsx.WorkbookWriter)({
      stream: out,
      useStyles: false,
      useSharedStrings: false,
    });
    const sheet = workbook.addWorksheet('Dataset');
    if (!q.skipHeaderRow && columns.length) sheet.addRow(columns.map(xlsxCell)).commit();
    for await (const { items = [] } of chunks(
      rpc,
      dataset.id,
      range,
      'table',
      transformOf(q),
      undefined,
      signal,
    )) {
      // In slices, as the text tables: thousands of unwound rows of 2,000 columns each held the process.
      for await (const rows of slicesOf(items as Row[], columns.length)) {
        signal?.throwIfAborted();
        for (const r of rows) sheet.addRow(cellsOf(r, columns).map(xlsxCell)).commit();
      }
      // Let the zip stream hand what the rows made to `out`, then wait for the client to take it.
      await new Promise((resolve) => setImmediate(resolve));
      if (out.writableNeedDrain) await once(out, 'drain');
    }
    sheet.commit();
    await workbook.commit();
  };
  write().catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
  return out;
}

/**
 * The response to `GET /v2/datasets/:id/items` in any format: its headers and a body that
 * streams the items from the resources service as the client reads.
 */
export async function exportDatasetItems(
  rpc: RpcClient,
  dataset: DatasetView,
  q: DatasetItemsQuery,
  baseUrl: string,
  /** Aborted when the client goes: the export stops reading. */
  signal?: AbortSignal,
): Promise<DatasetItemsExport> {
  const { range, headers } = rangeOf(dataset.itemCount, q);
  const start = await startOf(rpc, dataset.id, range, q, signal);
  headers['content-type'] = CONTENT_TYPES[q.format];
  if (q.attachment) {
    headers['content-disposition'] =
      `attachment; filename="dataset_${dataset.name ?? dataset.id}.${q.format}"`;
  }
  const body =
    q.format === 'xlsx'
      ? xlsxExport(rpc, dataset, range, q, start.columns ?? [], signal)
      : Readable.from(textExport(rpc, dataset, range, q, baseUrl, start), {
          objectMode: false,
          highWaterMark: 1 << 16,
        });
  return { headers, body };
}
