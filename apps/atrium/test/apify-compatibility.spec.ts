import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as apifyClient from 'apify-client';

/**
 * The compatibility matrix (docs/APIFY-COMPATIBILITY.md) against the pinned apify-client's own
 * prototypes: every public method of every resource client is classified exactly once; a
 * "supported" row names an end-to-end test that exists and calls the method; a "not applicable"
 * row names the Apify-shaped error it answers. A client upgrade that adds a method fails here
 * until the method is classified.
 */
const root = join(__dirname, '..', '..', '..');
const matrix = readFileSync(join(root, 'docs', 'APIFY-COMPATIBILITY.md'), 'utf8');

interface Row {
  method: string;
  status: string;
  proof: string;
}

function rows(): Row[] {
  return matrix
    .split('\n')
    .map((line) => /^\|\s*`([A-Za-z]+\.[A-Za-z]+)`\s*\|[^|]*\|\s*([a-z ]+?)\s*\|\s*(.*?)\s*\|\s*$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([, method, status, proof]) => ({ method: method!, status: status!, proof: proof! }));
}

/** `Class.method` for every public method a client class has, its own and inherited. */
function clientMethods(): string[] {
  const methods = new Set<string>();
  for (const [name, value] of Object.entries(apifyClient)) {
    if (!/Client$/.test(name) || typeof value !== 'function') continue;
    for (
      let proto = value.prototype as unknown as Record<string, unknown> | null;
      proto && proto !== Object.prototype;
      proto = Object.getPrototypeOf(proto) as Record<string, unknown> | null
    )
      for (const method of Object.getOwnPropertyNames(proto))
        if (method !== 'constructor' && !method.startsWith('_') && typeof proto[method] === 'function')
          methods.add(`${name}.${method}`);
  }
  return [...methods].sort();
}

describe('the Apify compatibility matrix', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const pinned = { ...manifest.dependencies, ...manifest.devDependencies }['apify-client'];

  it('is written for the apify-client version pinned (exactly) in package.json and installed', () => {
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    const installed = JSON.parse(readFileSync(require.resolve('apify-client/package.json'), 'utf8'));
    expect(installed.version).toBe(pinned);
    expect(matrix).toContain(`(${pinned})`);
  });

  it('classifies every method of every resource client exactly once, and nothing else', () => {
    const listed = rows().map((r) => r.method);
    const methods = clientMethods();
    expect(methods.length).toBeGreaterThan(100);
    expect(methods.filter((m) => !listed.includes(m))).toEqual([]);
    expect(listed.filter((m) => !methods.includes(m))).toEqual([]);
    expect(listed.filter((m, i) => listed.indexOf(m) !== i)).toEqual([]);
    // Its summary line counts what it lists.
    const supported = rows().filter((r) => r.status === 'supported').length;
    expect(matrix).toContain(
      `${supported} methods supported and ${methods.length - supported} not applicable: the ${methods.length} public methods`,
    );
  });

  it.each(rows().map((r) => [r.method, r] as const))('%s: its status is proven', (method, row) => {
    expect(['supported', 'not applicable']).toContain(row.status);
    if (row.status === 'not applicable') {
      // The error type and status the client gets, then why.
      expect(row.proof).toMatch(/^`[a-z-]+` \(\d{3}\): \S/);
      return;
    }
    const proof = /^`([a-z0-9-]+)` › (.+)$/.exec(row.proof);
    expect(proof).not.toBeNull();
    const file = join(root, 'apps', 'atrium', 'test', `${proof![1]}.e2e-spec.ts`);
    expect(existsSync(file)).toBe(true);
    const spec = readFileSync(file, 'utf8');
    expect(spec).toContain(proof![2]);
    expect(spec).toContain(`.${method.split('.')[1]}(`);
  });
});
