import { Command, Option } from 'commander';
import { apiError, call, Cli, connect, unreachable } from '../api';
import { batches, contentTypeOf, download, parseItems, readInput } from '../files';
import { printFields, printJson, printTable } from '../output';
import { examples, pageSize } from './help';

const DATASET_FORMATS = ['json', 'jsonl', 'csv', 'xlsx', 'xml', 'html', 'rss'] as const;
const LINE_FORMATS = new Set<string>(['json', 'jsonl', 'csv', 'xml']);

interface ListOptions {
  shared?: boolean;
  unnamed?: boolean;
  limit: number;
}

function listQuery(options: ListOptions) {
  return {
    limit: options.limit,
    desc: '1' as const,
    ...(options.shared ? { ownership: 'sharedWithMe' as const } : {}),
    ...(options.unnamed ? { unnamed: '1' as const } : {}),
  };
}

const listOptions = (command: Command) =>
  command
    .option('--shared', 'the ones shared with you (not those of the account you act as)')
    .option(
      '--unnamed',
      "also the unnamed ones (runs' default storages), as apify-client's { unnamed: true }",
    )
    .option('--limit <n>', 'how many, newest first (1 to 1000)', pageSize, 100);

interface StorageRow {
  id: string;
  name: string | null;
  userId: string;
  modifiedAt: string;
  generalAccess: string;
}

const storageColumns = <R extends StorageRow>(count: [string, (row: R) => unknown]) =>
  [
    ['ID', (r: R) => r.id],
    ['NAME', (r: R) => r.name ?? '(unnamed)'],
    count,
    ['MODIFIED', (r: R) => r.modifiedAt],
    ['GENERAL ACCESS', (r: R) => r.generalAccess],
  ] as [string, (row: R) => unknown][];

/** `key: value` lines of a storage's fields (secrets left out: they are for `--json`). */
function printStorage(view: Record<string, unknown>) {
  printFields(
    Object.entries(view).filter(
      ([key, value]) => key !== 'urlSigningSecretKey' && (typeof value !== 'object' || value === null),
    ),
  );
}

type StorageKind = 'dataset' | 'key-value store' | 'request queue';

/** `create <name>`: get-or-create by name in the account acted as (POST ?name=), printed as `actors create` does. */
function createCommand(
  parent: Command,
  kind: StorageKind,
  create: (cli: Cli, name: string) => Promise<{ id: string; name: string | null }>,
) {
  return parent
    .command('create')
    .argument('<name>', `the ${kind}'s name (an existing one of that name is answered instead)`)
    .description(`create a named ${kind} in the account you act as`)
    .action(async (name: string, _options: unknown, command: Command) => {
      const cli = await connect(command);
      const storage = await create(cli, name);
      if (cli.json) return printJson(storage);
      cli.accountUsername ??= (await call(cli.api.GET('/v2/users/me'), cli.url)).data.username;
      process.stdout.write(
        `Created ${kind} ${cli.accountUsername}~${storage.name ?? name} (${storage.id})\n`,
      );
    });
}

