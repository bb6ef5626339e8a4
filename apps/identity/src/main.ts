import { loadConfig, identityConfigSchema } from '@atrium/config';
import { runServiceProcess } from '@atrium/messaging';
import { IdentityModule } from './identity.module';

const config = loadConfig(identityConfigSchema);
void runServiceProcess(IdentityModule.forRoot(config), 'identity', config);
