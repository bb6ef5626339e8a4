import { Injectable } from '@nestjs/common';
import { AppError, IssueCommentView, IssuesRpc, ListPage, RpcPayload } from '@atrium/contracts';
import { newId } from '@atrium/auth';
import { DataSource } from 'typeorm';
import { IssuesService } from '../issues/issues.service';
import { NotificationsService } from '../notifications/notifications.service';
import { IssueCommentEntity } from './issue-comment.entity';

function toView(comment: IssueCommentEntity): IssueCommentView {
  return {
    id: comment.id,
    issueId: comment.issueId,
    userId: comment.authorId,
    text: comment.text,
    createdAt: comment.createdAt.toISOString(),
    editedAt: comment.editedAt?.toISOString() ?? null,
  };
}

@Injectable()
export class CommentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly issues: IssuesService,
    private readonly notifications: NotificationsService,
  ) {}

  /** The comment, the issue's comment count and the subscribers' notifications, in one transaction. */
  async add(req: RpcPayload<typeof IssuesRpc.addComment>): Promise<IssueCommentView> {
    const comment = await this.dataSource.transaction(async (manager) => {
      const issue = await this.issues.load(req.issueId, manager, true);
      const id = newId();
      await manager.insert(IssueCommentEntity, {
        id,
        issueId: issue.id,
        authorId: req.authorId,
        text: req.text,
        editedAt: null,
      });
      issue.commentCount += 1;
      await manager.save(issue);
      await this.notifications.notifySubscribers(manager, issue, 'COMMENT_ADDED', req.authorId, {
        commentId: id,
      });
      return manager.findOneByOrFail(IssueCommentEntity, { id });
    });
    return toView(comment);
  }

  async list(req: RpcPayload<typeof IssuesRpc.listComments>): Promise<ListPage<IssueCommentView>> {
    await this.issues.load(req.issueId);
    const { offset, limit, desc } = req.page;
    const [rows, total] = await this.dataSource.getRepository(IssueCommentEntity).findAndCount({
      where: { issueId: req.issueId },
      order: { createdAt: desc ? 'DESC' : 'ASC', id: 'ASC' },
      skip: offset,
      take: limit,
    });
    return { total, offset, limit, desc, count: rows.length, items: rows.map(toView) };
  }

  async edit(req: RpcPayload<typeof IssuesRpc.editComment>): Promise<IssueCommentView> {
    const repository = this.dataSource.getRepository(IssueCommentEntity);
    const comment = await repository.findOneBy({ id: req.commentId, issueId: req.issueId });
    if (!comment) throw AppError.notFound('The comment');
    if (comment.authorId !== req.editorId)
      throw new AppError('insufficient-permissions', 'Only the author of a comment may edit it');
    comment.text = req.text;
    comment.editedAt = new Date();
    await repository.update({ id: comment.id }, { text: comment.text, editedAt: comment.editedAt });
    return toView(comment);
  }
}
