// Four tiers (CONVENTIONS.md): unit specs beside the code; contract specs per service and
// end-to-end specs through the gateway, both against real PostgreSQL and RabbitMQ; and the
// reliability tier (fault injection, attacks, fuzzing). Plus the console's journeys in a browser.
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, `<rootDir>/${target}`]),
);
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
        keepClassNames: true,
      },
      module: { type: 'commonjs' },
    },
  ],
};
const common = {
  rootDir: __dirname,
  transform,
  moduleNameMapper,
  testEnvironment: 'node',
  setupFiles: ['reflect-metadata'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/data/'],
};

module.exports = {
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/tools/jest-summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools,deploy}/**/*.spec.ts'] },
    { ...common, displayName: 'contract', testMatch: ['<rootDir>/apps/**/*.contract-spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/apps/**/*.e2e-spec.ts'] },
    // Fault injection, attacks and fuzzing (issue 8): real PostgreSQL and RabbitMQ, faults on loopback.
    { ...common, displayName: 'reliability', testMatch: ['<rootDir>/apps/**/*.reliability-spec.ts'] },
    // The atrium CLI as a subprocess (issue 16): once, in `npm test` (the e2e suites run three times in CI).
    { ...common, displayName: 'cli', testMatch: ['<rootDir>/apps/cli/test/**/*.cli-spec.ts'] },
    // The web console in Debian's Chromium (issue 15): one in-process stack and browser per file.
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/apps/console/test/**/*.browser-spec.ts'] },
  ],
};
