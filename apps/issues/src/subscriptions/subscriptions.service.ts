import { Injectable } from '@nestjs/common';
import { IssuesRpc, RpcPayload } from '@atrium/contracts';
import { DataSource } from 'typeorm';
import { IssuesService } from '../issues/issues.service';
import { addSubscription } from './add-subscription';
import { IssueSubscriptionEntity } from './issue-subscription.entity';

@Injectable()
export class SubscriptionsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly issues: IssuesService,
  ) {}

  /** Idempotent: subscribing twice, or unsubscribing when not subscribed, changes nothing. */
  async set(req: RpcPayload<typeof IssuesRpc.setSubscription>): Promise<{ subscribed: boolean }> {
    await this.issues.load(req.issueId);
    const { manager } = this.dataSource;
    if (req.subscribed) await addSubscription(manager, req.issueId, req.userId);
    else await manager.delete(IssueSubscriptionEntity, { issueId: req.issueId, userId: req.userId });
    return { subscribed: req.subscribed };
  }

  async get(req: RpcPayload<typeof IssuesRpc.getSubscription>): Promise<{ subscribed: boolean }> {
    await this.issues.load(req.issueId);
    const found = await this.dataSource.manager.exists(IssueSubscriptionEntity, {
      where: { issueId: req.issueId, userId: req.userId },
    });
    return { subscribed: found };
  }
}
