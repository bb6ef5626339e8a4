import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { EnvironmentsRpc, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { EnvironmentsService } from './environments.service';

type Payload<K extends keyof typeof EnvironmentsRpc> = RpcPayload<(typeof EnvironmentsRpc)[K]>;

/** What is special about environments; their catalogue routes and their groups' come from the descriptors. */
@Controller()
export class EnvironmentsMessageController {
  constructor(private readonly environments: EnvironmentsService) {}

  @RpcHandler(EnvironmentsRpc.runEnvironmentAction)
  runAction(@Payload() req: Payload<'runEnvironmentAction'>) {
    return this.environments.runAction(req);
  }

  @RpcHandler(EnvironmentsRpc.cloneEnvironment)
  clone(@Payload() req: Payload<'cloneEnvironment'>) {
    return this.environments.clone(req);
  }

  @RpcHandler(EnvironmentsRpc.getEnvironmentLog)
  log(@Payload() req: Payload<'getEnvironmentLog'>) {
    return this.environments.log(req);
  }

  @RpcHandler(EnvironmentsRpc.verifyOwnedItems)
  verifyOwned(@Payload() req: Payload<'verifyOwnedItems'>) {
    return this.environments.verifyOwned(req);
  }
}
