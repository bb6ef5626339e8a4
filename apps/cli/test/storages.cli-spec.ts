import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_PASSWORD } from '@atrium/testing';
import { SignedUpUser, signUpEach, startListeningTestStack, TestStack } from '../../atrium/test/test-stack';
import { cliUser, CliUser } from './cli-harness';

describe('atrium datasets, kvs, queues (the CLI as a subprocess)', () => {
  let t: TestStack & { baseUrl: string };
  let alice: SignedUpUser;
  let cli: CliUser;
  let datasetId: string;
  const file = (name: string) => join(cli.configDir, name);

  beforeAll(async () => {
    t = await startListeningTestStack();
    [alice] = await signUpEach(t, 'alice');
    cli = cliUser();
    const login = await cli(['login', t.baseUrl, '--user', alice.username, '--password-stdin'], {
      input: `${TEST_PASSWORD}\n`,
    });
    expect(login.code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    cli?.cleanup();
    await t?.close();
  });

  const items = [
    { url: 'https://example.com/a', title: 'A, with a comma', price: 10 },
    { url: 'https://example.com/b', title: 'B "quoted"', price: 20.5 },
  ];
  const more = [{ url: 'https://example.com/c', title: 'C', price: 0 }];

  it('creates a dataset, pushes a JSON file and JSON lines from stdin, and lists it', async () => {
    const created = await cli(['datasets', 'create', 'products']);
    expect(created.code).toBe(0);
    const said = /^Created dataset (\S+) \((\w+)\)\n$/.exec(created.stdout);
    expect(said?.[1]).toBe(`${alice.username}~products`);
    datasetId = said?.[2] ?? '';
    // Get-or-create: the same name answers the same dataset; --json prints the object.
    expect(JSON.parse((await cli(['datasets', 'create', 'products', '--json'])).stdout)).toMatchObject({
      id: datasetId,
      name: 'products',
    });
    writeFileSync(file('items.json'), JSON.stringify(items));
    const push = await cli(['datasets', 'push', `${alice.username}~products`, file('items.json')]);
    expect(push.stderr).toBe('');
    expect(push.stdout).toBe(`Pushed 2 items to dataset ${alice.username}~products\n`);
    const fromStdin = await cli(['datasets', 'push', datasetId, '--json'], {
      input: more.map((item) => JSON.stringify(item)).join('\n') + '\n',
    });
    expect(JSON.parse(fromStdin.stdout)).toEqual({ datasetId, pushed: 1 });

    const ls = await cli(['datasets', 'ls']);
    expect(ls.stdout).toMatch(new RegExp(`^${datasetId} +products +3 `, 'm'));
    const get = JSON.parse((await cli(['datasets', 'get', datasetId, '--json'])).stdout);
    expect(get).toMatchObject({ id: datasetId, name: 'products', itemCount: 3 });

    // --unnamed also lists unnamed datasets (those of runs), as apify-client's { unnamed: true }.
    const unnamed = await t.http().post('/v2/datasets').set(alice.auth).expect(201);
    const unnamedId = unnamed.body.data.id as string;
    expect((await cli(['datasets', 'ls'])).stdout).not.toContain(unnamedId);
    const all = await cli(['datasets', 'ls', '--unnamed']);
    expect(all.stdout).toMatch(new RegExp(`^${unnamedId} +\\(unnamed\\) `, 'm'));
    expect(all.stdout).toMatch(new RegExp(`^${datasetId} +products `, 'm'));
  });

  it('exports as JSON (round trip), CSV to a file and JSON lines to stdout, with no progress bar off a terminal', async () => {
    const json = await cli(['datasets', 'export', datasetId]);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toEqual([...items, ...more]);

    const csv = await cli(['datasets', 'export', datasetId, '--format', 'csv', '-o', file('items.csv')]);
    expect(csv.code).toBe(0);
    expect(csv.stdout).toBe('');
    expect(csv.stderr).toBe(`Exported dataset ${datasetId} as csv to ${file('items.csv')}\n`);
    const lines = readFileSync(file('items.csv'), 'utf8')
      .replace(/^\ufeff/, '')
      .trim()
      .split(/\r?\n/);
    expect(lines).toEqual([
      'url,title,price',
      'https://example.com/a,"A, with a comma",10',
      'https://example.com/b,"B ""quoted""",20.5',
      'https://example.com/c,C,0',
    ]);

    const jsonl = await cli(['datasets', 'export', datasetId, '--format', 'jsonl', '--fields', 'url']);
    expect(
      jsonl.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([...items, ...more].map(({ url }) => ({ url })));

    // The API's CSV options: delimiter (\t for tab), no BOM, no header row, newest first.
    const options = await cli([
      'datasets',
      'export',
      datasetId,
      '--format',
      'csv',
      '--delimiter',
      ';',
      '--no-bom',
      '--skip-header-row',
      '--desc',
      '--fields',
      'url,price',
    ]);
    expect(options.code).toBe(0);
    expect(options.stdout).toBe(
      'https://example.com/c;0\nhttps://example.com/b;20.5\nhttps://example.com/a;10\n',
    );
    const tab = await cli([
      'datasets',
      'export',
      datasetId,
      '--format',
      'csv',
      '--delimiter',
      '\\t',
      '--no-bom',
    ]);
    expect(tab.stdout.split('\n')[0]).toBe('url\ttitle\tprice');
    const bad = await cli(['datasets', 'export', datasetId, '--format', 'csv', '--delimiter', '"']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/delimiter/);
  });

  it('exports with unwind and flatten', async () => {
    const set = JSON.parse((await cli(['datasets', 'create', 'nested', '--json'])).stdout) as {
      id: string;
    };
    writeFileSync(file('nested.json'), JSON.stringify([{ n: 1, tags: ['a', 'b'], geo: { lat: 1, lng: 2 } }]));
    expect((await cli(['datasets', 'push', set.id, file('nested.json')])).code).toBe(0);
    const out = await cli([
      'datasets',
      'export',
      set.id,
      '--format',
      'jsonl',
      '--unwind',
      'tags',
      '--flatten',
      'geo',
    ]);
    expect(
      out.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line)),
    ).toEqual([
      { n: 1, tags: 'a', 'geo.lat': 1, 'geo.lng': 2 },
      { n: 1, tags: 'b', 'geo.lat': 1, 'geo.lng': 2 },
    ]);
  });

  it('bad items and formats: one line naming the argument or option, exit 2', async () => {
    writeFileSync(file('broken.jsonl'), '{"a":1}\n{"b":\n');
    const broken = await cli(['datasets', 'push', datasetId, file('broken.jsonl')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(
      /^atrium: Argument file: .*broken\.jsonl is neither JSON nor JSON lines \(line 2: /,
    );
    expect(broken.stderr.trimEnd().split('\n')).toHaveLength(1);
    writeFileSync(file('numbers.json'), '[1, 2]');
    const numbers = await cli(['datasets', 'push', datasetId, file('numbers.json')]);
    expect(numbers.code).toBe(2);
    expect(numbers.stderr).toMatch(/Argument file: item 1 of .*numbers\.json is not a JSON object/);
    const format = await cli(['datasets', 'export', datasetId, '--format', 'pdf']);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/option '-f, --format <format>' argument 'pdf' is invalid/);
    // Nothing half-applied: the dataset still holds its 3 items.
    expect(JSON.parse((await cli(['datasets', 'get', datasetId, '--json'])).stdout).itemCount).toBe(3);
  });

  it('a dataset named "." or "..": refused, not sent as another path (/v2/datasets/../items is /v2/items)', async () => {
    writeFileSync(file('one.json'), '[{"a": 1}]');
    for (const ref of ['..', '.']) {
      for (const args of [
        ['datasets', 'export', ref],
        ['datasets', 'push', ref, file('one.json')],
      ]) {
        const refused = await cli(args);
        expect(refused.code).toBe(2);
        expect(refused.stderr.trimEnd()).toBe(
          `atrium: "${ref}" is not a valid dataset id or name: "", "." and ".." would address another path`,
        );
      }
      // A path the CLI builds by hand (the run's log) is held to the same rule.
      const log = await cli(['runs', 'log', ref]);
      expect(log.code).toBe(2);
      expect(log.stderr.trimEnd()).toBe(
        `atrium: "${ref}" is not a valid run id or name: "", "." and ".." would address another path`,
      );
    }
  });

  it('kvs: sets a binary record from a file and gets it back byte for byte; keys lists it', async () => {
    const store = await t.http().post('/v2/key-value-stores?name=assets').set(alice.auth).expect(201);
    const storeId = store.body.data.id as string;
    const bytes = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0xff, 0xfe]),
      randomBytes(64 * 1024),
    ]);
    writeFileSync(file('logo.png'), bytes);
    const set = await cli(['kvs', 'set', `${alice.username}~assets`, 'logo', file('logo.png')]);
    expect(set.stderr).toBe('');
    expect(set.stdout).toBe(
      `Stored ${bytes.length} bytes as logo in key-value store ${alice.username}~assets\n`,
    );
    const raw = await t
      .http()
      .get(`/v2/key-value-stores/${storeId}/records/logo`)
      .set(alice.auth)
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect(raw.headers['content-type']).toMatch(/^image\/png/);
    expect(Buffer.compare(raw.body as Buffer, bytes)).toBe(0);

    const get = await cli(['kvs', 'get', storeId, 'logo', '-o', file('back.png')]);
    expect(get.code).toBe(0);
    expect(Buffer.compare(readFileSync(file('back.png')), bytes)).toBe(0);

    await cli(['kvs', 'set', storeId, 'greeting', '--content-type', 'text/plain'], { input: 'hello\n' });
    expect((await cli(['kvs', 'get', storeId, 'greeting'])).stdout).toBe('hello\n');
    const keys = await cli(['kvs', 'keys', storeId]);
    expect(keys.stdout).toMatch(/^greeting +6$/m);
    expect(keys.stdout).toMatch(new RegExp(`^logo +${bytes.length}$`, 'm'));
    const missing = await cli(['kvs', 'get', storeId, 'nope']);
    expect(missing.code).toBe(5);
    expect(missing.stderr.trimEnd().split('\n')).toHaveLength(1);
    // The store exists: only the record is missing, and the message must not say otherwise.
    expect(missing.stderr).not.toContain('No key-value store');
    expect(await cli(['kvs', 'keys', `${alice.username}~nosuch`])).toMatchObject({
      code: 5,
      stderr: `atrium: No key-value store "${alice.username}~nosuch" (or none you can see)\n`,
    });
  });

  it('kvs create and queues create: get-or-create by name, printed as actors create does; ls --unnamed', async () => {
    const store = await cli(['kvs', 'create', 'crawl-state']);
    expect(store.code).toBe(0);
    const storeId = /^Created key-value store \S+ \((\w+)\)$/.exec(store.stdout.trim())?.[1];
    expect(store.stdout).toContain(`Created key-value store ${alice.username}~crawl-state (`);
    expect(JSON.parse((await cli(['kvs', 'create', 'crawl-state', '--json'])).stdout).id).toBe(storeId);
    expect((await cli(['kvs', 'ls'])).stdout).toMatch(new RegExp(`^${storeId} +crawl-state `, 'm'));
    const queue = await cli(['queues', 'create', 'created-queue']);
    expect(queue.stdout).toMatch(
      new RegExp(`^Created request queue ${alice.username}~created-queue \\(\\w+\\)\n$`),
    );
    const unnamedStore = (await t.http().post('/v2/key-value-stores').set(alice.auth).expect(201)).body.data
      .id;
    const unnamedQueue = (await t.http().post('/v2/request-queues').set(alice.auth).expect(201)).body.data.id;
    expect((await cli(['kvs', 'ls'])).stdout).not.toContain(unnamedStore);
    expect((await cli(['kvs', 'ls', '--unnamed'])).stdout).toContain(unnamedStore);
    expect((await cli(['queues', 'ls'])).stdout).not.toContain(unnamedQueue);
    expect((await cli(['queues', 'ls', '--unnamed'])).stdout).toContain(unnamedQueue);
  });

  it('queues: ls, get and the head', async () => {
    const queue = await t.http().post('/v2/request-queues?name=to-crawl').set(alice.auth).expect(201);
    const queueId = queue.body.data.id as string;
    await t
      .http()
      .post(`/v2/request-queues/${queueId}/requests`)
      .set(alice.auth)
      .send({ url: 'https://example.com/start', uniqueKey: 'start' })
      .expect(201);
    expect((await cli(['queues', 'ls'])).stdout).toMatch(new RegExp(`^${queueId} +to-crawl `, 'm'));
    expect(
      JSON.parse((await cli(['queues', 'get', `${alice.username}~to-crawl`, '--json'])).stdout),
    ).toMatchObject({
      id: queueId,
      name: 'to-crawl',
    });
    const head = await cli(['queues', 'head', queueId]);
    expect(head.code).toBe(0);
    expect(head.stdout).toMatch(/ GET +https:\/\/example\.com\/start$/m);
  });
});
