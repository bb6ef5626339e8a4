import { OutboxMessageEntity, ProcessedMessageEntity } from '@atrium/messaging';
import { ServiceDataSourceOptions } from '@atrium/persistence';
import { IssueCommentEntity } from '../comments/issue-comment.entity';
import { IssueEntity } from '../issues/issue.entity';
import { NotificationEntity } from '../notifications/notification.entity';
import { IssueSubscriptionEntity } from '../subscriptions/issue-subscription.entity';
import { ISSUES_MIGRATIONS } from './migrations';

export const ISSUES_SCHEMA = 'issues';

export function issuesDataSourceOptions(url: string, poolSize?: number): ServiceDataSourceOptions {
  return {
    schema: ISSUES_SCHEMA,
    url,
    poolSize,
    entities: [
      IssueEntity,
      IssueCommentEntity,
      IssueSubscriptionEntity,
      NotificationEntity,
      OutboxMessageEntity,
      ProcessedMessageEntity,
    ],
    migrations: ISSUES_MIGRATIONS,
  };
}
