export { ResourcesModule } from './resources.module';
export { resourcesDataSourceOptions } from './database/resources.data-source';
