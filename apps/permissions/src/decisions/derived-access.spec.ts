import { AccountFacts, DecisionRule, Permission, ResourceFacts } from '@atrium/contracts';
import {
  accountDependenciesOf,
  appliedGeneralAccess,
  decide,
  DecisionFacts,
  dependenciesOf,
  Evaluation,
  RelatedAccess,
} from './decide';

const A = 'A'.repeat(17); // Actor owner
const B = 'B'.repeat(17); // runs the Actor
const C = 'C'.repeat(17); // collaborator
const account = (id: string, extra: Partial<AccountFacts> = {}): AccountFacts => ({
  id,
  username: id.toLowerCase(),
  generalResourceAccess: 'RESTRICTED',
  shareRunsWithPublicActorCreators: false,
  version: 1,
  ...extra,
});
const facts = (
  type: ResourceFacts['type'],
  ownerId: string,
  extra: Partial<ResourceFacts> = {},
): ResourceFacts => ({
  id: `${type.slice(0, 3)}${ownerId}`.slice(0, 17),
  type,
  ownerId,
  name: null,
  generalAccess: 'FOLLOW_USER_SETTING',
  isPublic: false,
  actorId: null,
  taskId: null,
  runId: null,
  groupId: null,
  version: 1,
  ...extra,
});
const related = (f: ResourceFacts, held: Permission[]): RelatedAccess => ({
  facts: f,
  held: new Map(held.map((p) => [p, 'grant' as DecisionRule])),
});
const held = (f: Partial<DecisionFacts> & Pick<DecisionFacts, 'resource'>) =>
  Object.fromEntries(
    decide({ userId: null, owner: null, grantedPermissions: [], addressedByName: false, ...f }).permissions,
  );

