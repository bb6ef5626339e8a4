import type { AuditEntryView } from '@atrium/contracts';
import { ID_PATTERN } from '@atrium/contracts';
import { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { call, Cli, connect } from '../api';
import { CliError, EXIT, printJson, printTable } from '../output';
import { parseExpiry, resourceId, resourceType, usernames } from '../resources';
import { examples, pageSize } from './help';

interface AuditOptions {
  resource?: string;
  from?: string;
  to?: string;
  limit: number;
  follow?: boolean;
  interval: string;
}

type Query = {
  resourceId?: string;
  accountId?: string;
  from?: string;
  to?: string;
  limit: number;
  cursor?: string;
};

/** `--resource` takes an id, or `<type>:<id or username~name>`. */
async function auditedResource(cli: Cli, value: string): Promise<string> {
  if (ID_PATTERN.test(value)) return value;
  const at = value.indexOf(':');
  if (at <= 0)
    throw new CliError(
      `Option --resource: "${value}" is neither an id nor <type>:<resource> (e.g. dataset:alice~results)`,
      EXIT.USAGE,
    );
  let rt: ReturnType<typeof resourceType>;
  try {
    rt = resourceType(value.slice(0, at));
  } catch (err) {
    throw new CliError((err as Error).message.replace(/^Argument type/, 'Option --resource'), EXIT.USAGE);
  }
  return resourceId(cli, rt, value.slice(at + 1));
}

/** A time option: an ISO date, or a duration meaning that long ago (`1h`: an hour ago). */
function since(value: string, option: string): string {
  if (/^\d+\s*[smhdw]$/i.test(value.trim())) {
    const ahead = Date.parse(parseExpiry(value, option, 0));
    return new Date(Date.now() - ahead).toISOString();
  }
  const at = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(at))
    throw new CliError(
      `Option ${option}: "${value}" is not an ISO date or a duration (e.g. 1h, 7d)`,
      EXIT.USAGE,
    );
  return new Date(at).toISOString();
}

async function page(cli: Cli, query: Query) {
  return (await call(cli.api.GET('/v2/audit-log', { params: { query } }), cli.url)).data;
}

/** What a change made, in a few words: permissions granted, the fields that changed, … */
function detail(entry: AuditEntryView): string {
  // Role bindings read as `target=PERMISSION+…`; other objects as compact JSON, never `[object Object]`.
  const text = (v: unknown): string => {
    if (Array.isArray(v)) return v.length ? v.map(text).join(',') : '(none)';
    if (typeof v !== 'object' || v === null) return String(v);
    const o = v as Record<string, unknown>;
    if (typeof o.target === 'string' && Array.isArray(o.permissions))
      return `${o.target}=${o.permissions.join('+')}`;
    return JSON.stringify(v);
  };
  const fields = (v: unknown) =>
    typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  const before = fields(entry.before);
  const after = fields(entry.after);
  if (after && Array.isArray(after.permissions) && !before) return after.permissions.join(',');
  if (before && Array.isArray(before.permissions) && !after) return `was ${before.permissions.join(',')}`;
  if (before && after) {
    const changed = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
      (key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]),
    );
    return changed
      .map((key) => `${key}: ${text(before[key] ?? '-')} → ${text(after[key] ?? '-')}`)
      .join('; ');
  }
  const one = after ?? before;
  if (one)
    return Object.entries(one)
      .filter(([key, value]) => value !== null && typeof value !== 'object' && !/Id$/.test(key))
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(' ');
  const value = entry.after ?? entry.before;
  return value === null || value === undefined ? '' : String(value);
}

/** `--follow`'s column widths (all but DETAIL): rows printed later line up under the header. */
const FOLLOW_WIDTHS = [24, 22, 16, 16, 36];

