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
  setupFiles: ['reflect-metadata', '<rootDir>/tools/jest-supertest-bodies.js'],
  setupFilesAfterEnv: ['<rootDir>/tools/jest-close-leftovers.js'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/data/'],
};

/**
 * CI runs the end-to-end suites again on the embedded mode (TEST_EMBEDDED=1: PGlite, in-process
 * bus) and on the local distributed mode (TEST_DISTRIBUTED=1: every service as two processes).
 * Two suites start a mode of their own whatever the variables say: they run once, in `npm test`.
 */
const MODE_INDEPENDENT_E2E = ['distributed', 'embedded-mode'];
/**
 * The distributed pass runs the suites whose outcome can depend on services being separate
 * processes with competing replicas: caches and decisions across replicas, revocation, shared
 * throttles and keys, delivery exactly once, locks, tracing across processes, and the flows users
 * bring (apify-client, the SDK and Crawlee). The others send the same messages over the same
 * broker in `npm test`.
 */
const DISTRIBUTED_E2E = [
  'read-your-writes',
  'writer-revocation',
  'decision-cache',
  'shared-throttles',
  'idempotency-keys',
  'request-tracing',
  'auth-session',
  'collaboration',
  'organizations',
  'scope-escapes',
  'runs-sharing',
  'usage-quotas',
  'apify-client-webhooks',
  'apify-client-request-queues',
  'apify-client-run-lifecycle',
  'apify-sdk-crawlee',
];
const e2eSuites = (names) => names.map((name) => `<rootDir>/apps/atrium/test/${name}.e2e-spec.ts`);
const e2eProject = () => {
  if (process.env.TEST_DISTRIBUTED === '1') return { testMatch: e2eSuites(DISTRIBUTED_E2E) };
  const ignored = process.env.TEST_EMBEDDED === '1' ? e2eSuites(MODE_INDEPENDENT_E2E) : [];
  return {
    testMatch: ['<rootDir>/apps/**/*.e2e-spec.ts'],
    testPathIgnorePatterns: [...common.testPathIgnorePatterns, ...ignored],
  };
};

module.exports = {
  testTimeout: 60000,
  reporters: ['default', '<rootDir>/tools/jest-summary-reporter.js'],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs,tools,deploy}/**/*.spec.ts'] },
    { ...common, displayName: 'contract', testMatch: ['<rootDir>/apps/**/*.contract-spec.ts'] },
    { ...common, displayName: 'e2e', ...e2eProject() },
    // Fault injection, attacks and fuzzing (issue 8): real PostgreSQL and RabbitMQ, faults on loopback.
    { ...common, displayName: 'reliability', testMatch: ['<rootDir>/apps/**/*.reliability-spec.ts'] },
    // The atrium CLI as a subprocess (issue 16): once, in `npm test` (the e2e suites run three times in CI).
    { ...common, displayName: 'cli', testMatch: ['<rootDir>/apps/cli/test/**/*.cli-spec.ts'] },
    // The web console in Debian's Chromium (issue 15): one in-process stack and browser per file.
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/apps/console/test/**/*.browser-spec.ts'] },
  ],
};
