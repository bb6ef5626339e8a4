import { datasetItemsTransform } from '@atrium/contracts';
import { isCleanItem, tableColumns, toTableRow, transformItem } from './dataset-item.transform';

const options = (o: object) => datasetItemsTransform.parse(o);

describe('dataset item options (Apify semantics)', () => {
  it('skipHidden drops top-level # fields only; skipEmpty drops items with nothing visible left', () => {
    const item = { a: 1, '#debug': { x: 1 }, nested: { '#kept': 1 } };
    expect(transformItem(item, options({ skipHidden: true }))).toEqual([{ a: 1, nested: { '#kept': 1 } }]);
    expect(transformItem({}, options({ skipEmpty: true }))).toEqual([]);
    expect(transformItem({ '#only': 1 }, options({ skipEmpty: true }))).toEqual([{ '#only': 1 }]);
    expect(transformItem({ '#only': 1 }, options({ skipEmpty: true, skipHidden: true }))).toEqual([]);
    // cleanItemCount counts exactly what clean (= skipHidden + skipEmpty) returns.
    expect([{}, { '#only': 1 }, { a: 1 }].map(isCleanItem)).toEqual([false, false, true]);
  });

  it('unwinds arrays into one item per element and objects into their parent, in order', () => {
    const item = { name: 'p', reviews: [{ rating: 5 }, { rating: 1 }], tags: ['x', 'y'] };
    expect(transformItem(item, options({ unwind: ['reviews', 'tags'] }))).toEqual([
      { name: 'p', rating: 5, tags: 'x' },
      { name: 'p', rating: 5, tags: 'y' },
      { name: 'p', rating: 1, tags: 'x' },
      { name: 'p', rating: 1, tags: 'y' },
    ]);
    expect(transformItem({ a: 1, o: { b: 2 } }, options({ unwind: ['o'] }))).toEqual([{ a: 1, b: 2 }]);
    for (const kept of [{ a: 1 }, { a: 1, o: 3 }, { a: 1, o: [] }]) {
      expect(transformItem(kept, options({ unwind: ['o'] }))).toEqual([kept]);
    }
  });

  it("picks fields and omits before unwinding, as Apify's simplified (fields=url,pageFunctionResult,errorInfo and unwind=pageFunctionResult)", () => {
    const page = {
      url: 'u',
      '#debug': 1,
      pageFunctionResult: [{ title: 't1' }, { title: 't2' }],
      errorInfo: null,
      other: 1,
    };
    expect(
      transformItem(
        page,
        options({ fields: ['url', 'pageFunctionResult', 'errorInfo'], unwind: ['pageFunctionResult'] }),
      ),
    ).toEqual([
      { url: 'u', title: 't1', errorInfo: null },
      { url: 'u', title: 't2', errorInfo: null },
    ]);
    // What an element brings takes the field's place (fields' order kept) and wins over its parent's key.
    const unwound = transformItem(
      { name: 'n', tags: ['a'], o: { name: 'inner', x: 1 }, z: 0 },
      options({ fields: ['tags', 'name', 'o'], unwind: ['tags', 'o'] }),
    );
    expect(unwound).toEqual([{ tags: 'a', name: 'inner', x: 1 }]);
    expect(Object.keys(unwound[0]!)).toEqual(['tags', 'name', 'x']);
    // clean (skipHidden and skipEmpty) also applies to what unwinding brings to the top level.
    expect(
      transformItem(
        { a: [{ '#s': 'y' }, {}, { b: 1, '#h': 2 }] },
        options({ unwind: ['a'], skipHidden: true, skipEmpty: true }),
      ),
    ).toEqual([{ b: 1 }]);
    // omit drops the item's own field; what unwinding brings is not omitted.
    expect(transformItem({ a: 1, o: { a: 2, b: 3 } }, options({ omit: ['a'], unwind: ['o'] }))).toEqual([
      { a: 2, b: 3 },
    ]);
    // omit names a flattened key as fields does; an empty fields keeps everything (apify-client's []).
    expect(transformItem({ a: { b: 1, c: 2 }, d: 3 }, options({ omit: ['a.b'], flatten: ['a'] }))).toEqual([
      { 'a.c': 2, d: 3 },
    ]);
    expect(transformItem({ a: 1, b: 2 }, options({ fields: [] }))).toEqual([{ a: 1, b: 2 }]);
    // A literal dotted key is picked as it is when its prefix is not flattened.
    expect(transformItem({ 'a.b': 1, a: { b: 2 } }, options({ fields: ['a.b'] }))).toEqual([{ 'a.b': 1 }]);
    // fields=a.b&flatten=a where a is not an object: nothing of a stays.
    expect(transformItem({ a: 5, n: 1 }, options({ fields: ['a.b', 'n'], flatten: ['a'] }))).toEqual([
      { n: 1 },
    ]);
    // fields naming a flattened field keeps all of its keys.
    expect(
      transformItem({ n: 1, geo: { lat: 1, lng: 2 } }, options({ fields: ['geo'], flatten: ['geo'] })),
    ).toEqual([{ 'geo.lat': 1, 'geo.lng': 2 }]);
  });

  it('flattens named objects to dotted keys in place; fields may name those keys', () => {
    const item = { name: 'n', address: { street: 's', geo: { lat: 1 } }, other: { k: 1 } };
    expect(transformItem(item, options({ flatten: ['address'] }))).toEqual([
      { name: 'n', 'address.street': 's', 'address.geo.lat': 1, other: { k: 1 } },
    ]);
    expect(
      transformItem(item, options({ flatten: ['address'], fields: ['address.geo.lat', 'name', 'missing'] })),
    ).toEqual([{ 'address.geo.lat': 1, name: 'n' }]);
    expect(Object.keys(transformItem(item, options({ fields: ['other', 'name'] }))[0]!)).toEqual([
      'other',
      'name',
    ]);
    expect(transformItem(item, options({ omit: ['address', 'other'] }))).toEqual([{ name: 'n' }]);
  });

  it('makes table rows with a cell per leaf (a/b, a/0) and collects their columns in order', () => {
    const rows = [
      toTableRow({ a: 1, o: { b: true, c: null }, t: ['x', 'y'], e: [], s: 'text' }),
      toTableRow({ z: 1, a: 2 }),
    ];
    expect(rows[0]).toEqual({ a: 1, 'o/b': true, 'o/c': null, 't/0': 'x', 't/1': 'y', s: 'text' });
    expect(tableColumns(rows)).toEqual(['a', 'o/b', 'o/c', 't/0', 't/1', 's', 'z']);
    const wide = toTableRow(Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`f${i}`, i])));
    expect(tableColumns([wide])).toHaveLength(2000);
    expect(tableColumns([{ ['x'.repeat(201)]: 1, ok: 1 }])).toEqual(['ok']);
  });
});
