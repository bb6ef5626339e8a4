import { DynamicModule, Inject, Injectable, Logger, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  createServiceDataSource,
  migrateServiceSchema,
  ServiceDataSourceOptions,
} from './service-data-source';
import { RpcIdempotencySweeper } from './rpc-idempotency';

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
            const dataSource = createServiceDataSource(options);
            await dataSource.initialize();
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
