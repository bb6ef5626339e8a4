import { Injectable } from '@nestjs/common';
import { Events, ResourceType } from '@atrium/contracts';
import { addToOutbox, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource } from 'typeorm';
import { ResourceProjectionEntity } from '../projections/resource-projection.entity';
import { TokenCreationEntity } from './token-creation.entity';

/** The most ids a narrowed listing carries (a scope names at most 200 resources). */
export const MAX_LISTED_IDS = 1000;

/** What scoped API tokens created: rule 1 lets a token do more on its own creations. */
@Injectable()
export class TokenCreationsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  async createdByToken(tokenId: string, resourceId: string): Promise<boolean> {
    return this.dataSource.manager.exists(TokenCreationEntity, { where: { tokenId, resourceId } });
  }

  /**
   * The resources of a type a token created (that still exist), for its listings: candidates, each
   * still decided on its own. One created a moment ago may not be projected here yet (its event is
   * on its way): it is listed as a candidate of any type, and the listing's fetch of that type
   * leaves it out if it is another's — so a listing right after a creation shows it.
   */
  async creationsOf(tokenId: string, type: ResourceType): Promise<string[]> {
    const rows = await this.dataSource
      .getRepository(TokenCreationEntity)
      .createQueryBuilder('c')
      .leftJoin(ResourceProjectionEntity, 'r', 'r.id = c.resourceId')
      .select('c.resourceId', 'id')
      .where('c.tokenId = :tokenId AND (r.id IS NULL OR (r.type = :type AND NOT r.deleted))', {
        tokenId,
        type,
      })
      .orderBy('c.resourceId')
      .limit(MAX_LISTED_IDS)
      .getRawMany<{ id: string }>();
    return rows.map((r) => r.id);
  }

  /** Records that a scoped token created a resource (idempotent). */
  async record(tokenId: string, resourceId: string): Promise<{ ok: true }> {
    await this.dataSource.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(TokenCreationEntity)
        .values({ tokenId, resourceId })
        .orIgnore()
        .returning(['tokenId'])
        .execute();
      // Other replicas may hold a decision of that token on the resource from before.
      if (inserted.raw.length)
        await addToOutbox(manager, Events.permissionsChanged, {
          resourceId,
          subjectId: null,
          reason: 'token-creation',
        });
    });
    this.outbox.kick();
    return { ok: true };
  }
}
