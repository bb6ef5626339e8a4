import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { IssueCommentView, IssuesRpc, ListPage, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { CommentsService } from './comments.service';

@Controller()
export class CommentsMessageController {
  constructor(private readonly comments: CommentsService) {}

  @RpcHandler(IssuesRpc.addComment)
  add(@Payload() req: RpcPayload<typeof IssuesRpc.addComment>): Promise<IssueCommentView> {
    return this.comments.add(req);
  }

  @RpcHandler(IssuesRpc.listComments)
  list(@Payload() req: RpcPayload<typeof IssuesRpc.listComments>): Promise<ListPage<IssueCommentView>> {
    return this.comments.list(req);
  }

  @RpcHandler(IssuesRpc.editComment)
  edit(@Payload() req: RpcPayload<typeof IssuesRpc.editComment>): Promise<IssueCommentView> {
    return this.comments.edit(req);
  }
}
