import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

describe('the typed client', () => {
  // In a process of its own: openapi-typescript loads ES modules, which Jest's runtime cannot.
  it('is generated from the OpenAPI document the gateway serves now (else: npm run client:generate)', () => {
    const root = join(__dirname, '..');
    const run = spawnSync(
      process.execPath,
      ['-r', './tools/register.js', 'tools/generate-client.ts', '--check'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  }, 120_000);
});
