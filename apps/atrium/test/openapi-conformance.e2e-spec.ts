import Ajv2020 from 'ajv/dist/2020';
import { uniqueName } from '@atrium/testing';
import { SignedUpUser, signUp, startTestStack, TestStack } from './test-stack';

type Schema = {
  $ref?: string;
  allOf?: Schema[];
  anyOf?: Schema[];
  properties?: Record<string, Schema>;
  items?: Schema;
};
interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>
  >;
  components: Record<string, unknown>;
}

/**
 * Real answers against `/docs/openapi.json`: each call's body must match the schema documented for
 * its path, method and status, and the schema must name every field the answer's `data` (and its
 * first list item) has — so a view can neither contradict the API nor leave fields out.
 */
describe('the OpenAPI document against real answers', () => {
  let t: TestStack;
  let doc: OpenApiDocument;
  let alice: SignedUpUser;
  const ajv = new Ajv2020({ strict: false, allErrors: true });

  beforeAll(async () => {
    t = await startTestStack();
    doc = (await t.http().get('/docs/openapi.json').expect(200)).body as OpenApiDocument;
    alice = await signUp(t, uniqueName('conform'));
  });
  afterAll(() => t.close());

  const resolve = (schema: Schema): Schema => {
    if (!schema.$ref) return schema;
    const name = schema.$ref.replace('#/components/schemas/', '');
    return resolve((doc.components.schemas as Record<string, Schema>)[name]);
  };
  /** The fields a schema names: its properties and those of the schemas it combines. */
  const named = (schema: Schema): Set<string> => {
    const s = resolve(schema);
    const parts = [...(s.allOf ?? []), ...(s.anyOf ?? [])].flatMap((p) => [...named(p)]);
    return new Set([...Object.keys(s.properties ?? {}), ...parts]);
  };
  const property = (schema: Schema, key: string): Schema | undefined => {
    const s = resolve(schema);
    return (
      s.properties?.[key] ??
      [...(s.allOf ?? []), ...(s.anyOf ?? [])].map((p) => property(p, key)).find(Boolean)
    );
  };
  const unnamed = (value: unknown, schema: Schema) =>
    Object.keys(value as object).filter((key) => !named(schema).has(key));

  /** Checks the answer against the documented response of `template` (the OpenAPI path) and returns its data. */
  function conforms(template: string, method: string, res: { status: number; body: unknown }) {
    const response = doc.paths[template]?.[method]?.responses[String(res.status)];
    expect({ template, method, status: res.status, documented: Boolean(response) }).toEqual({
      template,
      method,
      status: res.status,
      documented: true,
    });
    const schema = response!.content!['application/json'].schema;
    const validate = ajv.compile({ ...schema, components: doc.components });
    const valid = validate(res.body);
    expect({ template, method, errors: valid ? [] : validate.errors }).toEqual({
      template,
      method,
      errors: [],
    });
    const data = (res.body as { data: Record<string, unknown> }).data;
    const dataSchema = property(schema, 'data')!;
    expect({ template, method, unnamed: unnamed(data, dataSchema) }).toEqual({
      template,
      method,
      unnamed: [],
    });
    const items = property(dataSchema, 'items')?.items;
    if (Array.isArray(data.items) && data.items.length > 0 && items) {
      expect({ template, method, unnamedInItems: unnamed(data.items[0], items) }).toEqual({
        template,
        method,
        unnamedInItems: [],
      });
    }
    return data;
  }

  const call = async (method: 'get' | 'post', template: string, path: string, body?: object) => {
    const req = t.http()[method](path).set(alice.auth);
    const res = body === undefined ? await req : await req.send(body);
    expect({ path, status: res.status, body: res.status < 300 ? 'ok' : res.body }).toMatchObject({
      path,
      body: 'ok',
    });
    return conforms(template, method, res);
  };

  it('documents the answers of actors, tasks, schedules, runs and issues', async () => {
    const actor = await call('post', '/v2/actors', '/v2/actors', { name: uniqueName('actor') });
    await call('get', '/v2/actors/{actorId}', `/v2/actors/${actor.id}`);
    const task = await call('post', '/v2/actor-tasks', '/v2/actor-tasks', {
      actId: actor.id,
      name: uniqueName('task'),
    });
    await call('get', '/v2/actor-tasks/{actorTaskId}', `/v2/actor-tasks/${task.id}`);
    const schedule = await call('post', '/v2/schedules', '/v2/schedules', {
      name: uniqueName('schedule'),
      cronExpression: '@hourly',
      actions: [{ type: 'RUN_ACTOR_TASK', actorTaskId: task.id }],
    });
    await call('get', '/v2/schedules/{scheduleId}', `/v2/schedules/${schedule.id}`);
    const run = await call('post', '/v2/acts/{actorId}/runs', `/v2/acts/${actor.id}/runs`, { q: 1 });
    await call('get', '/v2/actor-runs/{runId}', `/v2/actor-runs/${run.id}`);
    const issue = await call('post', '/v2/acts/{actorId}/issues', `/v2/acts/${actor.id}/issues`, {
      title: 'It breaks',
      runId: run.id,
    });
    await call('get', '/v2/actor-issues/{issueId}', `/v2/actor-issues/${issue.id}`);
    await call('get', '/v2/acts/{actorId}/issues', `/v2/acts/${actor.id}/issues`);
    await call('get', '/v2/{collection}/{resourceId}/access', `/v2/actor-runs/${run.id}/access`);
  });

  it('documents the answers of storages', async () => {
    for (const collection of ['datasets', 'key-value-stores', 'request-queues']) {
      const created = await call('post', `/v2/${collection}`, `/v2/${collection}?name=${uniqueName('s')}`);
      const one = Object.keys(doc.paths).find(
        (p) => p.startsWith(`/v2/${collection}/{`) && p.split('/').length === 4,
      );
      expect({ collection, one }).toMatchObject({ collection, one: expect.any(String) });
      await call('get', one!, `/v2/${collection}/${created.id}`);
      await call('get', `/v2/${collection}`, `/v2/${collection}`);
      await call('get', '/v2/{collection}/{resourceId}/access', `/v2/${collection}/${created.id}/access`);
    }
  });

  it('documents the answers of environments, groups, organizations and the audit log', async () => {
    const group = await call('post', '/v2/environment-groups', '/v2/environment-groups', { name: 'prod' });
    await call('get', '/v2/environment-groups/{groupId}', `/v2/environment-groups/${group.id}`);
    const env = await call('post', '/v2/environments', '/v2/environments', {
      name: 'api',
      groupId: group.id,
    });
    await call('get', '/v2/environments/{envId}', `/v2/environments/${env.id}`);
    await call('get', '/v2/environments', '/v2/environments');
    const org = await call('post', '/v2/organizations', '/v2/organizations', { username: uniqueName('org') });
    await call('get', '/v2/organizations/{orgId}', `/v2/organizations/${org.id}`);
    await call('get', '/v2/organizations', '/v2/organizations');
    // A grant: an entry in the audit log.
    const bob = await signUp(t, uniqueName('bob'));
    const dataset = await call('post', '/v2/datasets', `/v2/datasets?name=${uniqueName('shared')}`);
    await call(
      'post',
      '/v2/{collection}/{resourceId}/access/grants',
      `/v2/datasets/${dataset.id}/access/grants`,
      {
        user: bob.username,
        permissions: ['READ'],
      },
    );
    const log = await call('get', '/v2/audit-log', '/v2/audit-log');
    expect((log.items as unknown[]).length).toBeGreaterThan(0);
  });
});
