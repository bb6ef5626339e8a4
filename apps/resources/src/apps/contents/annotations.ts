import { AppAnnotationView, AppError, idSchema } from '@atrium/contracts';
import { AppAnnotationEntity } from '../app-annotation.entity';
import { AppInputEntity } from '../app-input.entity';
import { ContentKind, pageOf, requireConcepts } from './content-kind';

function toAnnotationView(annotation: AppAnnotationEntity): AppAnnotationView {
  return {
    id: annotation.id,
    appId: annotation.appId,
    inputId: annotation.inputId,
    conceptIds: annotation.conceptIds,
    createdBy: annotation.createdBy,
    createdAt: annotation.createdAt.toISOString(),
  };
}

/** Concepts an input of the app shows. */
export const annotations: ContentKind<'annotations'> = {
  noun: 'annotation',
  ids: idSchema,
  async add(manager, { id, appId, createdBy }, { inputId, conceptIds }) {
    const input = await manager.findOne(AppInputEntity, {
      where: { id: inputId, appId },
      lock: { mode: 'pessimistic_read' },
    });
    if (!input)
      throw new AppError('invalid-input', `Field "body.inputId" is invalid: no input ${inputId} in this app`);
    await requireConcepts(manager, appId, conceptIds, 'body.conceptIds');
    await manager.insert(AppAnnotationEntity, { id, appId, inputId, conceptIds, createdBy });
    return toAnnotationView(await manager.findOneByOrFail(AppAnnotationEntity, { id }));
  },
  async find(manager, appId, id) {
    const annotation = await manager.findOneBy(AppAnnotationEntity, { appId, id });
    return annotation ? toAnnotationView(annotation) : null;
  },
  async remove(manager, appId, id) {
    return !!(await manager.delete(AppAnnotationEntity, { appId, id })).affected;
  },
  async list(manager, appId, page) {
    const [rows, total] = await pageOf(manager, AppAnnotationEntity, appId, page);
    return { total, items: rows.map(toAnnotationView) };
  },
};
