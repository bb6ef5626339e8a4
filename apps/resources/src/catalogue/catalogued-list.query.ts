import { ResourceType } from '@atrium/contracts';
import { DataSource, In, ObjectLiteral, ObjectType } from 'typeorm';
import { ResourceEntity } from './resource.entity';

export interface CataloguedListRequest {
  /** Exactly one of ownerId or ownerIds (a page of the owners' resources) or ids (these, in this order). */
  ownerId?: string;
  ownerIds?: string[];
  ids?: string[];
  /** With ownerId: include unnamed resources too. */
  unnamed: boolean;
  page: { offset: number; limit: number; desc: boolean };
}

/**
 * Lists resources of a type with their type-specific row (an entity keyed by the catalogue id):
 * the owners', by creation time, or the given ids in the caller's order (the permissions service
 * pages those).
 */
export async function listCatalogued<T extends ObjectLiteral>(
  dataSource: DataSource,
  type: ResourceType,
  entity: ObjectType<T>,
  req: CataloguedListRequest,
): Promise<{ total: number; rows: { resource: ResourceEntity; state: T }[] }> {
  const { offset, limit, desc } = req.page;
  const query = dataSource
    .getRepository(ResourceEntity)
    .createQueryBuilder('r')
    .innerJoinAndMapOne('r.state', entity, 's', 's.id = r.id')
    .where('r.type = :type', { type });
  const owners = req.ownerIds ?? (req.ownerId !== undefined ? [req.ownerId] : undefined);
  if (owners) {
    query.andWhere({ ownerId: In(owners) });
    if (!req.unnamed) query.andWhere('r.name IS NOT NULL');
    query
      .orderBy('r.createdAt', desc ? 'DESC' : 'ASC')
      .addOrderBy('r.id', 'ASC')
      .skip(offset)
      .take(limit);
  } else {
    query.andWhere({ id: In(req.ids ?? []) });
  }
  // Given ids are all there is (no page): their count needs no second query.
  const [resources, total] = req.ids
    ? await query.getMany().then((found) => [found, found.length] as const)
    : await query.getManyAndCount();
  const rows = resources.map((resource) => ({
    resource,
    state: (resource as ResourceEntity & { state: T }).state,
  }));
  if (req.ids) {
    const position = new Map(req.ids.map((id, i) => [id, i]));
    rows.sort((a, b) => (position.get(a.resource.id) ?? 0) - (position.get(b.resource.id) ?? 0));
  }
  return { total, rows };
}
