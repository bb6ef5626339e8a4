import { AppContentBody, AppContentKind, AppContentViews, AppError } from '@atrium/contracts';
import { EntityManager, In } from 'typeorm';
import { z } from 'zod';
import { AppConceptEntity } from '../app-concept.entity';
import { AppModelEntity } from '../app-model.entity';

export interface Page {
  offset: number;
  limit: number;
  desc: boolean;
}

/** Who adds an item to which app, and the id a new item gets (where the service names it). */
export interface AddContext {
  appId: string;
  createdBy: string;
  id: string;
}

/**
 * One kind of app content: everything that differs between kinds, in one place. Each call runs
 * in the caller's transaction (`add` and `remove` under the app's lock).
 */
export interface ContentKind<K extends AppContentKind> {
  /** How messages name one item. */
  noun: string;
  /** What an item's id looks like: any other id names nothing. */
  ids: z.ZodTypeAny;
  /** Adds an item; whatever it refers to must exist in the same app. */
  add(manager: EntityManager, ctx: AddContext, item: AppContentBody<K>): Promise<AppContentViews[K]>;
  /** The conflict an item already there is (a unique violation), for kinds whose ids are given. */
  duplicate?(item: AppContentBody<K>): string;
  find(manager: EntityManager, appId: string, id: string): Promise<AppContentViews[K] | null>;
  /** Deletes an item and what goes with it; false: there is none. Absent: items are never deleted. */
  remove?(manager: EntityManager, appId: string, id: string): Promise<boolean>;
  list(
    manager: EntityManager,
    appId: string,
    page: Page,
  ): Promise<{ total: number; items: AppContentViews[K][] }>;
}

/** A page of an app's items of one entity, oldest first (or newest, `desc`). */
export function pageOf<T extends { appId: string; createdAt: Date }>(
  manager: EntityManager,
  entity: new () => T,
  appId: string,
  page: Page,
  where: Record<string, unknown> = {},
): Promise<[T[], number]> {
  return manager.findAndCount(entity, {
    where: { appId, ...where } as never,
    order: { createdAt: page.desc ? 'DESC' : 'ASC', id: 'ASC' } as never,
    skip: page.offset,
    take: page.limit,
  });
}

/** Concepts of the app; the first missing one is named with its position in the field. */
export async function requireConcepts(
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

/** Models of the app; a missing one is named by the field (with its position in a list field). */
export async function requireModels(
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
