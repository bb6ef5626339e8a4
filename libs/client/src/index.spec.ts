import { createAtriumClient, InvalidPathParameterError } from './index';

describe('createAtriumClient', () => {
  const sent: string[] = [];
  const client = createAtriumClient({
    baseUrl: 'http://atrium.test',
    token: 'tok',
    fetch: async (input: string | URL | Request) => {
      sent.push(input instanceof Request ? input.url : String(input));
      return new Response('{"data":{"id":"x"}}', {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    },
  });

  beforeEach(() => (sent.length = 0));

  it.each(['..', '.', ''])(
    'refuses the path parameter %j, which the URL would fold into another path',
    async (value) => {
      await expect(
        client.GET('/v2/datasets/{datasetId}/items', { params: { path: { datasetId: value } } }),
      ).rejects.toEqual(new InvalidPathParameterError('datasetId', value));
      expect(sent).toEqual([]);
    },
  );

  it('sends other values as one encoded segment each', async () => {
    for (const value of ['...', '.a', 'alice~results', '%2e%2e', 'a/../b']) {
      await client.GET('/v2/datasets/{datasetId}/items', { params: { path: { datasetId: value } } });
    }
    expect(sent.map((url) => new URL(url).pathname)).toEqual([
      '/v2/datasets/.../items',
      '/v2/datasets/.a/items',
      '/v2/datasets/alice~results/items',
      '/v2/datasets/%252e%252e/items',
      '/v2/datasets/a%2F..%2Fb/items',
    ]);
  });
});
