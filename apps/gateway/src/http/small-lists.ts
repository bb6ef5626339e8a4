import { AppError, idSchema, ListPage } from '@atrium/contracts';
import { z } from 'zod';
import { paginationQuery, parseQuery } from './api-query';

/** A malformed id in the path names nothing: 404, as for an absent record. */
export function pathId(value: string, what: string, schema: z.ZodTypeAny = idSchema): string {
  if (!schema.safeParse(value).success) throw AppError.notFound(what);
  return value;
}

const pageQuery = z.object(paginationQuery);

/** A list envelope over a whole (small) list, paged by the query's offset, limit and desc. */
export function pageOf<T>(items: readonly T[], query: unknown): ListPage<T> {
  const q = parseQuery(pageQuery, query);
  const offset = q.offset ?? 0;
  const limit = Math.min(q.limit ?? 1000, 1000);
  const desc = q.desc ?? false;
  const ordered = desc ? [...items].reverse() : [...items];
  const page = ordered.slice(offset, offset + limit);
  return { total: items.length, offset, limit, desc, count: page.length, items: page };
}