function registerDatasets(program: Command) {
  const datasets = examples(
    program.command('datasets').description('datasets: list, create, read, push items, export'),
    'atrium datasets ls',
    'atrium datasets export alice~results --format csv -o results.csv',
  );
  examples(
    listOptions(datasets.command('ls'))
      .description('list datasets of the account you act as')
      .action(async (options: ListOptions, command: Command) => {
        const query = listQuery(options);
        const cli = await connect(command);
        const page = (await call(cli.api.GET('/v2/datasets', { params: { query } }), cli.url)).data;
        if (cli.json) return printJson(page);
        printTable(page.items, storageColumns(['ITEMS', (d) => d.itemCount]));
      }),
    'atrium datasets ls',
    'atrium datasets ls --account my-org --json',
    'atrium datasets ls --unnamed   # also the datasets of runs',
  );
  examples(
    datasets
      .command('get')
      .argument('<dataset>', 'id or username~name')
      .description("a dataset's details")
      .action(async (ref: string, _options: unknown, command: Command) => {
        const cli = await connect(command);
        const dataset = (
          await call(
            cli.api.GET('/v2/datasets/{datasetId}', { params: { path: { datasetId: ref } } }),
            cli.url,
          )
        ).data;
        if (cli.json) return printJson(dataset);
        printStorage(dataset);
      }),
    'atrium datasets get alice~results',
  );
  examples(
    createCommand(
      datasets,
      'dataset',
      async (cli, name) =>
        (await call(cli.api.POST('/v2/datasets', { params: { query: { name } } }), cli.url)).data,
    ),
    'atrium datasets create results',
  );
  examples(
    datasets
      .command('push')
      .argument('<dataset>', 'id or username~name')
      .argument('[file]', 'a JSON file (an object or an array of objects) or JSON lines; - or none: stdin')
      .description('append items to a dataset')
      .action(async (ref: string, file: string | undefined, _options: unknown, command: Command) => {
        const items = parseItems(await readInput(file), file && file !== '-' ? file : 'stdin');
        const cli = await connect(command);
        let pushed = 0;
        for (const batch of batches(items)) {
          await call(
            cli.api.POST('/v2/datasets/{datasetId}/items', {
              params: { path: { datasetId: ref } },
              body: batch,
            }),
            cli.url,
          );
          pushed += batch.length;
        }
        if (cli.json) return printJson({ datasetId: ref, pushed });
        process.stdout.write(`Pushed ${pushed} item${pushed === 1 ? '' : 's'} to dataset ${ref}\n`);
      }),
    'atrium datasets push alice~results items.json',
    'cat items.jsonl | atrium datasets push XbP1sM7yH2kL9qR4t',
  );
  examples(
    datasets
      .command('export')
      .argument('<dataset>', 'id or username~name')
      .description("a dataset's items in one of the API's formats, to a file or stdout")
      .addOption(new Option('-f, --format <format>', 'the format').choices(DATASET_FORMATS).default('json'))
      .option('-o, --output <file>', 'write to this file (default: stdout)')
      .option('--fields <list>', 'only these fields, comma-separated')
      .option('--omit <list>', 'leave these fields out, comma-separated')
      .option('--clean', 'skip hidden fields and empty items')
      .option('--unwind <list>', 'one item per element of these array (or object) fields, comma-separated')
      .option('--flatten <list>', 'nested objects of these fields as dotted keys (a.b), comma-separated')
      .option('--desc', 'newest items first')
      .option('--delimiter <character>', 'the CSV delimiter (default ,; "\\t" for tab)')
      .option('--no-bom', 'no byte order mark at the start (CSV has one by default)')
      .option('--skip-header-row', 'no header row (CSV)')
      .action(
        async (
          ref: string,
          options: {
            format: (typeof DATASET_FORMATS)[number];
            output?: string;
            fields?: string;
            omit?: string;
            clean?: boolean;
            unwind?: string;
            flatten?: string;
            desc?: boolean;
            delimiter?: string;
            bom: boolean;
            skipHeaderRow?: boolean;
          },
          command: Command,
        ) => {
          const cli = await connect(command);
          const request = cli.api.GET('/v2/datasets/{datasetId}/items', {
            params: {
              path: { datasetId: ref },
              query: {
                format: options.format,
                fields: options.fields,
                omit: options.omit,
                unwind: options.unwind,
                flatten: options.flatten,
                delimiter: options.delimiter === '\\t' ? '\t' : options.delimiter,
                ...(options.clean ? { clean: '1' as const } : {}),
                ...(options.desc ? { desc: '1' as const } : {}),
                ...(options.bom ? {} : { bom: '0' as const }),
                ...(options.skipHeaderRow ? { skipHeaderRow: '1' as const } : {}),
              },
            },
            parseAs: 'stream',
          });
          const { data, error, response } = await request.catch((err: unknown) => {
            throw unreachable(cli.url, err);
          });
          if (!response.ok || !data) throw apiError(response.status, error, true, response.url);
          const length = Number(response.headers.get('content-length'));
          const count = Number(response.headers.get('x-apify-pagination-count'));
          await download(data, options.output, {
            label: `Exporting dataset ${ref}`,
            totalBytes: Number.isFinite(length) && length > 0 ? length : undefined,
            // One item a line in these formats (a CSV value with a line break counts twice, at worst).
            totalLines: LINE_FORMATS.has(options.format) && count > 0 ? count : undefined,
          });
          if (options.output && options.output !== '-' && !cli.json)
            process.stderr.write(`Exported dataset ${ref} as ${options.format} to ${options.output}\n`);
        },
      ),
    'atrium datasets export alice~results --format csv -o results.csv',
    "atrium datasets export alice~results --format csv --delimiter ';' --no-bom --unwind tags",
    'atrium datasets export XbP1sM7yH2kL9qR4t --format jsonl | jq .url',
  );
}

