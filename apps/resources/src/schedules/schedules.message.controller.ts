import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ListPage, RpcPayload, SchedulesRpc, ScheduleView } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { SchedulesService } from './schedules.service';

@Controller()
export class SchedulesMessageController {
  constructor(private readonly schedules: SchedulesService) {}

  @RpcHandler(SchedulesRpc.createSchedule)
  create(@Payload() req: RpcPayload<typeof SchedulesRpc.createSchedule>): Promise<ScheduleView> {
    return this.schedules.create(req);
  }

  @RpcHandler(SchedulesRpc.getSchedule)
  get(@Payload() { id }: RpcPayload<typeof SchedulesRpc.getSchedule>): Promise<ScheduleView> {
    return this.schedules.get(id);
  }

  @RpcHandler(SchedulesRpc.updateSchedule)
  update(@Payload() req: RpcPayload<typeof SchedulesRpc.updateSchedule>): Promise<ScheduleView> {
    return this.schedules.update(req);
  }

  @RpcHandler(SchedulesRpc.deleteSchedule)
  delete(@Payload() { id }: RpcPayload<typeof SchedulesRpc.deleteSchedule>): Promise<{ ok: true }> {
    return this.schedules.delete(id);
  }

  @RpcHandler(SchedulesRpc.listSchedules)
  list(@Payload() req: RpcPayload<typeof SchedulesRpc.listSchedules>): Promise<ListPage<ScheduleView>> {
    return this.schedules.list(req);
  }
}
