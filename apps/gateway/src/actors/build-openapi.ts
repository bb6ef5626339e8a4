import { asInputSchema, BuildView, inputSchemaAsJsonSchema } from '@atrium/contracts';

/**
 * The OpenAPI 3 document Apify serves for a build (`/v2/actor-builds/:id/openapi.json`), for the
 * run routes Atrium has: starting a run of the Actor with the build's input as the request body.
 */
export function buildOpenApiDefinition(build: BuildView, publicBaseUrl: string): Record<string, unknown> {
  const parsed = build.inputSchema ? asInputSchema(JSON.parse(build.inputSchema)) : null;
  const definition = build.actorDefinition ?? {};
  const [major = '0', minor = '0'] = build.buildNumber.split('.');
  const inputSchema = parsed ? inputSchemaAsJsonSchema(parsed) : { type: 'object' };
  return {
    openapi: '3.0.1',
    info: {
      title:
        typeof definition.title === 'string' ? definition.title : (parsed?.title ?? `Actor ${build.actId}`),
      version: `${major}.${minor}`,
      'x-build-id': build.id,
    },
    servers: [{ url: `${publicBaseUrl}/v2` }],
    paths: {
      [`/acts/${build.actId}/runs`]: {
        post: {
          operationId: 'runs',
          summary: 'Starts a run of the Actor with this build and returns it.',
          parameters: [
            {
              name: 'build',
              in: 'query',
              required: false,
              schema: { type: 'string', default: build.buildNumber },
            },
          ],
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/inputSchema' } } },
          },
          responses: {
            '201': {
              description: 'The run, as `GET /v2/actor-runs/:runId` returns it.',
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/runsResponseSchema' } },
              },
            },
          },
        },
      },
    },
    components: {
      schemas: {
        inputSchema,
        runsResponseSchema: {
          type: 'object',
          properties: {
            data: {
              type: 'object',
              properties: {
                id: { type: 'string' },
                actId: { type: 'string' },
                status: { type: 'string' },
                defaultDatasetId: { type: 'string' },
                defaultKeyValueStoreId: { type: 'string' },
                defaultRequestQueueId: { type: 'string' },
              },
            },
          },
        },
      },
    },
  };
}
