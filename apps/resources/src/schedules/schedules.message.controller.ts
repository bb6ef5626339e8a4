import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { RpcPayload, SchedulesRpc } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { SchedulesService } from './schedules.service';

/** What is special about schedules; their catalogue routes come from the descriptor. */
@Controller()
export class SchedulesMessageController {
  constructor(private readonly schedules: SchedulesService) {}

  @RpcHandler(SchedulesRpc.getLog)
  log(@Payload() { id }: RpcPayload<typeof SchedulesRpc.getLog>) {
    return this.schedules.log(id);
  }
}
