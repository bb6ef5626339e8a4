import { ServiceName } from '@atrium/contracts';
import { ServiceDataSourceOptions } from '@atrium/persistence';
import { identityDataSourceOptions } from '@atrium/identity';
import { issuesDataSourceOptions } from '@atrium/issues';
import { permissionsDataSourceOptions } from '@atrium/permissions';
import { resourcesDataSourceOptions } from '@atrium/resources';

/** Each service's data source definition, for the migrate and migration-generate commands. */
export const SERVICE_DATA_SOURCES: Record<ServiceName, (url: string) => ServiceDataSourceOptions> = {
  identity: identityDataSourceOptions,
  resources: resourcesDataSourceOptions,
  permissions: permissionsDataSourceOptions,
  issues: issuesDataSourceOptions,
};
