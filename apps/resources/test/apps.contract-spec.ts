import { AppInputView, AppModelView, AppsRpc, EventEnvelope, Events, ResourcesRpc } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import {
  ContractHarness,
  eventually,
  expectAppError,
  recordEvents,
  startContractHarness,
  testServiceConfig,
} from '@atrium/testing';
import { ResourcesModule } from '../src/resources.module';

/** Apps and their contents over the resources service's queue. */
describe('resources message contract: apps (RabbitMQ + PostgreSQL)', () => {
  let h: ContractHarness;
  const received: EventEnvelope[] = [];
  const owner = newId();
  const page = { offset: 0, limit: 100, desc: false };
  let appId: string;

  beforeAll(async () => {
    h = await startContractHarness('resources', (url) => ResourcesModule.forRoot(testServiceConfig(url)));
    await recordEvents(h, 'apps', [Events.resourceCreated.name, Events.resourceDeleted.name], received);
    appId = (await createApp('pets')).id;
  });
  afterAll(() => h.close());

  const createApp = (name: string, ownerId = owner) =>
    h.rpc.call(AppsRpc.createApp, { ownerId, createdBy: ownerId, app: { name, description: 'About pets' } });
  const add = <T>(content: unknown, app = appId) =>
    h.rpc.call(AppsRpc.addContent, { appId: app, createdBy: owner, content: content as never }) as Promise<T>;
  const addInput = (text: string, app = appId) =>
    add<AppInputView>({ kind: 'inputs', item: { data: { text } } }, app);
  const list = (kind: string, app = appId) =>
    h.rpc.call(AppsRpc.listContents, { appId: app, kind: kind as never, page });
  const search = (query: { text?: string; conceptIds?: string[] }) =>
    h.rpc.call(AppsRpc.search, { appId, query, page });

  describe('apps', () => {
    it('creates an app as a catalogued APP resource, and announces it', async () => {
      const app = await createApp('vision');
      expect(app).toMatchObject({ name: 'vision', userId: owner, description: 'About pets' });
      expect(await h.rpc.call(ResourcesRpc.getResourceFacts, { id: app.id })).toMatchObject({
        type: 'APP',
        ownerId: owner,
        name: 'vision',
        generalAccess: 'RESTRICTED',
      });
      await eventually(async () =>
        expect(received).toContainEqual(
          expect.objectContaining({
            name: 'resource.created',
            payload: expect.objectContaining({ id: app.id }),
          }),
        ),
      );
    });

    it('refuses a taken name in the same account, naming it', async () => {
      const err = await expectAppError(createApp('pets'), 'conflict');
      expect(err.message).toContain('"pets"');
      expect((await createApp('pets', newId())).name).toBe('pets');
    });

    it('updates name and description, and lists by owner or by ids', async () => {
      const app = await createApp('renamable');
      const updated = await h.rpc.call(AppsRpc.updateApp, {
        id: app.id,
        changes: { name: 'renamed', description: null },
      });
      expect(updated).toMatchObject({ name: 'renamed', description: null });
      const mine = await h.rpc.call(AppsRpc.listApps, { ownerId: owner, page });
      expect(mine.items.map((a) => a.name)).toEqual(expect.arrayContaining(['pets', 'vision', 'renamed']));
      const byIds = await h.rpc.call(AppsRpc.listApps, { ids: [app.id, appId], page });
      expect(byIds.items.map((a) => a.id)).toEqual([app.id, appId]);
    });

    it('answers 404 for an app that does not exist', async () => {
      await expectAppError(h.rpc.call(AppsRpc.getApp, { id: newId() }), 'record-not-found');
      await expectAppError(list('inputs', newId()), 'record-not-found');
      await expectAppError(addInput('x', newId()), 'record-not-found');
    });
  });

  describe('contents', () => {
    let dogInput: AppInputView;
    let catInput: AppInputView;

    beforeAll(async () => {
      await add({ kind: 'concepts', item: { id: 'dog', name: 'Dog' } });
      await add({ kind: 'concepts', item: { id: 'cat' } });
      dogInput = await addInput('A puppy chasing a tennis ball in the park');
      catInput = await addInput('A kitten sleeping on the sofa, 100% asleep');
      await add({ kind: 'annotations', item: { inputId: dogInput.id, conceptIds: ['dog'] } });
      await add({ kind: 'annotations', item: { inputId: catInput.id, conceptIds: ['cat'] } });
    });

    it('stores concepts under their given id, once per app', async () => {
      expect((await list('concepts')).items.map((c) => c)).toEqual([
        expect.objectContaining({ id: 'dog', name: 'Dog' }),
        expect.objectContaining({ id: 'cat', name: 'cat' }),
      ]);
      await expectAppError(add({ kind: 'concepts', item: { id: 'dog' } }), 'conflict');
    });

    it('stores inputs with their data and shows the concepts they are annotated with', async () => {
      const input = await h.rpc.call(AppsRpc.getContent, { appId, kind: 'inputs', id: dogInput.id });
      expect(input).toMatchObject({
        id: dogInput.id,
        appId,
        data: { text: 'A puppy chasing a tennis ball in the park', url: null, metadata: {} },
        conceptIds: ['dog'],
      });
      const withUrl = await add<AppInputView>({
        kind: 'inputs',
        item: { data: { url: 'https://example.com/dog.jpg', metadata: { source: 'web' } } },
      });
      expect(withUrl.data).toEqual({
        text: null,
        url: 'https://example.com/dog.jpg',
        metadata: { source: 'web' },
      });
      const patched = await h.rpc.call(AppsRpc.patchInput, {
        appId,
        id: withUrl.id,
        changes: { data: { text: 'a dog photo' } },
      });
      expect(patched.data).toEqual({
        text: 'a dog photo',
        url: 'https://example.com/dog.jpg',
        metadata: { source: 'web' },
      });
      const err = await expectAppError(
        h.rpc.call(AppsRpc.patchInput, {
          appId,
          id: withUrl.id,
          changes: { data: { text: null, url: null } },
        }),
        'invalid-input',
      );
      expect(err.message).toContain('body.data');
      await h.rpc.call(AppsRpc.deleteContent, { appId, kind: 'inputs', id: withUrl.id });
    });

    it.each([
      [{ kind: 'inputs', item: { data: {} } }, 'payload.content.item.data'],
      [{ kind: 'inputs', item: { data: { text: 7, extra: 1 } } }, 'payload.content.item.data.text'],
      [{ kind: 'concepts', item: { id: 'has space' } }, 'payload.content.item.id'],
      [{ kind: 'models', item: { name: 'm', conceptIds: [] } }, 'payload.content.item.conceptIds'],
      [
        { kind: 'annotations', item: { inputId: 'nope', conceptIds: ['dog'] } },
        'payload.content.item.inputId',
      ],
      [{ kind: 'widgets', item: {} }, 'payload.content.kind'],
    ])('refuses an invalid item %#, naming the field', async (content, field) => {
      const err = await expectAppError(add(content), 'invalid-input');
      expect(err.message).toContain(field);
    });

    it('refuses references to what the app does not hold, naming the field', async () => {
      const otherApp = await createApp('other-app');
      const foreign = await addInput('elsewhere', otherApp.id);
      let err = await expectAppError(
        add({ kind: 'annotations', item: { inputId: foreign.id, conceptIds: ['dog'] } }),
        'invalid-input',
      );
      expect(err.message).toContain('body.inputId');
      err = await expectAppError(
        add({ kind: 'annotations', item: { inputId: dogInput.id, conceptIds: ['dog', 'horse'] } }),
        'invalid-input',
      );
      expect(err.message).toContain('body.conceptIds.1');
      err = await expectAppError(
        add({ kind: 'collectors', item: { name: 'c', modelId: newId() } }),
        'invalid-input',
      );
      expect(err.message).toContain('body.modelId');
      await expectAppError(
        h.rpc.call(AppsRpc.getContent, { appId: otherApp.id, kind: 'inputs', id: dogInput.id }),
        'record-not-found',
      );
    });

    it('searches inputs by contained text (any case, % literal) and by annotated concepts', async () => {
      expect((await search({ text: 'PUPPY' })).items.map((i) => i.id)).toEqual([dogInput.id]);
      expect((await search({ text: '100%' })).items.map((i) => i.id)).toEqual([catInput.id]);
      expect((await search({ text: '%' })).items.map((i) => i.id)).toEqual([catInput.id]);
      expect((await search({ conceptIds: ['cat'] })).items.map((i) => i.id)).toEqual([catInput.id]);
      expect((await search({ text: 'a', conceptIds: ['dog'] })).items.map((i) => i.id)).toEqual([
        dogInput.id,
      ]);
      expect((await search({ text: 'puppy', conceptIds: ['cat'] })).total).toBe(0);
      await expectAppError(h.rpc.call(AppsRpc.search, { appId, query: {}, page } as never), 'invalid-input');
    });

    it('trains a model version from annotated inputs and predicts with it', async () => {
      const model = await add<AppModelView>({
        kind: 'models',
        item: { name: 'pets', conceptIds: ['dog', 'cat'] },
      });
      expect(model).toMatchObject({ versionCount: 0, latestVersion: null });
      const untrained = await expectAppError(
        h.rpc.call(AppsRpc.predict, { appId, modelId: model.id, inputs: [{ data: { text: 'puppy' } }] }),
        'conflict',
      );
      expect(untrained.message).toContain('not been trained');

      const trained = await h.rpc.call(AppsRpc.trainModel, { appId, modelId: model.id, trainedBy: owner });
      expect(trained).toMatchObject({
        versionCount: 1,
        latestVersion: {
          version: 1,
          conceptIds: ['dog', 'cat'],
          inputIds: [dogInput.id, catInput.id].sort(),
          examples: { dog: 1, cat: 1 },
          trainedBy: owner,
        },
      });
      const prediction = await h.rpc.call(AppsRpc.predict, {
        appId,
        modelId: model.id,
        inputs: [{ data: { text: 'my puppy loves the park' } }, { data: { text: 'sleepy kitten' } }],
      });
      expect(prediction.model).toEqual({ id: model.id, name: 'pets', version: 1 });
      expect(prediction.outputs[0]!.concepts[0]).toMatchObject({ id: 'dog', name: 'Dog' });
      expect(prediction.outputs[0]!.concepts[0]!.value).toBeGreaterThan(0.5);
      expect(prediction.outputs[1]!.concepts.map((c) => c.id)).toEqual(['cat', 'dog']);

      // A new example is learned by the next version only.
      const fetch = await addInput('Fetch the stick');
      await add({ kind: 'annotations', item: { inputId: fetch.id, conceptIds: ['dog'] } });
      const before = await h.rpc.call(AppsRpc.predict, {
        appId,
        modelId: model.id,
        inputs: [{ data: { text: 'stick' } }],
      });
      expect(before.outputs[0]!.concepts.every((c) => c.value === 0)).toBe(true);
      const v2 = await h.rpc.call(AppsRpc.trainModel, { appId, modelId: model.id, trainedBy: owner });
      expect(v2.latestVersion).toMatchObject({ version: 2, examples: { dog: 2, cat: 1 } });
      const after = await h.rpc.call(AppsRpc.predict, {
        appId,
        modelId: model.id,
        inputs: [{ data: { text: 'stick' } }],
      });
      expect(after.outputs[0]!.concepts[0]).toMatchObject({ id: 'dog', value: 1 });
    });

    it('refuses to train a model none of whose concepts has an example', async () => {
      await add({ kind: 'concepts', item: { id: 'horse' } });
      const model = await add<AppModelView>({
        kind: 'models',
        item: { name: 'horses', conceptIds: ['horse'] },
      });
      const err = await expectAppError(
        h.rpc.call(AppsRpc.trainModel, { appId, modelId: model.id, trainedBy: owner }),
        'conflict',
      );
      expect(err.message).toContain('horse');
    });

    it('keeps workflows, tasks, collectors and vocabularies with their references', async () => {
      const model = await add<AppModelView>({ kind: 'models', item: { name: 'used', conceptIds: ['dog'] } });
      const workflow = await add<{ id: string; modelIds: string[] }>({
        kind: 'workflows',
        item: { name: 'flow', modelIds: [model.id] },
      });
      expect(workflow.modelIds).toEqual([model.id]);
      const task = await add<{ conceptIds: string[] }>({
        kind: 'tasks',
        item: { name: 'label pets', conceptIds: ['dog', 'cat'] },
      });
      expect(task.conceptIds).toEqual(['dog', 'cat']);
      const collector = await add<{ modelId: string | null }>({
        kind: 'collectors',
        item: { name: 'inbox' },
      });
      expect(collector.modelId).toBeNull();
      await add({ kind: 'vocabs', item: { name: 'animals', conceptIds: ['dog'] } });
      expect((await list('workflows')).total).toBe(1);
      expect((await list('vocabs')).items[0]).toMatchObject({ name: 'animals', conceptIds: ['dog'] });

      const inUse = await expectAppError(
        h.rpc.call(AppsRpc.deleteContent, { appId, kind: 'models', id: model.id }),
        'conflict',
      );
      expect(inUse.message).toContain('"flow"');
      await h.rpc.call(AppsRpc.deleteContent, { appId, kind: 'workflows', id: workflow.id });
      await h.rpc.call(AppsRpc.deleteContent, { appId, kind: 'models', id: model.id });
      await expectAppError(
        h.rpc.call(AppsRpc.getContent, { appId, kind: 'models', id: model.id }),
        'record-not-found',
      );
      await expectAppError(
        h.rpc.call(AppsRpc.deleteContent, { appId, kind: 'concepts', id: 'dog' }),
        'method-not-allowed',
      );
    });

    it('deletes an input with its annotations', async () => {
      const input = await addInput('short lived');
      const annotation = await add<{ id: string }>({
        kind: 'annotations',
        item: { inputId: input.id, conceptIds: ['cat'] },
      });
      await h.rpc.call(AppsRpc.deleteContent, { appId, kind: 'inputs', id: input.id });
      await expectAppError(
        h.rpc.call(AppsRpc.getContent, { appId, kind: 'annotations', id: annotation.id }),
        'record-not-found',
      );
      await expectAppError(
        h.rpc.call(AppsRpc.deleteContent, { appId, kind: 'inputs', id: input.id }),
        'record-not-found',
      );
    });
  });

  describe('collaborator tokens and deletion', () => {
    it('records one token per collaborator, answering the one it replaces', async () => {
      const app = await createApp('shared');
      const user = newId();
      const [first, second] = [newId(), newId()];
      expect(
        await h.rpc.call(AppsRpc.recordCollaborator, {
          appId: app.id,
          userId: user,
          tokenId: first,
          addedBy: owner,
        }),
      ).toEqual({ previousTokenId: null });
      expect(
        await h.rpc.call(AppsRpc.recordCollaborator, {
          appId: app.id,
          userId: user,
          tokenId: second,
          addedBy: owner,
        }),
      ).toEqual({ previousTokenId: first });
      expect(await h.rpc.call(AppsRpc.listCollaborators, { appId: app.id })).toEqual([
        expect.objectContaining({ appId: app.id, userId: user, tokenId: second, addedBy: owner }),
      ]);
      await h.rpc.call(AppsRpc.forgetCollaborator, { appId: app.id, userId: user });
      expect(await h.rpc.call(AppsRpc.listCollaborators, { appId: app.id })).toEqual([]);
    });

    it('deletes an app with all it holds, answering its collaborators tokens', async () => {
      const app = await createApp('doomed');
      const input = await addInput('bye', app.id);
      const user = newId();
      const tokenId = newId();
      await h.rpc.call(AppsRpc.recordCollaborator, { appId: app.id, userId: user, tokenId, addedBy: owner });
      expect(await h.rpc.call(AppsRpc.deleteApp, { id: app.id })).toEqual({
        ok: true,
        collaboratorTokens: [{ userId: user, tokenId }],
      });
      await expectAppError(h.rpc.call(AppsRpc.getApp, { id: app.id }), 'record-not-found');
      await expectAppError(
        h.rpc.call(AppsRpc.getContent, { appId: app.id, kind: 'inputs', id: input.id }),
        'record-not-found',
      );
      expect(await h.rpc.call(ResourcesRpc.getResourceFacts, { id: app.id })).toBeNull();
      await eventually(async () =>
        expect(received).toContainEqual(
          expect.objectContaining({
            name: 'resource.deleted',
            payload: expect.objectContaining({ id: app.id }),
          }),
        ),
      );
    });
  });
});
