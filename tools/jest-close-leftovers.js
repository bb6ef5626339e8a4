/** Jest setup: closes the stacks a test file left open (see libs/testing/src/leftovers.ts). */
/* global afterAll */
afterAll(() => globalThis.__atriumLeftovers?.closeAll(), 180_000);
