export * from './snake-naming.strategy';
export * from './service-data-source';
export * from './persistence.module';
export * from './embedded-postgres';
export * from './prepared-query';
export * from './returned-rows';
export * from './postgres-errors';
export * from './rpc-idempotency';
