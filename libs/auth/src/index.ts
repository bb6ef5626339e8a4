export * from './random-id';
export * from './jwt';
export * from './api-token';
export * from './storage-signature';
