import { loadConfig, serviceConfigSchema } from '@atrium/config';
import { runServiceProcess } from '@atrium/messaging';
import { PermissionsModule } from './permissions.module';

const config = loadConfig(serviceConfigSchema);
void runServiceProcess(PermissionsModule.forRoot(config), 'permissions', config);
