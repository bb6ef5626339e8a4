import { AppError, AppModelVersionView, AppModelView, idSchema } from '@atrium/contracts';
import { EntityManager } from 'typeorm';
import { AppComponentEntity } from '../app-component.entity';
import { AppModelVersionEntity } from '../app-model-version.entity';
import { AppModelEntity } from '../app-model.entity';
import { components } from './components';
import { ContentKind, pageOf, requireConcepts } from './content-kind';

function toModelVersionView(version: AppModelVersionEntity): AppModelVersionView {
  return {
    version: version.version,
    conceptIds: version.conceptIds,
    inputIds: version.inputIds,
    examples: Object.fromEntries(version.concepts.map((c) => [c.id, c.examples])),
    trainedBy: version.trainedBy,
    createdAt: version.createdAt.toISOString(),
  };
}

export function toModelView(model: AppModelEntity, latest: AppModelVersionEntity | null): AppModelView {
  return {
    id: model.id,
    appId: model.appId,
    name: model.name,
    description: model.description,
    conceptIds: model.conceptIds,
    versionCount: model.versionCount,
    latestVersion: latest ? toModelVersionView(latest) : null,
    createdBy: model.createdBy,
    createdAt: model.createdAt.toISOString(),
    modifiedAt: model.modifiedAt.toISOString(),
  };
}

/** Model views with their latest trained versions. */
async function withLatestVersions(manager: EntityManager, models: AppModelEntity[]): Promise<AppModelView[]> {
  const trained = models.filter((m) => m.versionCount > 0);
  const versions = trained.length
    ? await manager
        .getRepository(AppModelVersionEntity)
        .createQueryBuilder('v')
        .where('v.modelId IN (:...ids)', { ids: trained.map((m) => m.id) })
        .distinctOn(['v.modelId'])
        .orderBy('v.modelId', 'ASC')
        .addOrderBy('v.version', 'DESC')
        .getMany()
    : [];
  const latest = new Map(versions.map((v) => [v.modelId, v]));
  return models.map((m) => toModelView(m, latest.get(m.id) ?? null));
}

/** Learns its concepts from annotated inputs (AppModelsService trains and predicts). */
export const models: ContentKind<'models'> = {
  noun: 'model',
  ids: idSchema,
  async add(manager, { id, appId, createdBy }, { name, description, conceptIds }) {
    await requireConcepts(manager, appId, conceptIds, 'body.conceptIds');
    await manager.insert(AppModelEntity, {
      id,
      appId,
      name,
      description: description ?? null,
      conceptIds,
      versionCount: 0,
      createdBy,
    });
    return toModelView(await manager.findOneByOrFail(AppModelEntity, { id }), null);
  },
  async find(manager, appId, id) {
    const model = await manager.findOneBy(AppModelEntity, { appId, id });
    return model ? (await withLatestVersions(manager, [model]))[0]! : null;
  },
  /** Not while a workflow or collector uses it; its versions go with it. */
  async remove(manager, appId, id) {
    const model = await manager.findOne(AppModelEntity, {
      where: { appId, id },
      lock: { mode: 'pessimistic_write' },
    });
    if (!model) return false;
    const users = await manager
      .getRepository(AppComponentEntity)
      .createQueryBuilder('c')
      .where('c.appId = :appId', { appId })
      .andWhere(':id = ANY(c.model_ids)', { id })
      .orderBy('c.createdAt', 'ASC')
      .getMany();
    if (users.length) {
      const names = users.map((c) => `${components[c.kind].noun} "${c.name}" (${c.id})`).join(', ');
      throw new AppError('conflict', `The model is used by ${names}; delete or change those first`);
    }
    await manager.delete(AppModelVersionEntity, { modelId: id });
    await manager.delete(AppModelEntity, { appId, id });
    return true;
  },
  async list(manager, appId, page) {
    const [rows, total] = await pageOf(manager, AppModelEntity, appId, page);
    return { total, items: await withLatestVersions(manager, rows) };
  },
};