async function print(
  cli: Cli,
  entries: AuditEntryView[],
  { header, follow = false }: { header: boolean; follow?: boolean },
) {
  if (cli.json) {
    for (const entry of entries) process.stdout.write(JSON.stringify(entry) + '\n');
    return;
  }
  const names = await usernames(
    cli,
    entries.flatMap((e) => [e.actorId, e.subjectId].filter((id): id is string => !!id)),
  );
  const name = (id: string | null) => (id ? (names.get(id) ?? id) : '');
  const columns: [string, (e: AuditEntryView) => unknown][] = [
    ['TIME', (e) => e.occurredAt],
    ['ACTION', (e) => e.action],
    ['BY', (e) => name(e.actorId)],
    ['USER', (e) => name(e.subjectId)],
    ['RESOURCE', (e) => (e.resourceId ? `${(e.resourceType ?? '').toLowerCase()} ${e.resourceId}` : '')],
    ['DETAIL', (e) => detail(e)],
  ];
  if (follow && header && entries.length === 0)
    process.stdout.write(
      columns
        .map(([h], i) => h.padEnd(FOLLOW_WIDTHS[i] ?? 0))
        .join('  ')
        .trimEnd() + '\n',
    );
  else printTable(entries, columns, { header, widths: follow ? FOLLOW_WIDTHS : undefined });
}

async function audit(options: AuditOptions, command: Command) {
  const { limit } = options;
  const interval = Number(options.interval);
  if (!(interval >= 0.2 && interval <= 3600))
    throw new CliError(
      `Option --interval: "${options.interval}" is not a number of seconds (0.2 to 3600)`,
      EXIT.USAGE,
    );
  const from = options.from === undefined ? undefined : since(options.from, '--from');
  const to = options.to === undefined ? undefined : since(options.to, '--to');
  const cli = await connect(command);
  const filter: Query = { limit, from, to };
  if (options.resource) filter.resourceId = await auditedResource(cli, options.resource);
  // The account's log: the organization acted as, else mine.
  else filter.accountId = cli.accountId ?? (await call(cli.api.GET('/v2/users/me'), cli.url)).data.id;

  const first = await page(cli, filter);
  if (!options.follow) {
    if (cli.json) return printJson(first);
    return print(cli, [...first.items].reverse() as AuditEntryView[], { header: true });
  }
  // Oldest first on a terminal that keeps scrolling; then only what is newer than the last one shown.
  await print(cli, [...first.items].reverse() as AuditEntryView[], { header: true, follow: true });
  let last = first.items.length ? BigInt(first.items[0].id) : 0n;
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  for (;;) {
    try {
      await sleep(interval * 1000, undefined, { signal: stop.signal });
    } catch {
      throw new CliError('Interrupted', EXIT.ABORTED);
    }
    const fresh: AuditEntryView[] = [];
    let cursor: string | undefined;
    for (;;) {
      const next = await page(cli, { ...filter, from: undefined, limit: 100, cursor });
      const newer = (next.items as AuditEntryView[]).filter((e) => BigInt(e.id) > last);
      fresh.push(...newer);
      if (newer.length < next.items.length || !next.nextCursor) break;
      cursor = next.nextCursor;
    }
    if (fresh.length === 0) continue;
    last = BigInt(fresh[0].id);
    await print(cli, fresh.reverse(), { header: false, follow: true });
  }
}

export function registerAuditCommands(program: Command): void {
  examples(
    program
      .command('audit')
      .description(
        "changes of access and denials: your account's, an organization's (--account) or a resource's",
      )
      .option('--resource <resource>', 'one resource: its id, or <type>:<id or username~name>')
      .option('--from <when>', 'since: an ISO date, or a duration ago (1h, 7d)')
      .option('--to <when>', 'until: an ISO date, or a duration ago')
      .option('--limit <n>', 'how many of the newest entries (1 to 1000)', pageSize, 50)
      .option('-F, --follow', 'keep printing new entries as they come (Ctrl+C stops)')
      .option('--interval <seconds>', 'how often --follow asks', '2')
      .action(audit),
    'atrium audit',
    'atrium audit --resource dataset:alice~results --from 7d',
    'atrium audit --account acme --follow --json',
  );
}
