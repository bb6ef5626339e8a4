import { SingleBar } from 'cli-progress';
import { createWriteStream, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, EXIT } from './output';
import { readStdin } from './prompt';

/** A file's bytes, or stdin's for `-` (or no file); one that cannot be read is a usage error naming it. */
export async function readInput(file: string | undefined, argument = 'Argument file'): Promise<Buffer> {
  if (file === undefined || file === '-') return readStdin();
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`${argument}: cannot read ${file} (${code ?? (err as Error).message})`, EXIT.USAGE);
  }
}

/** Items from a JSON file (one object or an array of them) or from JSON lines (one object per line). */
export function parseItems(bytes: Buffer, name: string): Record<string, unknown>[] {
  const text = bytes.toString('utf8').replace(/^\ufeff/, '');
  if (!text.trim()) throw new CliError(`Argument file: ${name} holds no items`, EXIT.USAGE);
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  let whole: unknown;
  try {
    whole = JSON.parse(text);
  } catch {
    whole = undefined;
  }
  if (whole !== undefined) {
    const items = Array.isArray(whole) ? whole : [whole];
    const bad = items.findIndex((item) => !isObject(item));
    if (bad >= 0)
      throw new CliError(`Argument file: item ${bad + 1} of ${name} is not a JSON object`, EXIT.USAGE);
    return items as Record<string, unknown>[];
  }
  const items: Record<string, unknown>[] = [];
  const lines = text.split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (!line.trim()) continue;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch (err) {
      throw new CliError(
        `Argument file: ${name} is neither JSON nor JSON lines (line ${index + 1}: ${(err as Error).message})`,
        EXIT.USAGE,
      );
    }
    if (!isObject(item))
      throw new CliError(`Argument file: line ${index + 1} of ${name} is not a JSON object`, EXIT.USAGE);
    items.push(item);
  }
  return items;
}

/** Batches of items whose JSON stays well under the API's body limit. */
export function* batches<T>(items: T[], maxItems = 1000, maxBytes = 4 * 1024 * 1024): Generator<T[]> {
  let batch: T[] = [];
  let bytes = 2;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (batch.length > 0 && (batch.length >= maxItems || bytes + size > maxBytes)) {
      yield batch;
      batch = [];
      bytes = 2;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.svg': 'image/svg+xml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
};

/** A record's content type from its file's extension (`application/octet-stream` when unknown). */
export function contentTypeOf(file: string | undefined): string {
  return (file && CONTENT_TYPES[extname(file).toLowerCase()]) || 'application/octet-stream';
}

/**
 * Streams a download to a file or stdout. On a terminal, a transfer that lasts more than a moment
 * shows a progress bar on stderr (never on stdout, which may be the data itself): over items when
 * each is a line (`totalLines`: the API's JSON, JSON lines, CSV and XML exports are), else over bytes.
 */
export async function download(
  body: ReadableStream<Uint8Array>,
  to: string | undefined,
  {
    totalBytes,
    totalLines,
    label,
    progressTo = process.stderr,
  }: { totalBytes?: number; totalLines?: number; label: string; progressTo?: NodeJS.WriteStream },
): Promise<number> {
  let bytes = 0;
  let lines = 0;
  let bar: SingleBar | undefined;
  const started = Date.now();
  const showProgress = !!progressTo.isTTY;
  const kb = (n: number) => Math.round(n / 1024);
  const progress = () => (totalLines ? Math.min(lines, totalLines) : kb(bytes));
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (totalLines) for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
      if (showProgress && !bar && Date.now() - started > 500) {
        const [total, unit] = totalLines ? [totalLines, 'items'] : [totalBytes ? kb(totalBytes) : 0, 'kB'];
        bar = new SingleBar({
          stream: progressTo,
          format: total
            ? `${label} |{bar}| {percentage}% {value}/{total} ${unit}`
            : `${label} {value} ${unit}`,
          hideCursor: true,
        });
        bar.start(total, progress());
      }
      bar?.update(progress());
      done(null, chunk);
    },
  });
  const destination = to && to !== '-' ? createWriteStream(to) : process.stdout;
  try {
    await pipeline(
      Readable.fromWeb(body as Parameters<typeof Readable.fromWeb>[0]),
      counter,
      destination,
      // stdout stays open for whatever follows.
      { end: destination !== process.stdout },
    );
    bar?.update(totalLines ?? progress());
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (to && code && ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EROFS'].includes(code))
      throw new CliError(`Option --output: cannot write ${to} (${code})`, EXIT.USAGE);
    throw err;
  } finally {
    bar?.stop();
  }
  return bytes;
}