function registerKeyValueStores(program: Command) {
  const kvs = examples(
    program
      .command('kvs')
      .alias('key-value-stores')
      .description('key-value stores: list, create, keys, read and write records'),
    'atrium kvs keys alice~crawl-state',
    'atrium kvs get alice~crawl-state INPUT',
  );
  examples(
    listOptions(kvs.command('ls'))
      .description('list key-value stores of the account you act as')
      .action(async (options: ListOptions, command: Command) => {
        const query = listQuery(options);
        const cli = await connect(command);
        const page = (await call(cli.api.GET('/v2/key-value-stores', { params: { query } }), cli.url)).data;
        if (cli.json) return printJson(page);
        printTable(page.items as StorageRow[], storageColumns(['USER', (s) => s.userId]));
      }),
    'atrium kvs ls',
    'atrium kvs ls --unnamed',
  );
  examples(
    createCommand(
      kvs,
      'key-value store',
      async (cli, name) =>
        (await call(cli.api.POST('/v2/key-value-stores', { params: { query: { name } } }), cli.url)).data,
    ),
    'atrium kvs create crawl-state',
  );
  examples(
    kvs
      .command('keys')
      .argument('<store>', 'id or username~name')
      .option('--prefix <prefix>', 'only keys starting with this')
      .description("a store's keys and record sizes")
      .action(async (ref: string, options: { prefix?: string }, command: Command) => {
        const cli = await connect(command);
        const items: { key: string; size: number }[] = [];
        let exclusiveStartKey: string | undefined;
        do {
          const page = (
            await call(
              cli.api.GET('/v2/key-value-stores/{storeId}/keys', {
                params: {
                  path: { storeId: ref },
                  query: { limit: 1000, prefix: options.prefix, exclusiveStartKey },
                },
              }),
              cli.url,
            )
          ).data;
          items.push(...page.items);
          exclusiveStartKey = page.isTruncated ? (page.nextExclusiveStartKey ?? undefined) : undefined;
        } while (exclusiveStartKey);
        if (cli.json) return printJson(items);
        printTable(items, [
          ['KEY', (k) => k.key],
          ['SIZE', (k) => k.size],
        ]);
      }),
    'atrium kvs keys alice~crawl-state',
  );
  examples(
    kvs
      .command('get')
      .argument('<store>', 'id or username~name')
      .argument('<key>', "the record's key")
      .option('-o, --output <file>', 'write to this file (default: stdout)')
      .description('a record, byte for byte, to stdout or a file')
      .action(async (ref: string, key: string, options: { output?: string }, command: Command) => {
        const cli = await connect(command);
        const { data, error, response } = await cli.api
          .GET('/v2/key-value-stores/{storeId}/records/{recordKey}', {
            params: { path: { storeId: ref, recordKey: key } },
            parseAs: 'stream',
          })
          .catch((err: unknown) => {
            throw unreachable(cli.url, err);
          });
        if (!response.ok || !data) throw apiError(response.status, error, true, response.url);
        const length = Number(response.headers.get('content-length'));
        await download(data, options.output, {
          label: `Downloading ${key}`,
          totalBytes: Number.isFinite(length) && length > 0 ? length : undefined,
        });
      }),
    'atrium kvs get alice~crawl-state INPUT',
    'atrium kvs get XbP1sM7yH2kL9qR4t screenshot -o screenshot.png',
  );
  examples(
    kvs
      .command('set')
      .argument('<store>', 'id or username~name')
      .argument('<key>', "the record's key")
      .argument('[file]', 'the content; - or none: stdin')
      .option('--content-type <type>', "the record's content type (default: from the file's extension)")
      .description('write a record from a file or stdin')
      .action(
        async (
          ref: string,
          key: string,
          file: string | undefined,
          options: { contentType?: string },
          command: Command,
        ) => {
          const bytes = await readInput(file);
          const cli = await connect(command);
          await call(
            cli.api.PUT('/v2/key-value-stores/{storeId}/records/{recordKey}', {
              params: { path: { storeId: ref, recordKey: key } },
              body: bytes,
              bodySerializer: (body: unknown) => body as Buffer,
              headers: { 'content-type': options.contentType ?? contentTypeOf(file) },
            }),
            cli.url,
          );
          if (cli.json) return printJson({ storeId: ref, key, size: bytes.length });
          process.stdout.write(`Stored ${bytes.length} bytes as ${key} in key-value store ${ref}\n`);
        },
      ),
    'atrium kvs set alice~crawl-state INPUT input.json',
    'atrium kvs set XbP1sM7yH2kL9qR4t logo logo.png',
    'echo hello | atrium kvs set XbP1sM7yH2kL9qR4t greeting --content-type text/plain',
  );
}

