import { AppConceptView, conceptIdSchema } from '@atrium/contracts';
import { AppConceptEntity } from '../app-concept.entity';
import { ContentKind, pageOf } from './content-kind';

function toConceptView(concept: AppConceptEntity): AppConceptView {
  return {
    id: concept.id,
    appId: concept.appId,
    name: concept.name,
    createdBy: concept.createdBy,
    createdAt: concept.createdAt.toISOString(),
  };
}

/** Named by the app's users ("dog"), unique per app; never deleted (annotations and models name them). */
export const concepts: ContentKind<'concepts'> = {
  noun: 'concept',
  ids: conceptIdSchema,
  async add(manager, { appId, createdBy }, { id, name }) {
    await manager.insert(AppConceptEntity, { appId, id, name: name ?? id, createdBy });
    return toConceptView(await manager.findOneByOrFail(AppConceptEntity, { appId, id }));
  },
  duplicate: (item) => `A concept "${item.id}" already exists in this app`,
  async find(manager, appId, id) {
    const concept = await manager.findOneBy(AppConceptEntity, { appId, id });
    return concept ? toConceptView(concept) : null;
  },
  async list(manager, appId, page) {
    const [rows, total] = await pageOf(manager, AppConceptEntity, appId, page);
    return { total, items: rows.map(toConceptView) };
  },
};
