export { IdentityModule } from './identity.module';
export { identityDataSourceOptions } from './database/identity.data-source';
