import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { MoveCheckResult, PermissionsRpc, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { MoveChecksService } from './move-checks.service';

@Controller()
export class MovesMessageController {
  constructor(private readonly moves: MoveChecksService) {}

  /** Whether a move of an environment or group leaves the mover with no more than it has. */
  @RpcHandler(PermissionsRpc.checkMove)
  checkMove(@Payload() req: RpcPayload<typeof PermissionsRpc.checkMove>): Promise<MoveCheckResult> {
    return this.moves.checkMove(req);
  }
}
