import { EntityManager } from 'typeorm';
import { IssueSubscriptionEntity } from './issue-subscription.entity';

/** Subscribes a user inside the caller's transaction; subscribing twice changes nothing. */
export async function addSubscription(
  manager: EntityManager,
  issueId: string,
  userId: string,
): Promise<void> {
  await manager
    .createQueryBuilder()
    .insert()
    .into(IssueSubscriptionEntity)
    .values({ issueId, userId })
    .orIgnore()
    .execute();
}
