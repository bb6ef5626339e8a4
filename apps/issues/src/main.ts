import { loadConfig, serviceConfigSchema } from '@atrium/config';
import { runServiceProcess } from '@atrium/messaging';
import { IssuesModule } from './issues.module';

const config = loadConfig(serviceConfigSchema);
void runServiceProcess(IssuesModule.forRoot(config), 'issues', config);
