import { AppContentBody, AppContentViews, idSchema } from '@atrium/contracts';
import { EntityManager } from 'typeorm';
import { AppComponentEntity, AppComponentKind } from '../app-component.entity';
import { ContentKind, pageOf, requireConcepts, requireModels } from './content-kind';

type ComponentView<K extends AppComponentKind> = AppContentViews[K];
type ComponentBase = Omit<ComponentView<'workflows'>, 'modelIds'>;

/** What a component of one kind refers to, and how it shows that. */
interface ComponentSpec<K extends AppComponentKind> {
  noun: string;
  /** The models it uses (checked in the app) and the field naming them. */
  models?: (item: AppContentBody<K>) => { ids: string[]; field: string };
  /** The concepts it uses (checked in the app), named by `body.conceptIds`. */
  concepts?: (item: AppContentBody<K>) => string[];
  view(component: AppComponentEntity, base: ComponentBase): ComponentView<K>;
}

/**
 * Workflows, labeling tasks, collectors and vocabularies: named, made of references to the app's
 * models or concepts, stored alike (`app_component`), told apart by kind.
 */
function componentKind<K extends AppComponentKind>(kind: K, spec: ComponentSpec<K>): ContentKind<K> {
  const view = (c: AppComponentEntity) =>
    spec.view(c, {
      id: c.id,
      appId: c.appId,
      name: c.name,
      description: c.description,
      createdBy: c.createdBy,
      createdAt: c.createdAt.toISOString(),
    });
  return {
    noun: spec.noun,
    ids: idSchema,
    async add(manager: EntityManager, { id, appId, createdBy }, item) {
      const models = spec.models?.(item) ?? { ids: [], field: '' };
      const conceptIds = spec.concepts?.(item) ?? [];
      await requireModels(manager, appId, models.ids, models.field);
      if (spec.concepts) await requireConcepts(manager, appId, conceptIds, 'body.conceptIds');
      await manager.insert(AppComponentEntity, {
        id,
        appId,
        kind,
        name: item.name,
        description: item.description ?? null,
        modelIds: models.ids,
        conceptIds,
        createdBy,
      });
      return view(await manager.findOneByOrFail(AppComponentEntity, { id }));
    },
    async find(manager, appId, id) {
      const component = await manager.findOneBy(AppComponentEntity, { appId, id, kind });
      return component ? view(component) : null;
    },
    async remove(manager, appId, id) {
      return !!(await manager.delete(AppComponentEntity, { appId, id, kind })).affected;
    },
    async list(manager, appId, page) {
      const [rows, total] = await pageOf(manager, AppComponentEntity, appId, page, { kind });
      return { total, items: rows.map(view) };
    },
  };
}

export const components: { [K in AppComponentKind]: ContentKind<K> } = {
  /** A workflow chains models. */
  workflows: componentKind('workflows', {
    noun: 'workflow',
    models: (item) => ({ ids: item.modelIds, field: 'body.modelIds' }),
    view: (c, base) => ({ ...base, modelIds: c.modelIds }),
  }),
  /** A labeling task: which concepts to annotate. */
  tasks: componentKind('tasks', {
    noun: 'task',
    concepts: (item) => item.conceptIds,
    view: (c, base) => ({ ...base, conceptIds: c.conceptIds }),
  }),
  /** A collector gathers inputs, optionally through a model that screens them first. */
  collectors: componentKind('collectors', {
    noun: 'collector',
    models: (item) => ({ ids: item.modelId ? [item.modelId] : [], field: 'body.modelId' }),
    view: (c, base) => ({ ...base, modelId: c.modelIds[0] ?? null }),
  }),
  /** A vocabulary: a named set of the app's concepts. */
  vocabs: componentKind('vocabs', {
    noun: 'vocabulary',
    concepts: (item) => item.conceptIds,
    view: (c, base) => ({ ...base, conceptIds: c.conceptIds }),
  }),
};
