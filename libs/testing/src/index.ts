export * from './test-infrastructure';
export * from './contract-harness';
export * from './fault-proxy';
export * from './api-fixtures';
export * from './message-samples';
export * from './leftovers';
