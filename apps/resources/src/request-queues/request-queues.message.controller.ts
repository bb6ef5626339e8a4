import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  ListPage,
  QueueHeadView,
  QueueOperationResult,
  QueueRequestsPage,
  QueueRequestView,
  RequestQueuesRpc,
  RequestQueueView,
  RpcPayload,
} from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { RequestQueuesService } from './request-queues.service';

@Controller()
export class RequestQueuesMessageController {
  constructor(private readonly queues: RequestQueuesService) {}

  @RpcHandler(RequestQueuesRpc.create)
  create(
    @Payload() req: RpcPayload<typeof RequestQueuesRpc.create>,
  ): Promise<{ queue: RequestQueueView; created: boolean }> {
    return this.queues.create(req);
  }

  @RpcHandler(RequestQueuesRpc.get)
  get(@Payload() { id }: RpcPayload<typeof RequestQueuesRpc.get>): Promise<RequestQueueView> {
    return this.queues.get(id);
  }

  @RpcHandler(RequestQueuesRpc.update)
  update(@Payload() req: RpcPayload<typeof RequestQueuesRpc.update>): Promise<RequestQueueView> {
    return this.queues.update(req);
  }

  @RpcHandler(RequestQueuesRpc.delete)
  delete(@Payload() { id }: RpcPayload<typeof RequestQueuesRpc.delete>): Promise<{ ok: true }> {
    return this.queues.delete(id);
  }

  @RpcHandler(RequestQueuesRpc.list)
  list(@Payload() req: RpcPayload<typeof RequestQueuesRpc.list>): Promise<ListPage<RequestQueueView>> {
    return this.queues.list(req);
  }

  @RpcHandler(RequestQueuesRpc.addRequest)
  addRequest(@Payload() req: RpcPayload<typeof RequestQueuesRpc.addRequest>): Promise<QueueOperationResult> {
    return this.queues.addRequest(req, req.causedBy);
  }

  @RpcHandler(RequestQueuesRpc.getRequest)
  getRequest(
    @Payload() { id, requestId }: RpcPayload<typeof RequestQueuesRpc.getRequest>,
  ): Promise<QueueRequestView> {
    return this.queues.getRequest(id, requestId);
  }

  @RpcHandler(RequestQueuesRpc.updateRequest)
  updateRequest(
    @Payload() req: RpcPayload<typeof RequestQueuesRpc.updateRequest>,
  ): Promise<QueueOperationResult> {
    return this.queues.updateRequest(req, req.causedBy);
  }

  @RpcHandler(RequestQueuesRpc.deleteRequest)
  deleteRequest(
    @Payload() { id, requestId, causedBy }: RpcPayload<typeof RequestQueuesRpc.deleteRequest>,
  ): Promise<{ ok: true }> {
    return this.queues.deleteRequest(id, requestId, causedBy);
  }

  @RpcHandler(RequestQueuesRpc.listRequests)
  listRequests(@Payload() req: RpcPayload<typeof RequestQueuesRpc.listRequests>): Promise<QueueRequestsPage> {
    return this.queues.listRequests(req);
  }

  @RpcHandler(RequestQueuesRpc.head)
  head(@Payload() req: RpcPayload<typeof RequestQueuesRpc.head>): Promise<QueueHeadView> {
    return this.queues.head(req);
  }
}
