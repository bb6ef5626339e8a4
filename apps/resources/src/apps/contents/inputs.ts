import { AppInputView, idSchema } from '@atrium/contracts';
import { EntityManager, In } from 'typeorm';
import { AppAnnotationEntity } from '../app-annotation.entity';
import { AppInputEntity } from '../app-input.entity';
import { ContentKind, pageOf } from './content-kind';

export function toInputView(input: AppInputEntity, conceptIds: string[] = []): AppInputView {
  return {
    id: input.id,
    appId: input.appId,
    data: { text: input.text, url: input.url, metadata: input.metadata },
    conceptIds,
    createdBy: input.createdBy,
    createdAt: input.createdAt.toISOString(),
    modifiedAt: input.modifiedAt.toISOString(),
  };
}

/** Input views with the concepts their annotations name. */
export async function withConcepts(
  manager: EntityManager,
  inputs: AppInputEntity[],
): Promise<AppInputView[]> {
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

/** A text or a url to learn from or search; its annotations name its concepts. */
export const inputs: ContentKind<'inputs'> = {
  noun: 'input',
  ids: idSchema,
  async add(manager, { id, appId, createdBy }, { data: { text, url, metadata } }) {
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
  },
  async find(manager, appId, id) {
    const input = await manager.findOneBy(AppInputEntity, { appId, id });
    return input ? (await withConcepts(manager, [input]))[0]! : null;
  },
  async remove(manager, appId, id) {
    const input = await manager.findOne(AppInputEntity, {
      where: { appId, id },
      lock: { mode: 'pessimistic_write' },
    });
    if (!input) return false;
    // Its annotations go with it; trained model versions keep what they learned.
    await manager.delete(AppAnnotationEntity, { appId, inputId: id });
    await manager.delete(AppInputEntity, { appId, id });
    return true;
  },
  async list(manager, appId, page) {
    const [rows, total] = await pageOf(manager, AppInputEntity, appId, page);
    return { total, items: await withConcepts(manager, rows) };
  },
};
