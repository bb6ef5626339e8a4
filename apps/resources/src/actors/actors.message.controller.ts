import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ActorsRpc, ActorView, ListPage, RpcPayload, StoreActorRow } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { ActorsService } from './actors.service';

@Controller()
export class ActorsMessageController {
  constructor(private readonly actors: ActorsService) {}

  @RpcHandler(ActorsRpc.createActor)
  create(@Payload() req: RpcPayload<typeof ActorsRpc.createActor>): Promise<ActorView> {
    return this.actors.create(req);
  }

  @RpcHandler(ActorsRpc.getActor)
  get(@Payload() { id, revealSecrets }: RpcPayload<typeof ActorsRpc.getActor>): Promise<ActorView> {
    return this.actors.get(id, revealSecrets ?? false);
  }

  @RpcHandler(ActorsRpc.updateActor)
  update(@Payload() req: RpcPayload<typeof ActorsRpc.updateActor>): Promise<ActorView> {
    return this.actors.update(req);
  }

  @RpcHandler(ActorsRpc.deleteActor)
  delete(@Payload() { id }: RpcPayload<typeof ActorsRpc.deleteActor>): Promise<{ ok: true }> {
    return this.actors.delete(id);
  }

  @RpcHandler(ActorsRpc.listStore)
  listStore(@Payload() req: RpcPayload<typeof ActorsRpc.listStore>): Promise<ListPage<StoreActorRow>> {
    return this.actors.listStore(req);
  }

  @RpcHandler(ActorsRpc.listActors)
  list(@Payload() req: RpcPayload<typeof ActorsRpc.listActors>): Promise<ListPage<ActorView>> {
    return this.actors.list(req);
  }
}
