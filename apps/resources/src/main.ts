import { loadConfig, serviceConfigSchema } from '@atrium/config';
import { runServiceProcess } from '@atrium/messaging';
import { ResourcesModule } from './resources.module';

const config = loadConfig(serviceConfigSchema);
void runServiceProcess(ResourcesModule.forRoot(config), 'resources', config);
