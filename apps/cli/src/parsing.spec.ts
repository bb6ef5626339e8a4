import { batches, parseItems } from './files';
import { CliError } from './output';
import { parseExpiry, parsePermissions, resourceType } from './resources';
import { parseRolePermissions, parseScope } from './scopes';

const NOW = Date.parse('2026-12-04T00:00:00Z');

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(2);
    return (err as CliError).message;
  }
  throw new Error('expected a usage error');
}

describe('the CLI’s argument parsing', () => {
  it('resource types: friendly names, plurals, the API’s names and collections', () => {
    for (const [name, type] of [
      ['actor', 'ACTOR'],
      ['acts', 'ACTOR'],
      ['task', 'ACTOR_TASK'],
      ['actor-tasks', 'ACTOR_TASK'],
      ['kvs', 'KEY_VALUE_STORE'],
      ['key-value-store', 'KEY_VALUE_STORE'],
      ['KEY_VALUE_STORE', 'KEY_VALUE_STORE'],
      ['queue', 'REQUEST_QUEUE'],
      ['request-queues', 'REQUEST_QUEUE'],
      ['runs', 'ACTOR_RUN'],
      ['build', 'ACTOR_BUILD'],
      ['environment-group', 'ENVIRONMENT_GROUP'],
      ['app', 'APP'],
    ])
      expect(resourceType(name).type).toBe(type);
    expect(resourceType('kvs').collection).toBe('key-value-stores');
    expect(resourceType('actor').collection).toBe('acts');
    expect(usageError(() => resourceType('spaceship'))).toMatch(
      /^Argument type: "spaceship" is not a resource type/,
    );
  });

  it('permissions: any case, only the type’s, deduplicated', () => {
    expect(parsePermissions('read, Write,READ', resourceType('dataset'))).toEqual(['READ', 'WRITE']);
    expect(parsePermissions('run,view-owner-runs', resourceType('actor'))).toEqual([
      'RUN',
      'VIEW_OWNER_RUNS',
    ]);
    expect(parsePermissions('inputs:get', resourceType('app'))).toEqual(['Inputs:Get']);
    expect(usageError(() => parsePermissions('RUN', resourceType('dataset')))).toBe(
      'Option --permissions: "RUN" is not a permission of a dataset (one of READ, WRITE, MANAGE_ACCESS)',
    );
    expect(usageError(() => parsePermissions(' , ', resourceType('dataset')))).toMatch(/at least one/);
  });

  it('expiry: a duration from now or an ISO date in the future', () => {
    expect(parseExpiry('7d', '--expires', NOW)).toBe('2026-12-11T00:00:00.000Z');
    expect(parseExpiry('90m', '--expires', NOW)).toBe('2026-12-04T01:30:00.000Z');
    expect(parseExpiry('2027-01-31', '--expires', NOW)).toBe('2027-01-31T00:00:00.000Z');
    expect(parseExpiry('2027-01-31T12:00:00+02:00', '--expires', NOW)).toBe('2027-01-31T10:00:00.000Z');
    for (const bad of ['soon', '7', '0d', '7y', '2027-13-45', '31/01/2027'])
      expect(usageError(() => parseExpiry(bad, '--expires', NOW))).toMatch(/^Option --expires: /);
    expect(usageError(() => parseExpiry('2020-01-01', '--expires', NOW))).toMatch(/in the past/);
  });

  it('token scopes: categories, create and resources by id, checked against the contract', async () => {
    await expect(parseScope(undefined, [])).resolves.toBeNull();
    await expect(
      parseScope(undefined, ['storage=read,write', 'create=dataset,kvs', 'dataset:XbP1sM7yH2kL9qR4t=READ']),
    ).resolves.toEqual({
      account: { STORAGE: ['READ', 'WRITE'], CREATE: ['DATASET', 'KEY_VALUE_STORE'] },
      resources: [{ type: 'DATASET', id: 'XbP1sM7yH2kL9qR4t', permissions: ['READ'] }],
    });
    await expect(parseScope(undefined, ['storage=RUN'])).rejects.toThrow(
      'Option --scope: "RUN" is not a permission of STORAGE (one of READ, WRITE, MANAGE_ACCESS)',
    );
    await expect(parseScope(undefined, ['things=READ'])).rejects.toThrow(
      /Option --scope: "things" is not a category/,
    );
    await expect(parseScope(undefined, ['create=spaceship'])).rejects.toThrow(
      /Option --scope: "spaceship" is not a resource type/,
    );
    await expect(parseScope(undefined, ['READ'])).rejects.toThrow(
      /Option --scope: "READ" is not of the form/,
    );
  });

  it('role permissions: categories and organization permissions', () => {
    expect(parseRolePermissions(['actor=read,run', 'organization=manage-members'])).toMatchObject({
      ACTOR: ['READ', 'RUN'],
      ORGANIZATION: ['MANAGE_MEMBERS'],
    });
    expect(usageError(() => parseRolePermissions(['organization=FLY']))).toMatch(
      /^Option --allow: "FLY" is not a permission of ORGANIZATION/,
    );
  });

  it('items: a JSON object or array, or JSON lines; anything else names the file and line', () => {
    expect(parseItems(Buffer.from('{"a":1}'), 'f')).toEqual([{ a: 1 }]);
    expect(parseItems(Buffer.from('\ufeff[{"a":1},{"b":2}]'), 'f')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(parseItems(Buffer.from('{"a":1}\r\n\n{"b":2}\n'), 'f')).toEqual([{ a: 1 }, { b: 2 }]);
    expect(usageError(() => parseItems(Buffer.from('{"a":1}\n{"b":\n'), 'x.jsonl'))).toMatch(
      /^Argument file: x\.jsonl is neither JSON nor JSON lines \(line 2: /,
    );
    expect(usageError(() => parseItems(Buffer.from('{"a":1}\n[1]\n'), 'x.jsonl'))).toBe(
      'Argument file: line 2 of x.jsonl is not a JSON object',
    );
    expect(usageError(() => parseItems(Buffer.from('  \n'), 'stdin'))).toBe(
      'Argument file: stdin holds no items',
    );
  });

  it('batches stay under the item count and byte size', () => {
    const items = Array.from({ length: 25 }, (_, i) => ({ i, pad: 'x'.repeat(100) }));
    expect([...batches(items, 10)].map((b) => b.length)).toEqual([10, 10, 5]);
    expect([...batches(items, 1000, 500)].every((b) => JSON.stringify(b).length <= 500)).toBe(true);
    expect([...batches(items, 1000, 500)].flat()).toEqual(items);
  });
});
