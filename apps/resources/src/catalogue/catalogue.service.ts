import { Injectable } from '@nestjs/common';
import { ResourceFacts, ResourceType } from '@atrium/contracts';
import { DataSource } from 'typeorm';
import { ResourceEntity } from './resource.entity';

export function toResourceFacts(resource: ResourceEntity): ResourceFacts {
  return {
    id: resource.id,
    type: resource.type,
    ownerId: resource.ownerId,
    name: resource.name,
    generalAccess: resource.generalAccess,
    version: resource.version,
  };
}

/** Answers the permissions service's read-through lookups. */
@Injectable()
export class CatalogueService {
  constructor(private readonly dataSource: DataSource) {}

  async facts(id: string): Promise<ResourceFacts | null> {
    const resource = await this.dataSource.manager.findOneBy(ResourceEntity, { id });
    return resource ? toResourceFacts(resource) : null;
  }

  async factsByName(type: ResourceType, ownerId: string, name: string): Promise<ResourceFacts | null> {
    const resource = await this.dataSource.manager.findOneBy(ResourceEntity, { type, ownerId, name });
    return resource ? toResourceFacts(resource) : null;
  }
}
