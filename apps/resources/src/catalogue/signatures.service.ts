import { Injectable } from '@nestjs/common';
import { AppError, ResourcesRpc, RpcPayload, SigningKeyRotation } from '@atrium/contracts';
import { checkRecordSignature, checkStorageContentSignature, randomBase62 } from '@atrium/auth';
import { ProcessedMessageEntity, ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource, EntityManager } from 'typeorm';
import { CatalogueService } from './catalogue.service';
import { ResourceEntity } from './resource.entity';

/** Where applied rotations are remembered (by `rotationId`, beside the events this service applied). */
const ROTATIONS_APPLIED = 'resources.signing-key-rotations';

/** Pre-signed URLs of storage content: the signing keys never leave this service except to writers. */
@Injectable()
export class SignaturesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly catalogue: CatalogueService,
    private readonly outbox: ServiceOutboxRelay,
  ) {}

  async verify(req: RpcPayload<typeof ResourcesRpc.verifySignature>): Promise<{ valid: true }> {
    const resource = await this.catalogue.load(this.dataSource.manager, req.type, req.id);
    const result =
      req.recordKey === undefined
        ? checkStorageContentSignature(req.signature, resource.id, resource.signingKey)
        : checkRecordSignature(req.signature, req.recordKey, resource.signingKey, resource.id);
    if (result === 'expired') throw new AppError('invalid-signature', 'The signature has expired');
    if (result === 'invalid')
      throw new AppError('invalid-signature', 'The signature is not valid for this content');
    return { valid: true };
  }

  async rotate(
    req: RpcPayload<typeof ResourcesRpc.rotateSigningKey>,
  ): Promise<{ urlSigningSecretKey: string }> {
    const resource = await this.dataSource.transaction(async (manager) => {
      const current = await this.catalogue.load(manager, req.type, req.id, true);
      return this.catalogue.update(manager, current, { signingKey: randomBase62(32) });
    });
    this.outbox.kick();
    return { urlSigningSecretKey: resource.signingKey };
  }

  /** A declared rotation, applied now (its changer waits for it before answering). */
  async rotateDeclared(rotation: SigningKeyRotation): Promise<{ rotated: number }> {
    return { rotated: await this.dataSource.transaction((manager) => this.applyRotation(manager, rotation)) };
  }

  /**
   * New keys for the rotation's storages, in one statement whatever their number, once per
   * `rotationId`: the changer's call and its event (whichever comes second) rotate nothing more, so
   * a key read after the change was answered stays valid. Neither facts nor version change: a
   * signing key is no fact the permissions service projects.
   */
  async applyRotation(manager: EntityManager, rotation: SigningKeyRotation): Promise<number> {
    const first = await manager
      .createQueryBuilder()
      .insert()
      .into(ProcessedMessageEntity)
      .values({ consumer: ROTATIONS_APPLIED, messageId: rotation.rotationId })
      .orIgnore()
      .returning(['messageId'])
      .execute();
    if (!first.raw.length) return 0;
    const table = manager.connection.getMetadata(ResourceEntity).tablePath;
    const rows: { id: string }[] = await manager.query(
      `SELECT id FROM ${table}
        WHERE owner_id = $1 AND type = ANY($2::varchar[]) AND ($3::varchar[] IS NULL OR id = ANY($3::varchar[]))
          FOR UPDATE`,
      [rotation.ownerId, rotation.types, rotation.resourceIds ?? null],
    );
    if (!rows.length) return 0;
    await manager.query(
      `UPDATE ${table} r SET signing_key = k.key
         FROM unnest($1::varchar[], $2::varchar[]) AS k(id, key)
        WHERE r.id = k.id`,
      [rows.map((r) => r.id), rows.map(() => randomBase62(32))],
    );
    return rows.length;
  }
}
