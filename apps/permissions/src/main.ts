import { loadConfig, permissionsConfigSchema } from '@atrium/config';
import { runServiceProcess } from '@atrium/messaging';
import { PermissionsModule } from './permissions.module';

const config = loadConfig(permissionsConfigSchema);
void runServiceProcess(PermissionsModule.forRoot(config), 'permissions', config);
