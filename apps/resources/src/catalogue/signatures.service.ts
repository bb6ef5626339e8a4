import { Injectable } from '@nestjs/common';
import { AppError, ResourcesRpc, RpcPayload } from '@atrium/contracts';
import { checkRecordSignature, checkStorageContentSignature, randomBase62 } from '@atrium/auth';
import { ServiceOutboxRelay } from '@atrium/messaging';
import { DataSource } from 'typeorm';
import { CatalogueService } from './catalogue.service';

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
        : checkRecordSignature(req.signature, req.recordKey, resource.signingKey);
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
}
