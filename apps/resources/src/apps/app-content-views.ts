import {
  AppAnnotationView,
  AppConceptView,
  AppContentKind,
  AppContentView,
  AppInputView,
  AppModelVersionView,
  AppModelView,
} from '@atrium/contracts';
import { AppAnnotationEntity } from './app-annotation.entity';
import { AppComponentEntity } from './app-component.entity';
import { AppConceptEntity } from './app-concept.entity';
import { AppInputEntity } from './app-input.entity';
import { AppModelVersionEntity } from './app-model-version.entity';
import { AppModelEntity } from './app-model.entity';

/** How messages name one item of each kind. */
export const CONTENT_NOUNS: Record<AppContentKind, string> = {
  inputs: 'input',
  annotations: 'annotation',
  concepts: 'concept',
  models: 'model',
  workflows: 'workflow',
  tasks: 'task',
  collectors: 'collector',
  vocabs: 'vocabulary',
};

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

export function toAnnotationView(annotation: AppAnnotationEntity): AppAnnotationView {
  return {
    id: annotation.id,
    appId: annotation.appId,
    inputId: annotation.inputId,
    conceptIds: annotation.conceptIds,
    createdBy: annotation.createdBy,
    createdAt: annotation.createdAt.toISOString(),
  };
}

export function toConceptView(concept: AppConceptEntity): AppConceptView {
  return {
    id: concept.id,
    appId: concept.appId,
    name: concept.name,
    createdBy: concept.createdBy,
    createdAt: concept.createdAt.toISOString(),
  };
}

export function toModelVersionView(version: AppModelVersionEntity): AppModelVersionView {
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

/** Workflows and collectors show the models they use, tasks and vocabularies their concepts. */
export function toComponentView(component: AppComponentEntity): AppContentView {
  const base = {
    id: component.id,
    appId: component.appId,
    name: component.name,
    description: component.description,
    createdBy: component.createdBy,
    createdAt: component.createdAt.toISOString(),
  };
  switch (component.kind) {
    case 'workflows':
      return { ...base, modelIds: component.modelIds };
    case 'collectors':
      return { ...base, modelId: component.modelIds[0] ?? null };
    case 'tasks':
    case 'vocabs':
      return { ...base, conceptIds: component.conceptIds };
  }
}
