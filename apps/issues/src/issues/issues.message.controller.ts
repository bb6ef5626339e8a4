import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { IssuesRpc, IssueView, ListPage, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { IssuesService } from './issues.service';

@Controller()
export class IssuesMessageController {
  constructor(private readonly issues: IssuesService) {}

  @RpcHandler(IssuesRpc.create)
  create(@Payload() req: RpcPayload<typeof IssuesRpc.create>): Promise<IssueView> {
    return this.issues.create(req);
  }

  @RpcHandler(IssuesRpc.get)
  get(@Payload() { id }: RpcPayload<typeof IssuesRpc.get>): Promise<IssueView> {
    return this.issues.get(id);
  }

  @RpcHandler(IssuesRpc.list)
  list(@Payload() req: RpcPayload<typeof IssuesRpc.list>): Promise<ListPage<IssueView>> {
    return this.issues.list(req);
  }

  @RpcHandler(IssuesRpc.updateStatus)
  updateStatus(@Payload() req: RpcPayload<typeof IssuesRpc.updateStatus>): Promise<IssueView> {
    return this.issues.updateStatus(req);
  }
}
