import { request as httpRequest } from 'http';
import { uniqueName } from '@atrium/testing';
import { ApifyClient } from 'apify-client';
import ExcelJS from 'exceljs';
import { signUp, SignedUpUser, startListeningTestStack, TestStack } from './test-stack';

/** Dataset exports in every Apify format, through the official apify-client and plain HTTP. */
describe('dataset exports and statistics', () => {
  let t: TestStack;
  let alice: SignedUpUser;
  let baseUrl: string;
  let datasetId: string;
  const client = (token?: string) =>
    new ApifyClient({ baseUrl, publicBaseUrl: baseUrl, token, maxRetries: 0 });
  const dataset = () => client(alice.accessToken).dataset(datasetId);
  const get = (query: string) =>
    fetch(`${baseUrl}/v2/datasets/${datasetId}/items?${query}`, { headers: alice.auth });

  const items = [
    { name: 'Ann', age: 31, vip: true, address: { city: 'Oslo', zip: '0150' }, tags: ['a', 'b'] },
    { name: 'Bob <b>', age: 27, vip: false, '#debug': 'x', tags: [] },
    {},
    { '#debug': 'only hidden' },
    { name: 'Cid, "the" third', age: null, address: { city: 'Rome' } },
  ];

  beforeAll(async () => {
    const listening = await startListeningTestStack();
    t = listening;
    baseUrl = listening.baseUrl;
    alice = await signUp(t, uniqueName('alice'));
    datasetId = (await client(alice.accessToken).datasets().getOrCreate('exports')).id;
    await dataset().pushItems(items);
  });
  afterAll(() => t.close());

  it('json and jsonl: the items, in order or reversed, paged by stored item', async () => {
    expect(JSON.parse((await dataset().downloadItems('json' as never)).toString())).toEqual(items);
    const jsonl = (await dataset().downloadItems('jsonl' as never, { desc: true, offset: 1, limit: 2 }))
      .toString()
      .trimEnd()
      .split('\n');
    expect(jsonl.map((line) => JSON.parse(line))).toEqual([items[3], items[2]]);
    const res = await get('format=jsonl&clean=1');
    expect(res.headers.get('content-type')).toBe('application/jsonl; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBeNull();
    expect(res.headers.get('x-apify-pagination-count')).toBe('5');
    expect((await res.text()).trimEnd().split('\n')).toHaveLength(3);
  });

  it('csv: a BOM, the union of columns with nested values as a/b and a/0, and its options', async () => {
    const csv = (await dataset().downloadItems('csv' as never)).toString('utf8');
    expect(csv.startsWith('\ufeff')).toBe(true);
    expect(csv.slice(1).split('\n')).toEqual([
      'name,age,vip,address/city,address/zip,tags/0,tags/1,#debug',
      'Ann,31,true,Oslo,0150,a,b,',
      'Bob <b>,27,false,,,,,x',
      ',,,,,,,',
      ',,,,,,,only hidden',
      '"Cid, ""the"" third",,,Rome,,,,',
      '',
    ]);
    const options = await dataset().downloadItems('csv' as never, {
      bom: false,
      delimiter: ';',
      skipHeaderRow: true,
      clean: true,
      fields: ['tags', 'name'],
      unwind: 'tags',
    });
    expect(options.toString('utf8').split('\n')).toEqual([
      'a;Ann',
      'b;Ann',
      ';Bob <b>',
      ';"Cid, ""the"" third"',
      '',
    ]);
    const flat = await dataset().downloadItems('csv' as never, {
      flatten: ['address'],
      fields: ['address.city'],
    });
    expect(flat.toString('utf8').slice(1).split('\n').slice(0, 2)).toEqual(['address.city', 'Oslo']);

    const attached = await get('format=csv&attachment=1');
    expect(attached.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(attached.headers.get('content-disposition')).toBe('attachment; filename="dataset_exports.csv"');
  });

  it("fields before unwind, as Apify's simplified results (fields=url,pageFunctionResult,errorInfo&unwind=pageFunctionResult)", async () => {
    const set = await client(alice.accessToken).datasets().getOrCreate('crawler-pages');
    await client(alice.accessToken)
      .dataset(set.id)
      .pushItems([
        {
          url: 'https://a',
          pageFunctionResult: [{ title: 'A1' }, { title: 'A2' }],
          errorInfo: null,
          html: '<p>',
        },
        { url: 'https://b', pageFunctionResult: { title: 'B' }, errorInfo: 'timeout', html: '<p>' },
      ]);
    const { items } = await client(alice.accessToken)
      .dataset(set.id)
      .listItems({ fields: ['url', 'pageFunctionResult', 'errorInfo'], unwind: ['pageFunctionResult'] });
    expect(items).toEqual([
      { url: 'https://a', title: 'A1', errorInfo: null },
      { url: 'https://a', title: 'A2', errorInfo: null },
      { url: 'https://b', title: 'B', errorInfo: 'timeout' },
    ]);
    const flat = await fetch(
      `${baseUrl}/v2/datasets/${set.id}/items?format=csv&bom=0&fields=url,pageFunctionResult,errorInfo&unwind=pageFunctionResult`,
      { headers: alice.auth },
    );
    expect((await flat.text()).split('\n')).toEqual([
      'url,title,errorInfo',
      'https://a,A1,',
      'https://a,A2,',
      'https://b,B,timeout',
      '',
    ]);
    // A field's own columns stay together, though its nested ones first appear in a later item;
    // what unwinding brought follows the field it came after.
    await client(alice.accessToken)
      .dataset(set.id)
      .pushItems([{ url: 'https://c', pageFunctionResult: [], errorInfo: { message: 'm', code: 7 } }]);
    const nested = await fetch(
      `${baseUrl}/v2/datasets/${set.id}/items?format=csv&bom=0&fields=errorInfo,pageFunctionResult,url&unwind=pageFunctionResult`,
      { headers: alice.auth },
    );
    expect((await nested.text()).split('\n')[0]).toBe('errorInfo,errorInfo/message,errorInfo/code,title,url');
  });

  it('xml: keys in most scripts stay element names (XML 1.0 names every parser reads); others are mended', async () => {
    const set = await client(alice.accessToken).datasets().getOrCreate('xml-names');
    await client(alice.accessToken)
      .dataset(set.id)
      .pushItems([{ città: 'Roma', 名前: 'ア', 'a:b': 1, '1st': 2, 'Ωmega·x': 3, '😀': 4, ーa: 5, Ⰰ: 6 }]);
    const res = await fetch(
      `${baseUrl}/v2/datasets/${set.id}/items?format=xml&xmlRoot=${encodeURIComponent('éléments')}&xmlRow=${encodeURIComponent('élément')}`,
      { headers: alice.auth },
    );
    expect(res.status).toBe(200);
    // Names of XML 1.0's fifth edition that its fourth did not have (emoji, scripts Unicode added
    // later, an extender first) are mended too: expat and others refuse a document holding them.
    expect(await res.text()).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<éléments>\n' +
        '<élément><città>Roma</città><名前>ア</名前><a_b>1</a_b><_1st>2</_1st><Ωmega·x>3</Ωmega·x>' +
        '<_>4</_><_ーa>5</_ーa><_>6</_></élément>\n</éléments>\n',
    );
    for (const name of ['·x', '😀', 'ーa', 'a:b'])
      expect(
        (
          await fetch(
            `${baseUrl}/v2/datasets/${set.id}/items?format=xml&xmlRow=${encodeURIComponent(name)}`,
            {
              headers: alice.auth,
            },
          )
        ).status,
      ).toBe(400);
  });

  it('unwind: one small item may not make millions of items; what it makes comes in bounded chunks', async () => {
    const set = await client(alice.accessToken).datasets().getOrCreate('unwind-bomb');
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    await client(alice.accessToken)
      .dataset(set.id)
      .pushItems([
        { n: 0, a: range(3), b: range(2) },
        { n: 1, a: range(200), b: range(200), c: range(200), '#h': 1 },
        { n: 2, big: 'x'.repeat(100_000), a: range(5000) },
        { n: 3, a: range(6000) },
      ]);
    const items = (query: string) =>
      fetch(`${baseUrl}/v2/datasets/${set.id}/items?${query}`, { headers: alice.auth });
    // 200 × 200 × 200 = 8,000,000 items of one ~4 KB item: refused, naming the item's position.
    const bomb = await items('format=csv&unwind=a,b,c&offset=1&limit=1');
    expect(bomb.status).toBe(400);
    expect(((await bomb.json()) as { error: { message: string } }).error.message).toMatch(
      /^Field "query\.unwind" is invalid: the item at position 1 unwinds into more than 10000 items/,
    );
    // 5,000 copies of a 100 KB sibling (500 MB): refused too.
    const wide = await items('format=jsonl&unwind=a&offset=2&limit=1');
    expect(wide.status).toBe(400);
    expect(((await wide.json()) as { error: { message: string } }).error.message).toContain(
      'the item at position 2 unwinds into more than 8 MB',
    );
    // The bound is in bytes as sent (UTF-8): 3,000 copies of 1,010 CJK characters are 9 MB, not 3 M characters.
    await client(alice.accessToken)
      .dataset(set.id)
      .pushItems([{ n: 4, s: '名'.repeat(1010), a: range(3000) }]);
    expect((await items('format=json&unwind=a&offset=4&limit=1')).status).toBe(400);
    // Within the bounds: 6 + 6,000 items, all of them, in order, over several chunks.
    const ok = await items('format=jsonl&unwind=a,b&offset=0&limit=1');
    expect((await ok.text()).trim().split('\n')).toHaveLength(6);
    const many = await items('format=jsonl&unwind=a&offset=3&limit=1');
    const lines = (await many.text()).trim().split('\n');
    expect(lines).toHaveLength(6000);
    expect(JSON.parse(lines[5999])).toEqual({ n: 3, a: 5999 });
    // XLSX writes such a chunk's thousands of rows in slices too, every one of them.
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(
      (await (await items('format=xlsx&unwind=a&offset=3&limit=1')).arrayBuffer()) as ArrayBuffer,
    );
    expect(workbook.worksheets[0]!.rowCount).toBe(6001);
    // A chunk ends where what it made fills it: 3 × 800 items come whole, in order, over chunks.
    const cut = await client(alice.accessToken).datasets().getOrCreate('unwind-chunks');
    await client(alice.accessToken)
      .dataset(cut.id)
      .pushItems([0, 1, 2].map((n) => ({ n, a: range(800) })));
    for (const desc of [false, true]) {
      const { items: all } = await client(alice.accessToken)
        .dataset(cut.id)
        .listItems({ unwind: ['a'], desc });
      const order = desc ? [2, 1, 0] : [0, 1, 2];
      expect(all).toEqual(order.flatMap((n) => range(800).map((a) => ({ n, a }))));
    }
    // What unwinding brings to the top level is hidden by clean as the item's own # fields are.
    const hidden = await client(alice.accessToken).datasets().getOrCreate('unwind-hidden');
    await client(alice.accessToken)
      .dataset(hidden.id)
      .pushItems([{ v: { '#in': 'secret', a: 1 }, arr: [{ '#h': 1, b: 2 }] }]);
    const { items: cleaned } = await client(alice.accessToken)
      .dataset(hidden.id)
      .listItems({ clean: true, unwind: ['v', 'arr'] });
    expect(cleaned).toEqual([{ a: 1, b: 2 }]);
  });

  it('xml reads back what was pushed (CR, LF and tab kept); what XML cannot hold is U+FFFD in xml and xlsx', async () => {
    const set = await client(alice.accessToken).datasets().getOrCreate('xml-chars');
    await client(alice.accessToken)
      .dataset(set.id)
      .pushItems([{ t: 'a\rb', o: { '@': { at: 'x\ny\tz\r' }, '#': 'w' }, bad: 'x\ufffey\u0001z' }]);
    const xml = (
      await client(alice.accessToken)
        .dataset(set.id)
        .downloadItems('xml' as never)
    ).toString();
    expect(xml).toContain('<t>a&#13;b</t><o at="x&#10;y&#9;z&#13;">w</o><bad>x\ufffdy\ufffdz</bad>');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(
      (await client(alice.accessToken)
        .dataset(set.id)
        .downloadItems('xlsx' as never)) as unknown as ArrayBuffer,
    );
    const row = workbook.worksheets[0]!.getRow(2).values as unknown[];
    // (ExcelJS writes a CR as it is, so it reads back as LF.)
    expect(row.slice(1)).toEqual(['a\nb', 'x\ny\tz\n', 'w', 'x\ufffdy\ufffdz']);
  });

  it("csv: a cell holding one of Unicode's line breaks is quoted, so no reader cuts the row there", async () => {
    const set = await client(alice.accessToken).datasets().getOrCreate('unicode-breaks');
    await client(alice.accessToken)
      .dataset(set.id)
      .pushItems([{ a: 'one\u2028two', b: 'nel\u0085here', c: 'para\u2029end', d: 'plain', e: 'v\vf\f' }]);
    const csv = (
      await client(alice.accessToken)
        .dataset(set.id)
        .downloadItems('csv' as never, { bom: false })
    ).toString('utf8');
    expect(csv).toBe('a,b,c,d,e\n"one\u2028two","nel\u0085here","para\u2029end",plain,"v\vf\f"\n');
  });

  it('xlsx: read back with ExcelJS, the same rows as the csv', async () => {
    const xlsx = await dataset().downloadItems('xlsx' as never, { clean: true });
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx as unknown as ArrayBuffer);
    const rows: unknown[][] = [];
    workbook.worksheets[0]!.eachRow({ includeEmpty: true }, (row) => {
      rows.push((row.values as unknown[]).slice(1));
    });
    const pad = (row: unknown[]) => Array.from({ length: 7 }, (_, i) => row[i] ?? null);
    expect(rows.map(pad)).toEqual([
      ['name', 'age', 'vip', 'address/city', 'address/zip', 'tags/0', 'tags/1'],
      ['Ann', 31, true, 'Oslo', '0150', 'a', 'b'],
      pad(['Bob <b>', 27, false]),
      pad(['Cid, "the" third', null, null, 'Rome']),
    ]);
    const res = await get('format=xlsx');
    expect(res.headers.get('content-type')).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    );
  });

  it('xml and rss: properties as elements, arrays repeated, @ as attributes and # as text', async () => {
    const xmlSet = await client(alice.accessToken).datasets().getOrCreate('xml');
    await client(alice.accessToken)
      .dataset(xmlSet.id)
      .pushItems([
        {
          name: 'P',
          address: [
            { '@': { type: 'home' }, street: '21st' },
            { '@': { type: 'office' }, '#': 'unknown' },
          ],
          'bad key': null,
        },
      ]);
    const xml = (
      await client(alice.accessToken)
        .dataset(xmlSet.id)
        .downloadItems('xml' as never, { xmlRoot: 'people', xmlRow: 'person' })
    ).toString();
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<people>\n' +
        '<person><name>P</name><address type="home"><street>21st</street></address>' +
        '<address type="office">unknown</address><bad_key/></person>\n</people>\n',
    );
    const rss = await fetch(`${baseUrl}/v2/datasets/${xmlSet.id}/items?format=rss&feedTitle=People`, {
      headers: alice.auth,
    });
    expect(rss.headers.get('content-type')).toBe('application/rss+xml; charset=utf-8');
    const body = await rss.text();
    expect(body).toContain('<rss version="2.0"><channel><title>People</title>');
    expect(body).toContain('<item><name>P</name>');
    expect(body.trimEnd().endsWith('</channel></rss>')).toBe(true);
  });

  it('html: an escaped table with the columns as header', async () => {
    const html = (
      await dataset().downloadItems('html' as never, { fields: ['name', 'age'], limit: 2 })
    ).toString();
    expect(html).toContain('<thead><tr><th>name</th><th>age</th></tr></thead>');
    expect(html).toContain('<tr><td>Bob &lt;b&gt;</td><td>27</td></tr>');
  });

  it('a pre-signed URL opens the CSV export of a restricted dataset; nothing opens it without one', async () => {
    await dataset().update({ generalAccess: 'RESTRICTED' } as never);
    const url = new URL(await dataset().createItemsPublicUrl({ expiresInSecs: 600 }));
    url.searchParams.set('format', 'csv');
    const opened = await fetch(url);
    expect(opened.status).toBe(200);
    expect((await opened.text()).split('\n')).toHaveLength(7);
    expect((await fetch(`${baseUrl}/v2/datasets/${datasetId}/items?format=csv`)).status).toBe(404);
    await dataset().update({ generalAccess: 'FOLLOW_USER_SETTING' } as never);
  });

  it('cleanItemCount counts what clean=true returns; statistics per field', async () => {
    const info = await dataset().get();
    expect(info).toMatchObject({ itemCount: 5, cleanItemCount: 3 });
    expect((await dataset().listItems({ clean: true })).items).toHaveLength(3);
    expect(await dataset().getStatistics()).toEqual({
      fieldStatistics: {
        '#debug': { min: 1, max: 11, nullCount: 0, emptyCount: 3 },
        address: { min: 1, max: 2, nullCount: 0, emptyCount: 3 },
        age: { min: 27, max: 31, nullCount: 1, emptyCount: 2 },
        name: { min: 3, max: 16, nullCount: 0, emptyCount: 2 },
        tags: { min: 0, max: 2, nullCount: 0, emptyCount: 3 },
        vip: { min: null, max: null, nullCount: 0, emptyCount: 3 },
      },
    });
  });

  it('lists every item without a limit, past a chunk', async () => {
    const many = await client(alice.accessToken).datasets().getOrCreate('many');
    await client(alice.accessToken)
      .dataset(many.id)
      .pushItems(Array.from({ length: 2500 }, (_, n) => ({ n })));
    const all = await client(alice.accessToken).dataset(many.id).listItems();
    expect(all.items).toHaveLength(2500);
    expect(all.items.at(-1)).toEqual({ n: 2499 });
    expect(all.total).toBe(2500);
  });

  it('a dataset deleted while it is exported: the export is cut short, not ended as if complete', async () => {
    const doomed = await client(alice.accessToken).datasets().getOrCreate(uniqueName('doomed'));
    // About 15 MB as JSON: far more than the sockets between here and the gateway hold.
    const batch = Array.from({ length: 5000 }, (_, n) => ({ n, text: 'x'.repeat(1000) }));
    for (let i = 0; i < 3; i++) await client(alice.accessToken).dataset(doomed.id).pushItems(batch);
    const outcome = await new Promise<{ status?: number; bytes: number; ended: 'end' | 'error' }>(
      (resolve) => {
        let bytes = 0;
        const req = httpRequest(
          `${baseUrl}/v2/datasets/${doomed.id}/items?format=json`,
          { headers: alice.auth },
          (res) => {
            res.once('data', (chunk: Buffer) => {
              bytes += chunk.length;
              // The first bytes came: stop reading, delete the dataset, then read on.
              res.pause();
              void client(alice.accessToken)
                .dataset(doomed.id)
                .delete()
                .then(() => {
                  res.on('data', (more: Buffer) => (bytes += more.length));
                  res.resume();
                });
            });
            res.on('end', () => resolve({ status: res.statusCode, bytes, ended: 'end' }));
            res.on('error', () => resolve({ status: res.statusCode, bytes, ended: 'error' }));
          },
        );
        req.on('error', () => resolve({ bytes, ended: 'error' }));
        req.end();
      },
    );
    // Before: a 200 that ended well, a well-formed array of the first items only.
    expect(outcome.status).toBe(200);
    expect(outcome.ended).toBe('error');
    expect(outcome.bytes).toBeLessThan(15_000_000);
  });

  it.each([
    ['format=pdf', 'query.format'],
    ['format=csv&delimiter=;;', 'query.delimiter'],
    ['format=csv&delimiter=%22', 'query.delimiter'],
    ['format=csv&delimiter=%0A', 'query.delimiter'],
    ['format=csv&delimiter=%00', 'query.delimiter'],
    ['format=csv&delimiter=%E2%80%A8', 'query.delimiter'],
    ['format=xml&xmlRoot=1bad', 'query.xmlRoot'],
    ['limit=-1', 'query.limit'],
    ['clean=maybe', 'query.clean'],
    ['view=overview', 'query.view'],
  ])('refuses %s as invalid-input naming %s', async (query, field) => {
    const res = await get(query);
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { type: string; message: string } };
    expect(error.type).toBe('invalid-input');
    expect(error.message).toContain(field);
  });

  it('apify-client gets a bad option refused as invalid-input', async () => {
    await expect(
      client(alice.accessToken)
        .dataset(datasetId)
        .downloadItems('csv' as never, { xmlRow: '<nope>' }),
    ).rejects.toMatchObject({ statusCode: 400, type: 'invalid-input' });
  });
});
