import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import {
  AppContentAdd,
  AppContentBody,
  AppContentView,
  AppError,
  AppInputView,
  AppsRpc,
  idSchema,
  ListPage,
  RpcPayload,
} from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { DataSource, EntityManager, In } from 'typeorm';
import { AppAnnotationEntity } from './app-annotation.entity';
import { AppComponentEntity, AppComponentKind } from './app-component.entity';
import { AppConceptEntity } from './app-concept.entity';
import {
  CONTENT_NOUNS,
  toAnnotationView,
  toComponentView,
  toConceptView,
  toInputView,
  toModelView,
} from './app-content-views';
import { AppInputEntity } from './app-input.entity';
import { AppModelVersionEntity } from './app-model-version.entity';
import { AppModelEntity } from './app-model.entity';
import { AppsService } from './apps.service';

/** `\`, `%` and `_` match themselves in an ILIKE pattern. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The contents of an app — inputs, annotations, concepts, models, workflows, tasks, collectors,
 * vocabularies — and searches over its inputs. Whatever an item refers to must exist in the same
 * app; each change is one transaction that holds the app against a concurrent delete.
 */
@Injectable()
export class AppContentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly apps: AppsService,
  ) {}

  async add(req: RpcPayload<typeof AppsRpc.addContent>): Promise<AppContentView> {
    const { appId, createdBy, content } = req;
    try {
      return await this.dataSource.transaction(async (manager) => {
        await this.apps.lockApp(manager, appId);
        return this.insert(manager, appId, createdBy, content);
      });
    } catch (err) {
      if (isUniqueViolation(err) && content.kind === 'concepts') {
        throw new AppError('conflict', `A concept "${content.item.id}" already exists in this app`);
      }
      throw err;
    }
  }

  private async insert(
    manager: EntityManager,
    appId: string,
    createdBy: string,
    content: AppContentAdd,
  ): Promise<AppContentView> {
    const id = newId();
    switch (content.kind) {
      case 'inputs': {
        const { text, url, metadata } = content.item.data;
        await manager.save(
          Object.assign(new AppInputEntity(), {
            id,
            appId,
            text: text ?? null,
            url: url ?? null,
            metadata: metadata ?? {},
            createdBy,
          }),
        );
        return toInputView(await manager.findOneByOrFail(AppInputEntity, { id }));
      }
      case 'annotations': {
        const { inputId, conceptIds } = content.item;
        const input = await manager.findOne(AppInputEntity, {
          where: { id: inputId, appId },
          lock: { mode: 'pessimistic_read' },
        });
        if (!input)
          throw new AppError(
            'invalid-input',
            `Field "body.inputId" is invalid: no input ${inputId} in this app`,
          );
        await this.requireConcepts(manager, appId, conceptIds, 'body.conceptIds');
        await manager.insert(AppAnnotationEntity, { id, appId, inputId, conceptIds, createdBy });
        return toAnnotationView(await manager.findOneByOrFail(AppAnnotationEntity, { id }));
      }
      case 'concepts': {
        const { id: conceptId, name } = content.item;
        await manager.insert(AppConceptEntity, { appId, id: conceptId, name: name ?? conceptId, createdBy });
        return toConceptView(await manager.findOneByOrFail(AppConceptEntity, { appId, id: conceptId }));
      }
      case 'models': {
        const { name, description, conceptIds } = content.item;
        await this.requireConcepts(manager, appId, conceptIds, 'body.conceptIds');
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
      }
      case 'workflows':
      case 'tasks':
      case 'collectors':
      case 'vocabs':
        return this.insertComponent(manager, appId, createdBy, id, content);
    }
  }

  private async insertComponent(
    manager: EntityManager,
    appId: string,
    createdBy: string,
    id: string,
    content: Extract<AppContentAdd, { kind: AppComponentKind }>,
  ): Promise<AppContentView> {
    let modelIds: string[] = [];
    let conceptIds: string[] = [];
    if (content.kind === 'workflows') {
      modelIds = content.item.modelIds;
      await this.requireModels(manager, appId, modelIds, 'body.modelIds');
    } else if (content.kind === 'collectors') {
      modelIds = content.item.modelId ? [content.item.modelId] : [];
      await this.requireModels(manager, appId, modelIds, 'body.modelId');
    } else {
      conceptIds = (content.item as AppContentBody<'tasks' | 'vocabs'>).conceptIds;
      await this.requireConcepts(manager, appId, conceptIds, 'body.conceptIds');
    }
    await manager.insert(AppComponentEntity, {
      id,
      appId,
      kind: content.kind,
      name: content.item.name,
      description: content.item.description ?? null,
      modelIds,
      conceptIds,
      createdBy,
    });
    return toComponentView(await manager.findOneByOrFail(AppComponentEntity, { id }));
  }

  /** Concepts of the app; the first missing one is named with its position in the field. */
  private async requireConcepts(
    manager: EntityManager,
    appId: string,
    ids: readonly string[],
    field: string,
  ): Promise<void> {
    const found = await manager.find(AppConceptEntity, {
      select: { id: true },
      where: { appId, id: In([...ids]) },
      lock: { mode: 'pessimistic_read' },
    });
    const known = new Set(found.map((c) => c.id));
    const missing = ids.findIndex((id) => !known.has(id));
    if (missing >= 0) {
      throw new AppError(
        'invalid-input',
        `Field "${field}.${missing}" is invalid: no concept "${ids[missing]}" in this app; add it first`,
      );
    }
  }

  private async requireModels(
    manager: EntityManager,
    appId: string,
    ids: readonly string[],
    field: string,
  ): Promise<void> {
    if (!ids.length) return;
    const found = await manager.find(AppModelEntity, {
      select: { id: true },
      where: { appId, id: In([...ids]) },
      lock: { mode: 'pessimistic_read' },
    });
    const known = new Set(found.map((m) => m.id));
    const missing = ids.findIndex((id) => !known.has(id));
    if (missing >= 0) {
      const name = field.endsWith('s') ? `${field}.${missing}` : field;
      throw new AppError('invalid-input', `Field "${name}" is invalid: no model ${ids[missing]} in this app`);
    }
  }

  async get(req: RpcPayload<typeof AppsRpc.getContent>): Promise<AppContentView> {
    const { appId, kind, id } = req;
    const manager = this.dataSource.manager;
    const notFound = AppError.notFound(`The ${CONTENT_NOUNS[kind]}`);
    if (kind === 'concepts') {
      const concept = await manager.findOneBy(AppConceptEntity, { appId, id });
      if (!concept) throw notFound;
      return toConceptView(concept);
    }
    if (!idSchema.safeParse(id).success) throw notFound;
    switch (kind) {
      case 'inputs': {
        const input = await manager.findOneBy(AppInputEntity, { appId, id });
        if (!input) throw notFound;
        return (await this.withConcepts(manager, [input]))[0]!;
      }
      case 'annotations': {
        const annotation = await manager.findOneBy(AppAnnotationEntity, { appId, id });
        if (!annotation) throw notFound;
        return toAnnotationView(annotation);
      }
      case 'models': {
        const model = await manager.findOneBy(AppModelEntity, { appId, id });
        if (!model) throw notFound;
        return (await this.withLatestVersions(manager, [model]))[0]!;
      }
      default: {
        const component = await manager.findOneBy(AppComponentEntity, { appId, id, kind });
        if (!component) throw notFound;
        return toComponentView(component);
      }
    }
  }

  async delete(req: RpcPayload<typeof AppsRpc.deleteContent>): Promise<{ ok: true }> {
    const { appId, kind, id } = req;
    if (kind === 'concepts') throw new AppError('method-not-allowed', 'Concepts cannot be deleted');
    const notFound = AppError.notFound(`The ${CONTENT_NOUNS[kind]}`);
    if (!idSchema.safeParse(id).success) throw notFound;
    await this.dataSource.transaction(async (manager) => {
      switch (kind) {
        case 'inputs': {
          const input = await manager.findOne(AppInputEntity, {
            where: { appId, id },
            lock: { mode: 'pessimistic_write' },
          });
          if (!input) throw notFound;
          // Its annotations go with it; trained model versions keep what they learned.
          await manager.delete(AppAnnotationEntity, { appId, inputId: id });
          await manager.delete(AppInputEntity, { appId, id });
          return;
        }
        case 'models': {
          const model = await manager.findOne(AppModelEntity, {
            where: { appId, id },
            lock: { mode: 'pessimistic_write' },
          });
          if (!model) throw notFound;
          const users = await manager
            .getRepository(AppComponentEntity)
            .createQueryBuilder('c')
            .where('c.appId = :appId', { appId })
            .andWhere(':id = ANY(c.model_ids)', { id })
            .orderBy('c.createdAt', 'ASC')
            .getMany();
          if (users.length) {
            const names = users.map((c) => `${CONTENT_NOUNS[c.kind]} "${c.name}" (${c.id})`).join(', ');
            throw new AppError('conflict', `The model is used by ${names}; delete or change those first`);
          }
          await manager.delete(AppModelVersionEntity, { modelId: id });
          await manager.delete(AppModelEntity, { appId, id });
          return;
        }
        case 'annotations': {
          const result = await manager.delete(AppAnnotationEntity, { appId, id });
          if (!result.affected) throw notFound;
          return;
        }
        default: {
          const result = await manager.delete(AppComponentEntity, { appId, id, kind });
          if (!result.affected) throw notFound;
        }
      }
    });
    return { ok: true };
  }

  async list(req: RpcPayload<typeof AppsRpc.listContents>): Promise<ListPage<AppContentView>> {
    const { appId, kind, page } = req;
    await this.apps.get(appId);
    const manager = this.dataSource.manager;
    const order = page.desc ? 'DESC' : 'ASC';
    const paged = <T extends { appId: string; createdAt: Date }>(
      entity: new () => T,
      where: Record<string, unknown> = {},
    ) =>
      manager.findAndCount(entity, {
        where: { appId, ...where } as never,
        order: { createdAt: order, id: 'ASC' } as never,
        skip: page.offset,
        take: page.limit,
      });
    let total: number;
    let items: AppContentView[];
    switch (kind) {
      case 'inputs': {
        const [rows, count] = await paged(AppInputEntity);
        [total, items] = [count, await this.withConcepts(manager, rows)];
        break;
      }
      case 'annotations': {
        const [rows, count] = await paged(AppAnnotationEntity);
        [total, items] = [count, rows.map(toAnnotationView)];
        break;
      }
      case 'concepts': {
        const [rows, count] = await paged(AppConceptEntity);
        [total, items] = [count, rows.map(toConceptView)];
        break;
      }
      case 'models': {
        const [rows, count] = await paged(AppModelEntity);
        [total, items] = [count, await this.withLatestVersions(manager, rows)];
        break;
      }
      default: {
        const [rows, count] = await paged(AppComponentEntity, { kind });
        [total, items] = [count, rows.map(toComponentView)];
      }
    }
    return { total, ...page, count: items.length, items };
  }

  async patchInput(req: RpcPayload<typeof AppsRpc.patchInput>): Promise<AppInputView> {
    const { appId, id, changes } = req;
    return this.dataSource.transaction(async (manager) => {
      const input = await manager.findOne(AppInputEntity, {
        where: { appId, id },
        lock: { mode: 'pessimistic_write' },
      });
      if (!input) throw AppError.notFound('The input');
      const { text, url, metadata } = changes.data;
      if (text !== undefined) input.text = text;
      if (url !== undefined) input.url = url;
      if (metadata !== undefined) input.metadata = metadata;
      if (input.text === null && input.url === null) {
        throw new AppError('invalid-input', 'Field "body.data" is invalid: an input keeps a text or a url');
      }
      await manager.save(input);
      return (await this.withConcepts(manager, [input]))[0]!;
    });
  }

  /** Inputs whose text contains `text` (any case) and that are annotated with every concept given. */
  async search(req: RpcPayload<typeof AppsRpc.search>): Promise<ListPage<AppInputView>> {
    const { appId, query, page } = req;
    await this.apps.get(appId);
    const manager = this.dataSource.manager;
    const qb = manager
      .getRepository(AppInputEntity)
      .createQueryBuilder('i')
      .where('i.appId = :appId', { appId });
    if (query.text !== undefined) {
      qb.andWhere(`i.text ILIKE :pattern ESCAPE '\\'`, { pattern: containsPattern(query.text) });
    }
    (query.conceptIds ?? []).forEach((conceptId, n) => {
      const annotated = qb
        .subQuery()
        .select('1')
        .from(AppAnnotationEntity, `a${n}`)
        .where(`a${n}.input_id = i.id`)
        .andWhere(`:concept${n} = ANY(a${n}.concept_ids)`)
        .getQuery();
      qb.andWhere(`EXISTS ${annotated}`, { [`concept${n}`]: conceptId });
    });
    const [rows, total] = await qb
      .orderBy('i.createdAt', page.desc ? 'DESC' : 'ASC')
      .addOrderBy('i.id', 'ASC')
      .skip(page.offset)
      .take(page.limit)
      .getManyAndCount();
    const items = await this.withConcepts(manager, rows);
    return { total, ...page, count: items.length, items };
  }

  /** Input views with the concepts their annotations name. */
  private async withConcepts(manager: EntityManager, inputs: AppInputEntity[]): Promise<AppInputView[]> {
    if (!inputs.length) return [];
    const annotations = await manager.find(AppAnnotationEntity, {
      select: { inputId: true, conceptIds: true },
      where: { inputId: In(inputs.map((i) => i.id)) },
    });
    const concepts = new Map<string, Set<string>>();
    for (const a of annotations) {
      const set = concepts.get(a.inputId) ?? new Set<string>();
      a.conceptIds.forEach((c) => set.add(c));
      concepts.set(a.inputId, set);
    }
    return inputs.map((input) => toInputView(input, [...(concepts.get(input.id) ?? [])].sort()));
  }

  private async withLatestVersions(manager: EntityManager, models: AppModelEntity[]) {
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
}
