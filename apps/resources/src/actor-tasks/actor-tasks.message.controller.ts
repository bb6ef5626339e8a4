import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ActorTasksRpc, ActorTaskView, ListPage, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { ActorTasksService } from './actor-tasks.service';

@Controller()
export class ActorTasksMessageController {
  constructor(private readonly tasks: ActorTasksService) {}

  @RpcHandler(ActorTasksRpc.createTask)
  create(@Payload() req: RpcPayload<typeof ActorTasksRpc.createTask>): Promise<ActorTaskView> {
    return this.tasks.create(req);
  }

  @RpcHandler(ActorTasksRpc.getTask)
  get(@Payload() { id }: RpcPayload<typeof ActorTasksRpc.getTask>): Promise<ActorTaskView> {
    return this.tasks.get(id);
  }

  @RpcHandler(ActorTasksRpc.updateTask)
  update(@Payload() req: RpcPayload<typeof ActorTasksRpc.updateTask>): Promise<ActorTaskView> {
    return this.tasks.update(req);
  }

  @RpcHandler(ActorTasksRpc.deleteTask)
  delete(@Payload() { id }: RpcPayload<typeof ActorTasksRpc.deleteTask>): Promise<{ ok: true }> {
    return this.tasks.delete(id);
  }

  @RpcHandler(ActorTasksRpc.listTasks)
  list(@Payload() req: RpcPayload<typeof ActorTasksRpc.listTasks>): Promise<ListPage<ActorTaskView>> {
    return this.tasks.list(req);
  }
}
