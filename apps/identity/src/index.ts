export { IdentityModule } from './identity.module';
export { identityDataSourceOptions } from './database/identity.data-source';
export { ThrottleSweeper } from './sessions/throttle-sweeper';
