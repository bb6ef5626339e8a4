import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ResourceFacts, ResourcesRpc, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { CatalogueService } from './catalogue.service';
import { SignaturesService } from './signatures.service';

@Controller()
export class CatalogueMessageController {
  constructor(
    private readonly catalogue: CatalogueService,
    private readonly signatures: SignaturesService,
  ) {}

  @RpcHandler(ResourcesRpc.getResourceFacts)
  facts(@Payload() { id }: RpcPayload<typeof ResourcesRpc.getResourceFacts>): Promise<ResourceFacts | null> {
    return this.catalogue.facts(id);
  }

  @RpcHandler(ResourcesRpc.findResourceFactsByName)
  factsByName(
    @Payload() req: RpcPayload<typeof ResourcesRpc.findResourceFactsByName>,
  ): Promise<ResourceFacts | null> {
    return this.catalogue.factsByName(req.type, req.ownerId, req.name);
  }

  @RpcHandler(ResourcesRpc.verifySignature)
  verifySignature(@Payload() req: RpcPayload<typeof ResourcesRpc.verifySignature>): Promise<{ valid: true }> {
    return this.signatures.verify(req);
  }

  @RpcHandler(ResourcesRpc.rotateSigningKey)
  rotateSigningKey(
    @Payload() req: RpcPayload<typeof ResourcesRpc.rotateSigningKey>,
  ): Promise<{ urlSigningSecretKey: string }> {
    return this.signatures.rotate(req);
  }

  @RpcHandler(ResourcesRpc.rotateSigningKeys)
  rotateSigningKeys(
    @Payload() rotation: RpcPayload<typeof ResourcesRpc.rotateSigningKeys>,
  ): Promise<{ rotated: number }> {
    return this.signatures.rotateDeclared(rotation);
  }
}
