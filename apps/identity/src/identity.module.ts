import { DynamicModule, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { ACCESS_TOKEN_TTL_SECONDS, JWT_ALGORITHM, JWT_AUDIENCE, JWT_ISSUER } from '@atrium/auth';
import { IdentityRpc } from '@atrium/contracts';
import { IdentityConfig } from '@atrium/config';
import { healthControllerFor, MessagingModule, ServiceOutboxRelay } from '@atrium/messaging';
import { PersistenceModule } from '@atrium/persistence';
import { AccountsMessageController } from './accounts/accounts.message.controller';
import { AccountsService } from './accounts/accounts.service';
import { ApiTokensMessageController } from './api-tokens/api-tokens.message.controller';
import { ApiTokensService } from './api-tokens/api-tokens.service';
import { CollaborationMembersService } from './collaboration/collaboration-members.service';
import { CollaborationMessageController } from './collaboration/collaboration.message.controller';
import { CollaborationRolesService } from './collaboration/collaboration-roles.service';
import { identityDataSourceOptions } from './database/identity.data-source';
import { IDENTITY_CONFIG, Mailer } from './mail/mailer';
import { MembershipsMessageController } from './memberships/memberships.message.controller';
import { OrganizationMembersMessageController } from './memberships/organization-members.message.controller';
import { OrganizationMembersService } from './memberships/organization-members.service';
import { OrganizationMembershipsService } from './memberships/organization-memberships.service';
import { InvitationsMessageController } from './organizations/invitations.message.controller';
import { OrganizationAccess } from './organizations/organization-access';
import { OrganizationInvitationsService } from './organizations/organization-invitations.service';
import { OrganizationRolesService } from './organizations/organization-roles.service';
import { OrganizationTokensService } from './organizations/organization-tokens.service';
import { OrganizationsMessageController } from './organizations/organizations.message.controller';
import { OrganizationsService } from './organizations/organizations.service';
import { AccountThrottle } from './sessions/account-throttle';
import { RateLimitWindows } from './sessions/rate-limit-windows';
import { ThrottleSweeper } from './sessions/throttle-sweeper';
import { AuthMessageController } from './sessions/auth.message.controller';
import { SessionsService } from './sessions/sessions.service';

/** Users, passwords, sessions and API tokens. */
@Module({})
export class IdentityModule {
  static forRoot(config: IdentityConfig): DynamicModule {
    return {
      module: IdentityModule,
      imports: [
        PersistenceModule.forService({
          ...identityDataSourceOptions(config.DATABASE_URL, config.DB_POOL_SIZE),
          runMigrations: config.RUN_MIGRATIONS,
        }),
        MessagingModule.forRoot({ amqpUrl: config.AMQP_URL, rpcTimeoutMs: config.RPC_TIMEOUT_MS }),
        JwtModule.register({
          secret: config.JWT_SECRET,
          signOptions: {
            algorithm: JWT_ALGORITHM,
            issuer: JWT_ISSUER,
            audience: JWT_AUDIENCE,
            expiresIn: ACCESS_TOKEN_TTL_SECONDS,
          },
        }),
      ],
      controllers: [
        healthControllerFor(IdentityRpc.health),
        AuthMessageController,
        AccountsMessageController,
        ApiTokensMessageController,
        CollaborationMessageController,
        OrganizationsMessageController,
        OrganizationMembersMessageController,
        InvitationsMessageController,
        MembershipsMessageController,
      ],
      providers: [
        { provide: IDENTITY_CONFIG, useValue: config },
        Mailer,
        ServiceOutboxRelay,
        SessionsService,
        AccountThrottle,
        RateLimitWindows,
        ThrottleSweeper,
        AccountsService,
        ApiTokensService,
        CollaborationRolesService,
        CollaborationMembersService,
        OrganizationAccess,
        OrganizationMembershipsService,
        OrganizationsService,
        OrganizationRolesService,
        OrganizationMembersService,
        OrganizationInvitationsService,
        OrganizationTokensService,
      ],
    };
  }
}
