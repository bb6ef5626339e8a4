import { ApiTokenScope } from '@atrium/contracts';
import {
  categoryBindings,
  effectivePermissions,
  missingPermissions,
  ownerPermissions,
  scopeBeyondRole,
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

  it('names what of a token scope goes beyond the role, by category, created type and resource', () => {
    const held = { ...none, ACTOR: ['RUN' as const], STORAGE: ['WRITE' as const] };
    const id = 'A'.repeat(17);
    const scope = (s: Partial<ApiTokenScope>): ApiTokenScope => ({ account: {}, resources: [], ...s });
    expect(
      scopeBeyondRole(
        held,
        scope({
          account: {
            ACTOR: ['READ', 'RUN'],
            STORAGE: ['READ', 'WRITE'],
            CREATE: ['DATASET', 'REQUEST_QUEUE'],
          },
          resources: [
            { type: 'DATASET', id, permissions: ['WRITE'] },
            { type: 'ACTOR_RUN', id, permissions: ['READ', 'WRITE'] },
          ],
        }),
      ),
    ).toEqual([]);
    expect(
      scopeBeyondRole(
        held,
        scope({
          account: { ACTOR: ['BUILD'], SCHEDULE: ['READ'], ENVIRONMENTS: ['READ'], CREATE: ['ACTOR', 'APP'] },
          resources: [
            { type: 'DATASET', id, permissions: ['MANAGE_ACCESS'] },
            { type: 'ACTOR_BUILD', id, permissions: ['MANAGE_ACCESS'] },
            { type: 'APP', id, permissions: ['READ'] },
          ],
        }),
      ),
    ).toEqual([
      'ACTOR:BUILD',
      'SCHEDULE:READ',
      'ENVIRONMENTS:READ',
      'CREATE:ACTOR',
      'CREATE:APP',
      `DATASET ${id}:MANAGE_ACCESS`,
      `ACTOR_BUILD ${id}:MANAGE_ACCESS`,
      `APP ${id}:READ`,
    ]);
    // The Owner's permissions cover every category the role knows, never environments or apps.
    expect(scopeBeyondRole(ownerPermissions(), scope({ account: { ENVIRONMENTS: ['READ'] } }))).toEqual([
      'ENVIRONMENTS:READ',
    ]);
  });
});