function registerRequestQueues(program: Command) {
  const queues = examples(
    program
      .command('queues')
      .alias('request-queues')
      .description('request queues: list, create, details, the head'),
    'atrium queues ls',
    'atrium queues head alice~to-crawl',
  );
  examples(
    listOptions(queues.command('ls'))
      .description('list request queues of the account you act as')
      .action(async (options: ListOptions, command: Command) => {
        const query = listQuery(options);
        const cli = await connect(command);
        const page = (await call(cli.api.GET('/v2/request-queues', { params: { query } }), cli.url)).data;
        if (cli.json) return printJson(page);
        printTable(
          page.items as (StorageRow & { pendingRequestCount?: number })[],
          storageColumns(['PENDING', (q) => q.pendingRequestCount]),
        );
      }),
    'atrium queues ls',
    'atrium queues ls --unnamed',
  );
  examples(
    createCommand(
      queues,
      'request queue',
      async (cli, name) =>
        (await call(cli.api.POST('/v2/request-queues', { params: { query: { name } } }), cli.url)).data,
    ),
    'atrium queues create to-crawl',
  );
  examples(
    queues
      .command('get')
      .argument('<queue>', 'id or username~name')
      .description("a request queue's details")
      .action(async (ref: string, _options: unknown, command: Command) => {
        const cli = await connect(command);
        const queue = (
          await call(
            cli.api.GET('/v2/request-queues/{queueId}', { params: { path: { queueId: ref } } }),
            cli.url,
          )
        ).data;
        if (cli.json) return printJson(queue);
        printStorage(queue as Record<string, unknown>);
      }),
    'atrium queues get alice~to-crawl',
  );
  examples(
    queues
      .command('head')
      .argument('<queue>', 'id or username~name')
      .option('--limit <n>', 'how many requests (1 to 1000)', pageSize, 20)
      .description('the first pending requests of a queue')
      .action(async (ref: string, { limit }: { limit: number }, command: Command) => {
        const cli = await connect(command);
        const head = (
          await call(
            cli.api.GET('/v2/request-queues/{queueId}/head', {
              params: { path: { queueId: ref }, query: { limit } },
            }),
            cli.url,
          )
        ).data as { items?: { id: string; method?: string; url: string; uniqueKey?: string }[] };
        if (cli.json) return printJson(head);
        printTable(head.items ?? [], [
          ['ID', (r) => r.id],
          ['METHOD', (r) => r.method ?? 'GET'],
          ['URL', (r) => r.url],
        ]);
      }),
    'atrium queues head alice~to-crawl --limit 5',
  );
}

export function registerStorageCommands(program: Command): void {
  registerDatasets(program);
  registerKeyValueStores(program);
  registerRequestQueues(program);
}
