import {
  categoryBindings,
  effectivePermissions,
  missingPermissions,
  ownerPermissions,
} from './role-permissions';

const none = { ACTOR: [], ACTOR_TASK: [], SCHEDULE: [], STORAGE: [], ORGANIZATION: [] };

describe('organization role permissions', () => {
  it('gives the Owner every permission whatever is stored', () => {
    expect(effectivePermissions({ builtIn: 'OWNER', permissions: none })).toEqual(ownerPermissions());
    expect(effectivePermissions({ builtIn: 'DEVELOPER', permissions: none })).toEqual(none);
  });

  it('names what a role would give beyond what is held, counting WRITE as giving READ', () => {
    const held = { ...none, STORAGE: ['WRITE' as const], ORGANIZATION: ['MANAGE_MEMBERS' as const] };
    expect(missingPermissions(held, { ...none, STORAGE: ['READ'] })).toEqual([]);
    expect(missingPermissions(held, { ...none, ORGANIZATION: ['MANAGE_MEMBERS'] })).toEqual([]);
    expect(
      missingPermissions(held, {
        ...none,
        ACTOR: ['RUN'],
        STORAGE: ['MANAGE_ACCESS'],
        ORGANIZATION: ['MANAGE_ACCESS_TOKENS'],
      }),
    ).toEqual(['ACTOR:READ', 'ACTOR:RUN', 'STORAGE:MANAGE_ACCESS', 'ORGANIZATION:MANAGE_ACCESS_TOKENS']);
  });

  it('binds each of the four resource categories, never the organization permissions', () => {
    const bindings = categoryBindings(ownerPermissions());
    expect(bindings.map((b) => b.target)).toEqual(['ACTOR', 'ACTOR_TASK', 'SCHEDULE', 'STORAGE']);
    expect(bindings.every((b) => b.kind === 'category')).toBe(true);
    expect(bindings.find((b) => b.target === 'STORAGE')?.permissions).toEqual([
      'READ',
      'WRITE',
      'MANAGE_ACCESS',
    ]);
  });
});
