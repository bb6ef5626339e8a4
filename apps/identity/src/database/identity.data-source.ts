import { OutboxMessageEntity, ProcessedMessageEntity } from '@atrium/messaging';
import { ServiceDataSourceOptions } from '@atrium/persistence';
import { ApiTokenEntity } from '../api-tokens/api-token.entity';
import { UserEntity } from '../accounts/user.entity';
import { CollaborationMemberEntity } from '../collaboration/collaboration-member.entity';
import { CollaborationPolicyEntity } from '../collaboration/collaboration-policy.entity';
import { CollaborationRoleEntity } from '../collaboration/collaboration-role.entity';
import { DevMailEntity } from '../mail/dev-mail.entity';
import { RateLimitWindowEntity } from '../sessions/rate-limit-window.entity';
import { AuthFailureEntity } from '../sessions/auth-failure.entity';
import { OneTimeTokenEntity } from '../sessions/one-time-token.entity';
import { RefreshTokenEntity } from '../sessions/refresh-token.entity';
import { OrganizationMemberEntity } from '../memberships/organization-member.entity';
import { OrganizationInvitationEntity } from '../organizations/organization-invitation.entity';
import { OrganizationRoleEntity } from '../organizations/organization-role.entity';
import { OrganizationEntity } from '../organizations/organization.entity';
import { IDENTITY_MIGRATIONS } from './migrations';

export const IDENTITY_SCHEMA = 'identity';

export function identityDataSourceOptions(url: string, poolSize?: number): ServiceDataSourceOptions {
  return {
    schema: IDENTITY_SCHEMA,
    url,
    poolSize,
    entities: [
      UserEntity,
      RefreshTokenEntity,
      AuthFailureEntity,
      RateLimitWindowEntity,
      OneTimeTokenEntity,
      DevMailEntity,
      ApiTokenEntity,
      CollaborationPolicyEntity,
      CollaborationRoleEntity,
      CollaborationMemberEntity,
      OrganizationEntity,
      OrganizationRoleEntity,
      OrganizationMemberEntity,
      OrganizationInvitationEntity,
      OutboxMessageEntity,
      ProcessedMessageEntity,
    ],
    migrations: IDENTITY_MIGRATIONS,
  };
}
