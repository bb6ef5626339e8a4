/**
 * Applies pending migrations of every service (or of those named) to DATABASE_URL:
 *   DATABASE_URL=postgres://… npm run migrate [-- identity resources …]
 */
import { SERVICES, ServiceName } from '@atrium/contracts';
import { createServiceDataSource, migrateServiceSchema } from '@atrium/persistence';
import { SERVICE_DATA_SOURCES } from './service-data-sources';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is required');
  const named = process.argv.slice(2) as ServiceName[];
  const unknown = named.filter((n) => !SERVICES.includes(n));
  if (unknown.length) throw new Error(`Unknown service(s): ${unknown.join(', ')}`);
  for (const service of named.length ? named : SERVICES) {
    const dataSource = createServiceDataSource({ ...SERVICE_DATA_SOURCES[service](url), poolSize: 1 });
    await dataSource.initialize();
    try {
      const applied = await migrateServiceSchema(dataSource);
      console.log(`${service}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
    } finally {
      await dataSource.destroy();
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
