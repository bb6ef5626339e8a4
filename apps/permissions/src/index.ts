export { PermissionsModule } from './permissions.module';
export { permissionsDataSourceOptions } from './database/permissions.data-source';
