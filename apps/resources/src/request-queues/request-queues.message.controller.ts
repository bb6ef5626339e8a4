import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  BatchAddResult,
  BatchDeleteResult,
  LockedQueueHeadView,
  QueueHeadView,
  QueueOperationResult,
  QueueRequestsPage,
  QueueRequestView,
  RequestQueuesRpc,
  RpcPayload,
} from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { RequestLocksService } from './request-locks.service';
import { RequestQueuesService } from './request-queues.service';

@Controller()
export class RequestQueuesMessageController {
  constructor(
    private readonly queues: RequestQueuesService,
    private readonly locks: RequestLocksService,
  ) {}

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
    @Payload() { id, requestId, client, causedBy }: RpcPayload<typeof RequestQueuesRpc.deleteRequest>,
  ): Promise<{ ok: true }> {
    return this.queues.deleteRequest(id, requestId, client, causedBy);
  }

  @RpcHandler(RequestQueuesRpc.listRequests)
  listRequests(@Payload() req: RpcPayload<typeof RequestQueuesRpc.listRequests>): Promise<QueueRequestsPage> {
    return this.queues.listRequests(req);
  }

  @RpcHandler(RequestQueuesRpc.head)
  head(@Payload() req: RpcPayload<typeof RequestQueuesRpc.head>): Promise<QueueHeadView> {
    return this.queues.head(req);
  }

  @RpcHandler(RequestQueuesRpc.batchAddRequests)
  batchAddRequests(
    @Payload() req: RpcPayload<typeof RequestQueuesRpc.batchAddRequests>,
  ): Promise<BatchAddResult> {
    return this.queues.batchAddRequests(req, req.causedBy);
  }

  @RpcHandler(RequestQueuesRpc.batchDeleteRequests)
  batchDeleteRequests(
    @Payload() req: RpcPayload<typeof RequestQueuesRpc.batchDeleteRequests>,
  ): Promise<BatchDeleteResult> {
    return this.queues.batchDeleteRequests(req, req.causedBy);
  }

  @RpcHandler(RequestQueuesRpc.lockHead)
  lockHead(@Payload() req: RpcPayload<typeof RequestQueuesRpc.lockHead>): Promise<LockedQueueHeadView> {
    return this.locks.lockHead(req);
  }

  @RpcHandler(RequestQueuesRpc.prolongRequestLock)
  prolongRequestLock(
    @Payload() req: RpcPayload<typeof RequestQueuesRpc.prolongRequestLock>,
  ): Promise<{ lockExpiresAt: string }> {
    return this.locks.prolongRequestLock(req);
  }

  @RpcHandler(RequestQueuesRpc.deleteRequestLock)
  deleteRequestLock(
    @Payload() req: RpcPayload<typeof RequestQueuesRpc.deleteRequestLock>,
  ): Promise<{ ok: true }> {
    return this.locks.deleteRequestLock(req);
  }

  @RpcHandler(RequestQueuesRpc.unlockRequests)
  unlockRequests(
    @Payload() req: RpcPayload<typeof RequestQueuesRpc.unlockRequests>,
  ): Promise<{ unlockedCount: number }> {
    return this.locks.unlockRequests(req);
  }
}
