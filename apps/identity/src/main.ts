import { loadConfig, serviceConfigSchema } from '@atrium/config';
import { runServiceProcess } from '@atrium/messaging';
import { IdentityModule } from './identity.module';

const config = loadConfig(serviceConfigSchema);
void runServiceProcess(IdentityModule.forRoot(config), 'identity', config);
