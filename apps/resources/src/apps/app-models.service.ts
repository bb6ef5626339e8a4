import { Injectable } from '@nestjs/common';
import { AppError, AppModelView, AppPrediction, AppsRpc, RpcPayload } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { DataSource, EntityManager, In } from 'typeorm';
import { AppAnnotationEntity } from './app-annotation.entity';
import { AppConceptEntity } from './app-concept.entity';
import { toModelView } from './contents/models';
import { AppInputEntity } from './app-input.entity';
import { AppModelVersionEntity } from './app-model-version.entity';
import { AppModelEntity } from './app-model.entity';
import { AppsService } from './apps.service';
import { learnConcepts, predictConcepts } from './concept-text-model';

/** Training app models on their concepts' annotated inputs, and predicting with the latest version. */
@Injectable()
export class AppModelsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly apps: AppsService,
  ) {}

  private async model(manager: EntityManager, appId: string, modelId: string, lock: boolean) {
    const model = await manager.findOne(AppModelEntity, {
      where: { appId, id: modelId },
      lock: lock ? { mode: 'pessimistic_write' } : undefined,
    });
    if (!model) throw AppError.notFound('The model');
    return model;
  }

  /** Adds a version that learned from every input annotated with one of the model's concepts. */
  async train(req: RpcPayload<typeof AppsRpc.trainModel>): Promise<AppModelView> {
    return this.dataSource.transaction(async (manager) => {
      await this.apps.lockApp(manager, req.appId);
      const model = await this.model(manager, req.appId, req.modelId, true);
      const concepts = await manager.find(AppConceptEntity, {
        where: { appId: req.appId, id: In(model.conceptIds) },
      });
      const annotations = await manager
        .getRepository(AppAnnotationEntity)
        .createQueryBuilder('a')
        .where('a.appId = :appId', { appId: req.appId })
        .andWhere('a.concept_ids && :conceptIds', { conceptIds: model.conceptIds })
        .getMany();
      if (!annotations.length) {
        throw new AppError(
          'conflict',
          `Model "${model.name}" cannot be trained: no input is annotated with its concepts (${model.conceptIds.join(', ')})`,
        );
      }
      const inputIds = [...new Set(annotations.map((a) => a.inputId))].sort();
      const inputs = await manager.find(AppInputEntity, {
        select: { id: true, text: true },
        where: { id: In(inputIds) },
      });
      const textOf = new Map(inputs.map((i) => [i.id, i.text]));
      const byId = new Map(concepts.map((c) => [c.id, c]));
      const learned = learnConcepts(
        model.conceptIds.map((id) => ({ id, name: byId.get(id)?.name ?? id })),
        annotations.map((a) => ({ conceptIds: a.conceptIds, text: textOf.get(a.inputId) ?? null })),
      );
      const version = Object.assign(new AppModelVersionEntity(), {
        id: newId(),
        modelId: model.id,
        appId: req.appId,
        version: model.versionCount + 1,
        conceptIds: model.conceptIds,
        inputIds,
        concepts: learned,
        trainedBy: req.trainedBy,
      });
      await manager.insert(AppModelVersionEntity, version);
      model.versionCount = version.version;
      await manager.save(model);
      return toModelView(model, await manager.findOneByOrFail(AppModelVersionEntity, { id: version.id }));
    });
  }

  async predict(req: RpcPayload<typeof AppsRpc.predict>): Promise<AppPrediction> {
    const manager = this.dataSource.manager;
    const model = await this.model(manager, req.appId, req.modelId, false);
    if (model.versionCount === 0) {
      throw new AppError(
        'conflict',
        `Model "${model.name}" has not been trained yet: train it with POST /v2/apps/${req.appId}/models/${model.id}/train`,
      );
    }
    const latest = await manager.findOneByOrFail(AppModelVersionEntity, {
      modelId: model.id,
      version: model.versionCount,
    });
    return {
      model: { id: model.id, name: model.name, version: latest.version },
      outputs: req.inputs.map((input) => ({
        input: { data: { text: input.data.text } },
        concepts: predictConcepts(latest.concepts, input.data.text),
      })),
    };
  }
}
