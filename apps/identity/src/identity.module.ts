import { DynamicModule, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { ACCESS_TOKEN_TTL_SECONDS, JWT_ALGORITHM, JWT_AUDIENCE, JWT_ISSUER } from '@atrium/auth';
import { IdentityRpc } from '@atrium/contracts';
import { ServiceConfig } from '@atrium/config';
import { healthControllerFor, MessagingModule, ServiceOutboxRelay } from '@atrium/messaging';
import { PersistenceModule } from '@atrium/persistence';
import { AccountsMessageController } from './accounts/accounts.message.controller';
import { AccountsService } from './accounts/accounts.service';
import { ApiTokensMessageController } from './api-tokens/api-tokens.message.controller';
import { ApiTokensService } from './api-tokens/api-tokens.service';
import { identityDataSourceOptions } from './database/identity.data-source';
import { AuthMessageController } from './sessions/auth.message.controller';
import { SessionsService } from './sessions/sessions.service';

/** Users, passwords, sessions and API tokens. */
@Module({})
export class IdentityModule {
  static forRoot(config: ServiceConfig): DynamicModule {
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
      ],
      providers: [ServiceOutboxRelay, SessionsService, AccountsService, ApiTokensService],
    };
  }
}
