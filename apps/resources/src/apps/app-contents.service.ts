import { isUniqueViolation } from '@atrium/persistence';
import { Injectable } from '@nestjs/common';
import { AppContentView, AppError, AppInputView, AppsRpc, ListPage, RpcPayload } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { DataSource } from 'typeorm';
import { AppAnnotationEntity } from './app-annotation.entity';
import { AppInputEntity } from './app-input.entity';
import { AppsService } from './apps.service';
import { addContent, CONTENT_KINDS, duplicateOf } from './contents/content-kinds';
import { withConcepts } from './contents/inputs';

/** `\`, `%` and `_` match themselves in an ILIKE pattern. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The contents of an app — inputs, annotations, concepts, models, workflows, tasks, collectors,
 * vocabularies, each kind's own code in `contents/` — and searches over its inputs. Whatever an
 * item refers to must exist in the same app; each change is one transaction that holds the app
 * against a concurrent delete.
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
        return addContent(manager, { appId, createdBy, id: newId() }, content);
      });
    } catch (err) {
      const duplicate = isUniqueViolation(err) ? duplicateOf(content) : undefined;
      if (duplicate) throw new AppError('conflict', duplicate);
      throw err;
    }
  }

  async get(req: RpcPayload<typeof AppsRpc.getContent>): Promise<AppContentView> {
    const { appId, kind, id } = req;
    const contents = CONTENT_KINDS[kind];
    const found = contents.ids.safeParse(id).success
      ? await contents.find(this.dataSource.manager, appId, id)
      : null;
    if (!found) throw AppError.notFound(`The ${contents.noun}`);
    return found;
  }

  async delete(req: RpcPayload<typeof AppsRpc.deleteContent>): Promise<{ ok: true }> {
    const { appId, kind, id } = req;
    const contents = CONTENT_KINDS[kind];
    const remove = contents.remove;
    if (!remove) throw new AppError('method-not-allowed', `${capitalized(kind)} cannot be deleted`);
    const notFound = AppError.notFound(`The ${contents.noun}`);
    if (!contents.ids.safeParse(id).success) throw notFound;
    await this.dataSource.transaction(async (manager) => {
      if (!(await remove(manager, appId, id))) throw notFound;
    });
    return { ok: true };
  }

  async list(req: RpcPayload<typeof AppsRpc.listContents>): Promise<ListPage<AppContentView>> {
    const { appId, kind, page } = req;
    await this.apps.get(appId);
    const { total, items } = await CONTENT_KINDS[kind].list(this.dataSource.manager, appId, page);
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
      return (await withConcepts(manager, [input]))[0]!;
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
    const items = await withConcepts(manager, rows);
    return { total, ...page, count: items.length, items };
  }
}

const capitalized = (word: string) => `${word[0]!.toUpperCase()}${word.slice(1)}`;
