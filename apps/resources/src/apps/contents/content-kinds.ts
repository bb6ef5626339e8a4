import { AppContentBody, AppContentKind, AppContentViews } from '@atrium/contracts';
import { EntityManager } from 'typeorm';
import { annotations } from './annotations';
import { components } from './components';
import { concepts } from './concepts';
import { AddContext, ContentKind } from './content-kind';
import { inputs } from './inputs';
import { models } from './models';

/** Every kind of app content, by kind. */
export const CONTENT_KINDS: { [K in AppContentKind]: ContentKind<K> } = {
  inputs,
  annotations,
  concepts,
  models,
  ...components,
};

/** Adds an item with its own kind's code (the kind and the item typed together). */
export function addContent<K extends AppContentKind>(
  manager: EntityManager,
  ctx: AddContext,
  content: { kind: K; item: AppContentBody<K> },
): Promise<AppContentViews[K]> {
  return CONTENT_KINDS[content.kind].add(manager, ctx, content.item);
}

/** The conflict a unique violation on adding an item is, for kinds whose ids their users give. */
export function duplicateOf<K extends AppContentKind>(content: {
  kind: K;
  item: AppContentBody<K>;
}): string | undefined {
  return CONTENT_KINDS[content.kind].duplicate?.(content.item);
}
