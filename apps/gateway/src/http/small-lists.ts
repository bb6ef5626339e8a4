import { AppError, idSchema, ListPage } from '@atrium/contracts';
import { z } from 'zod';
import { paginationQuery } from './api-query';

/** A malformed id in the path names nothing: 404, as for an absent record. */
export function pathId(value: string, what: string, schema: z.ZodTypeAny = idSchema): string {
  if (!schema.safeParse(value).success) throw AppError.notFound(what);
  return value;
}

/** The query of a list paged in the gateway (`pageOf`). */
export const pageQuery = z.object(paginationQuery);
export type PageQuery = z.output<typeof pageQuery>;

/** A list envelope over a whole (small) list, paged by the query's offset, limit and desc. */
export function pageOf<T>(items: readonly T[], q: PageQuery): ListPage<T> {
  const offset = q.offset ?? 0;
  const limit = Math.min(q.limit ?? 1000, 1000);
  const desc = q.desc ?? false;
  const ordered = desc ? [...items].reverse() : [...items];
  const page = ordered.slice(offset, offset + limit);
  return { total: items.length, offset, limit, desc, count: page.length, items: page };
}
