import { loadConfig, resourcesConfigSchema } from '@atrium/config';
import { runServiceProcess } from '@atrium/messaging';
import { ResourcesModule } from './resources.module';

const config = loadConfig(resourcesConfigSchema);
void runServiceProcess(ResourcesModule.forRoot(config), 'resources', config);
