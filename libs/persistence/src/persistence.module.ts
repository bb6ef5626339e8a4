import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { isDatabaseUnavailable } from '@atrium/messaging';
import { DataSource } from 'typeorm';
import {
  createServiceDataSource,
  migrateServiceSchema,
  ServiceDataSourceOptions,
} from './service-data-source';
import { RpcIdempotencySweeper } from './rpc-idempotency';

/** How long a starting service waits for its database to answer (a database still starting, a loaded machine). */
const START_WAIT_MS = 60_000;

/**
 * The service's data source, connected: a database that is not reachable yet (starting beside
 * the service, or too slow to accept a connection in time) is tried again every second for a
 * minute before the service gives up. Other errors (a wrong password, no such database) at once.
 */
async function connectAtStart(options: ServiceDataSourceOptions): Promise<DataSource> {
  const giveUp = Date.now() + START_WAIT_MS;
  for (;;) {
    const dataSource = createServiceDataSource(options);
    try {
      return await dataSource.initialize();
    } catch (err) {
      if (!isDatabaseUnavailable(err) || Date.now() > giveUp) throw err;
      new Logger('Persistence').warn(
        `${options.schema}: the database does not answer yet (${(err as Error).message}); trying again`,
      );
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

@Injectable()
class DataSourceLifecycle implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}
  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/** The service's TypeORM data source on its own schema, migrated at start when asked to. */
@Module({})
export class PersistenceModule {
  static forService(options: ServiceDataSourceOptions & { runMigrations: boolean }): DynamicModule {
    return {
      module: PersistenceModule,
      global: true,
      providers: [
        {
          provide: DataSource,
          useFactory: async () => {
            const dataSource = await connectAtStart(options);
            if (options.runMigrations) {
              const applied = await migrateServiceSchema(dataSource);
              if (applied.length)
                new Logger('Persistence').log(`${options.schema}: applied ${applied.join(', ')}`);
            }
            return dataSource;
          },
        },
        DataSourceLifecycle,
        RpcIdempotencySweeper,
      ],
      exports: [DataSource, RpcIdempotencySweeper],
    };
  }
}
