export * from './test-infrastructure';
export * from './contract-harness';