describe('derived access', () => {
  const actor = facts('ACTOR', A, { isPublic: true });
  const privateActor = facts('ACTOR', A);

  it('public Actors: anyone reads, signed-in users run, nobody else writes', () => {
    expect(held({ resource: actor, userId: null })).toEqual({ READ: 'public-actor' });
    expect(held({ resource: actor, userId: B })).toEqual({ READ: 'public-actor', RUN: 'public-actor' });
    expect(held({ resource: privateActor, userId: B })).toEqual({});
  });

  it('builds of a public Actor are readable by whoever can view the Actor, whatever the owner setting', () => {
    const build = facts('ACTOR_BUILD', A, { actorId: actor.id, generalAccess: 'RESTRICTED' });
    expect(held({ resource: build, userId: null, actor: related(actor, ['READ']) })).toEqual({
      READ: 'public-actor-build',
    });
    const privateBuild = facts('ACTOR_BUILD', A, { actorId: privateActor.id });
    expect(
      held({ resource: privateBuild, userId: B, owner: account(A), actor: related(privateActor, []) }),
    ).toEqual({});
  });

  it("VIEW_OWNER_RUNS shares the Actor owner's runs, one way: never another collaborator's", () => {
    const ownersRun = facts('ACTOR_RUN', A, { actorId: privateActor.id });
    const collaboratorsRun = facts('ACTOR_RUN', C, { actorId: privateActor.id });
    const viewer = related(privateActor, ['READ', 'VIEW_OWNER_RUNS']);
    expect(held({ resource: ownersRun, userId: B, owner: account(A), actor: viewer })).toEqual({
      READ: 'view-owner-runs',
    });
    expect(held({ resource: collaboratorsRun, userId: B, owner: account(C), actor: viewer })).toEqual({});
    expect(
      held({
        resource: ownersRun,
        userId: B,
        owner: account(A),
        actor: related(privateActor, ['READ', 'RUN']),
      }),
    ).toEqual({});
  });

  it('VIEW_OWNER_RUNS on a task shares the task owner runs of that task', () => {
    const task = facts('ACTOR_TASK', A, { actorId: actor.id });
    const run = facts('ACTOR_RUN', A, { actorId: actor.id, taskId: task.id });
    expect(
      held({ resource: run, userId: B, owner: account(A), task: related(task, ['VIEW_OWNER_RUNS']) }),
    ).toEqual({
      READ: 'view-owner-runs',
    });
  });

  it('runs shared with public Actor creators only on opt-in, only with the creator, only for public Actors', () => {
    const run = facts('ACTOR_RUN', B, { actorId: actor.id });
    const optedIn = account(B, { shareRunsWithPublicActorCreators: true });
    expect(held({ resource: run, userId: A, owner: account(B), actor: related(actor, ['READ']) })).toEqual(
      {},
    );
    expect(held({ resource: run, userId: A, owner: optedIn, actor: related(actor, ['READ']) })).toEqual({
      READ: 'shared-with-public-actor-creator',
    });
    expect(held({ resource: run, userId: C, owner: optedIn, actor: related(actor, ['READ']) })).toEqual({});
    const runOfPrivate = facts('ACTOR_RUN', B, { actorId: privateActor.id });
    expect(
      held({ resource: runOfPrivate, userId: A, owner: optedIn, actor: related(privateActor, ['READ']) }),
    ).toEqual({});
  });

  it("a run's default storages follow the run's read access", () => {
    const run = facts('ACTOR_RUN', B, { actorId: actor.id });
    const dataset = facts('DATASET', B, { runId: run.id });
    expect(held({ resource: dataset, userId: A, owner: account(B), run: related(run, ['READ']) })).toEqual({
      READ: 'run-storage',
    });
    expect(held({ resource: dataset, userId: A, owner: account(B), run: related(run, []) })).toEqual({});
  });

  it("a run's default storage that follows the user setting follows the run's general access, and the run the account's", () => {
    const openAccount = account(B, { generalResourceAccess: 'ANYONE_WITH_ID_CAN_READ' });
    const restrictedAccount = account(B);
    const withRun = (generalAccess: ResourceFacts['generalAccess'], owner: AccountFacts) => {
      const run = facts('ACTOR_RUN', B, { actorId: actor.id, generalAccess });
      const dataset = facts('DATASET', B, { runId: run.id });
      // The caller holds nothing on the run itself (as when the run is restricted).
      const decision = decide({
        userId: C,
        resource: dataset,
        owner,
        grantedPermissions: [],
        addressedByName: false,
        run: { ...related(run, []), owner },
      });
      const general = decision.trace.find((o) => o.rule === 'general-access')!;
      return { held: Object.fromEntries(decision.permissions), detail: general.detail };
    };
    // Restricting the run restricts what it produced, whatever the account's setting.
    expect(withRun('RESTRICTED', openAccount).held).toEqual({});
    expect(withRun('RESTRICTED', openAccount).detail).toContain(
      `run ${'ACT' + B.slice(3)}'s own setting RESTRICTED, which its default storage follows`,
    );
    // A run that follows the account: its storages follow the account, through the run.
    expect(withRun('FOLLOW_USER_SETTING', openAccount).held).toEqual({ READ: 'general-access' });
    expect(withRun('FOLLOW_USER_SETTING', openAccount).detail).toContain(
      `owner account's setting ANYONE_WITH_ID_CAN_READ, which run ${'ACT' + B.slice(3)} follows and its default storage with it`,
    );
    expect(withRun('FOLLOW_USER_SETTING', restrictedAccount).held).toEqual({});
    // Opening the run opens its storages in a restricted account.
    expect(withRun('ANYONE_WITH_ID_CAN_READ', restrictedAccount).held).toEqual({ READ: 'general-access' });
    // A storage's own setting is its own.
    const run = facts('ACTOR_RUN', B, { generalAccess: 'ANYONE_WITH_ID_CAN_READ' });
    const own = facts('DATASET', B, { runId: run.id, generalAccess: 'RESTRICTED' });
    expect(
      held({
        resource: own,
        userId: C,
        owner: restrictedAccount,
        run: { ...related(run, []), owner: restrictedAccount },
      }),
    ).toEqual({});
    // What /access reports as effective is what decides (one function for both).
    for (const [setting, owner, expected] of [
      ['RESTRICTED', openAccount, 'RESTRICTED'],
      ['FOLLOW_USER_SETTING', openAccount, 'ANYONE_WITH_ID_CAN_READ'],
      ['FOLLOW_USER_SETTING', restrictedAccount, 'RESTRICTED'],
      ['ANYONE_WITH_ID_CAN_READ', restrictedAccount, 'ANYONE_WITH_ID_CAN_READ'],
    ] as const) {
      const ofRun = facts('ACTOR_RUN', B, { generalAccess: setting });
      const storage = facts('DATASET', B, { runId: ofRun.id });
      // The storage's owner account says the opposite of the run's: the run wins.
      const storageOwner = owner === openAccount ? restrictedAccount : openAccount;
      expect(appliedGeneralAccess(storage, storageOwner, { facts: ofRun, owner }).access).toBe(expected);
    }
    // A storage of no run follows the account, as before.
    expect(held({ resource: facts('DATASET', B), userId: C, owner: openAccount })).toEqual({
      READ: 'general-access',
    });
  });

  it('general access applies to link-shareable types only, by name to storages only', () => {
    const open = account(A, { generalResourceAccess: 'ANYONE_WITH_NAME_CAN_READ' });
    expect(held({ resource: privateActor, owner: open })).toEqual({});
    expect(held({ resource: facts('ACTOR_TASK', A), owner: open })).toEqual({});
    expect(held({ resource: facts('ACTOR_RUN', A), owner: open })).toEqual({ READ: 'general-access' });
    expect(held({ resource: facts('ACTOR_RUN', A), owner: open, addressedByName: true })).toEqual({});
    expect(held({ resource: facts('KEY_VALUE_STORE', A), owner: open, addressedByName: true })).toEqual({
      READ: 'general-access',
    });
  });
});

describe('what a decision depends on (what a cache must drop it on)', () => {
  const evaluation = (f: ResourceFacts, related: Partial<Evaluation> = {}): Evaluation => ({
    facts: f,
    held: new Map(),
    owner: null,
    trace: [],
    validUntil: null,
    groupChain: [],
    ...related,
  });

  it("a run's storage: the storage, its run, the run's Actor and task, and each one's owner account", () => {
    const actor = facts('ACTOR', A);
    const task = facts('ACTOR_TASK', C);
    const run = facts('ACTOR_RUN', B, { actorId: actor.id, taskId: task.id });
    const storage = facts('DATASET', B, { runId: run.id, groupId: 'G'.repeat(17) });
    const decision = evaluation(storage, {
      groupChain: ['G'.repeat(17)],
      run: evaluation(run, { actor: evaluation(actor), task: evaluation(task) }),
    });
    expect([...dependenciesOf(decision)].sort()).toEqual(
      [storage.id, 'G'.repeat(17), run.id, actor.id, task.id].sort(),
    );
    expect([...accountDependenciesOf(decision)].sort()).toEqual([A, B, C]);
  });
});
