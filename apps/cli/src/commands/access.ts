import { GENERAL_ACCESS, GeneralAccess } from '@atrium/contracts';
import { Command } from 'commander';
import { call, Cli, connect } from '../api';
import { CliError, EXIT, printFields, printJson, printTable } from '../output';
import {
  aLabel,
  checkUserRef,
  CliResourceType,
  findUser,
  GRANTABLE_TYPE_NAMES,
  parseExpiry,
  parsePermissions,
  requireGrantable,
  requireLinkShareable,
  resourceId,
  resourceType,
  TYPE_NAMES,
  usernames,
} from '../resources';
import { examples } from './help';

const accessPath = (rt: CliResourceType, ref: string) => ({
  params: { path: { collection: rt.collection, resourceId: ref } },
});

/** Who has access, with every page of grants (the API pages them by cursor). */
async function listAccess(cli: Cli, rt: CliResourceType, ref: string) {
  const get = (cursor?: string) =>
    call(
      cli.api.GET('/v2/{collection}/{resourceId}/access', {
        params: { path: { collection: rt.collection, resourceId: ref }, query: { limit: 1000, cursor } },
      }),
      cli.url,
    );
  const list = (await get()).data;
  for (let cursor = list.nextCursor; cursor;) {
    const next = (await get(cursor)).data;
    list.grants.push(...next.grants);
    cursor = next.nextCursor;
  }
  return { ...list, nextCursor: null };
}

interface ShareOptions {
  with: string;
  permissions: string;
  expires?: string;
  viewOwnerRuns?: boolean;
}

async function share(typeName: string, ref: string, options: ShareOptions, command: Command) {
  const rt = resourceType(typeName);
  requireGrantable(rt);
  const permissions = parsePermissions(options.permissions, rt);
  if (options.viewOwnerRuns)
    permissions.push(...parsePermissions('VIEW_OWNER_RUNS', rt, '--view-owner-runs'));
  const expiresAt = options.expires === undefined ? undefined : parseExpiry(options.expires);
  checkUserRef(options.with, 'Option --with');
  const cli = await connect(command);
  const user = await findUser(cli, options.with, 'Option --with');
  const wanted = [...new Set(permissions)];
  const post = cli.api.POST('/v2/{collection}/{resourceId}/access/grants', {
    ...accessPath(rt, ref),
    body: { user: user.id, permissions: wanted, expiresAt },
  });
  const posted = await post.catch(() => undefined);
  // One grant a user: sharing again changes it to what this command says (no --expires: no expiry).
  const existing =
    posted?.response.status === 409
      ? (await listAccess(cli, rt, ref)).grants.find((g) => g.userId === user.id && !g.source)
      : undefined;
  const grant = existing
    ? (
        await call(
          cli.api.PUT('/v2/{collection}/{resourceId}/access/grants/{grantId}', {
            params: { path: { collection: rt.collection, resourceId: ref, grantId: existing.id } },
            body: { permissions: wanted, expiresAt: expiresAt ?? null },
          }),
          cli.url,
        )
      ).data
    : (await call(post, cli.url)).data;
  if (cli.json) return printJson(grant);
  process.stdout.write(
    (existing
      ? `Updated ${user.username}'s grant on ${rt.label} ${ref}: ${grant.permissions.join(', ')}`
      : `Shared ${rt.label} ${ref} with ${user.username}: ${grant.permissions.join(', ')}`) +
      (grant.expiresAt ? ` until ${grant.expiresAt}` : '') +
      ` (grant ${grant.id})\n`,
  );
  noteOpenLink(typeName, rt, ref, (await listAccess(cli, rt, ref)).effectiveGeneralAccess);
}

/**
 * A grant or its revocation changes nothing for reading while the resource's link is open
 * (a run's storages follow the account's default, ANYONE_WITH_ID_CAN_READ unless changed): said
 * on stderr, so that nobody takes "Revoked" for "no longer readable".
 */
function noteOpenLink(typeName: string, rt: CliResourceType, ref: string, effective: string): void {
  if (effective === 'RESTRICTED') return;
  process.stderr.write(
    `Note: general access is ${effective}: anyone with the link can still read ${rt.label} ${ref}. ` +
      `To limit reading to its grants: atrium general-access ${typeName} ${ref} restricted ` +
      `(a run's default storage: restrict its run)\n`,
  );
}

async function revoke(
  typeName: string,
  ref: string,
  options: { from?: string; with?: string },
  command: Command,
) {
  const rt = resourceType(typeName);
  requireGrantable(rt);
  const whose = options.from ?? options.with;
  if (!whose || (options.from && options.with && options.from !== options.with))
    throw new CliError(
      'Option --from <user> names whose grant to take back (--with is the same)',
      EXIT.USAGE,
    );
  const cli = await connect(command);
  const option = options.from ? 'Option --from' : 'Option --with';
  const user = await findUser(cli, whose, option);
  const access = await listAccess(cli, rt, ref);
  const grants = access.grants.filter((g) => g.userId === user.id);
  if (grants.length === 0)
    throw new CliError(`${option}: ${user.username} holds no grant on ${rt.label} ${ref}`, EXIT.NOT_FOUND);
  for (const grant of grants)
    await call(
      cli.api.DELETE('/v2/{collection}/{resourceId}/access/grants/{grantId}', {
        params: { path: { collection: rt.collection, resourceId: ref, grantId: grant.id } },
      }),
      cli.url,
    );
  if (cli.json) return printJson({ revoked: grants.map((g) => g.id) });
  process.stdout.write(`Revoked ${user.username}'s access to ${rt.label} ${ref}\n`);
  noteOpenLink(typeName, rt, ref, access.effectiveGeneralAccess);
}

async function access(typeName: string, ref: string, _options: unknown, command: Command) {
  const rt = resourceType(typeName);
  requireGrantable(rt);
  const cli = await connect(command);
  const list = await listAccess(cli, rt, ref);
  if (cli.json) return printJson(list);
  const names = await usernames(cli, [
    list.owner.userId,
    ...list.grants.map((g) => g.userId),
    ...list.derived.map((d) => d.userId),
  ]);
  const name = (id: string) => names.get(id) ?? id;
  printFields([
    ['Resource', `${rt.label} ${list.resourceId}`],
    ['Owner', name(list.owner.userId)],
    [
      'General access',
      list.generalAccess === list.effectiveGeneralAccess
        ? list.generalAccess
        : `${list.generalAccess} (effective: ${list.effectiveGeneralAccess})`,
    ],
  ]);
  process.stdout.write('\nGrants:\n');
  printTable(list.grants, [
    ['USER', (g) => name(g.userId)],
    ['PERMISSIONS', (g) => g.permissions],
    ['EXPIRES', (g) => g.expiresAt ?? 'never'],
    ['GRANT', (g) => g.id],
    ['SOURCE', (g) => (g.source ? `${g.source.type} ${g.source.id}` : 'shared by hand')],
  ]);
  process.stdout.write('\nThrough organizations and collaborations:\n');
  printTable(list.derived, [
    ['USER', (d) => name(d.userId)],
    ['PERMISSIONS', (d) => d.permissions],
    ['RULE', (d) => d.rule],
    ['ROLE', (d) => d.role],
  ]);
}

interface ExplainResult {
  allowed: boolean;
  rule: string;
  chain: string[];
  checked: { rule: string; gives: string[]; detail: string }[];
}

async function explain(
  typeName: string,
  ref: string,
  options: { user?: string; permission: string },
  command: Command,
) {
  const rt = resourceType(typeName);
  const [permission] = parsePermissions(options.permission, rt, '--permission');
  const cli = await connect(command);
  const user = options.user === undefined ? undefined : await findUser(cli, options.user, 'Option --user');
  const id = await resourceId(cli, rt, ref);
  const explained = (
    await call(
      cli.api.GET('/v2/access/explain', {
        params: { query: { resourceId: id, permission, userId: user?.id } },
      }),
      cli.url,
    )
  ).data as unknown as ExplainResult;
  if (cli.json) return printJson(explained);
  const who = user?.username ?? 'you';
  // A denial with no rule behind it is the default: nothing allows it.
  const why = explained.allowed
    ? ` (by rule ${explained.rule})`
    : !explained.rule || explained.rule === 'none'
      ? ' (no rule allows it)'
      : ` (denied by rule ${explained.rule})`;
  process.stdout.write(
    `${explained.allowed ? 'Allowed' : 'Denied'}: ${who} ${explained.allowed ? 'may' : 'may not'} ${permission} ${rt.label} ${id}${why}\n`,
  );
  if (explained.chain.length > 0) process.stdout.write(`Because: ${explained.chain.join(' → ')}\n`);
  process.stdout.write('\nRules checked:\n');
  printTable(explained.checked, [
    ['RULE', (c) => c.rule],
    ['GIVES', (c) => (c.gives.length ? c.gives : '-')],
    ['DETAIL', (c) => c.detail],
  ]);
}

/** `anyone-with-id-can-read` or `ANYONE_WITH_ID_CAN_READ` → the API's value. */
function generalAccessValue(value: string): GeneralAccess {
  const found = GENERAL_ACCESS.find((v) => v === value.toUpperCase().replace(/-/g, '_'));
  if (!found)
    throw new CliError(
      `Argument value: "${value}" is not a general access (one of ${GENERAL_ACCESS.join(', ')})`,
      EXIT.USAGE,
    );
  return found;
}

async function setGeneralAccess(cli: Cli, rt: CliResourceType, ref: string, generalAccess: GeneralAccess) {
  const body = { generalAccess };
  switch (rt.type) {
    case 'DATASET':
      return call(
        cli.api.PUT('/v2/datasets/{datasetId}', { params: { path: { datasetId: ref } }, body }),
        cli.url,
      );
    case 'KEY_VALUE_STORE':
      return call(
        cli.api.PUT('/v2/key-value-stores/{storeId}', { params: { path: { storeId: ref } }, body }),
        cli.url,
      );
    case 'REQUEST_QUEUE':
      return call(
        cli.api.PUT('/v2/request-queues/{queueId}', { params: { path: { queueId: ref } }, body }),
        cli.url,
      );
    case 'ACTOR_RUN':
    case 'ACTOR_BUILD': {
      // Runs and builds have no names to read them by.
      if (generalAccess === 'ANYONE_WITH_NAME_CAN_READ')
        throw new CliError(
          `Argument value: ${aLabel(rt)} has no name; use ANYONE_WITH_ID_CAN_READ`,
          EXIT.USAGE,
        );
      const byId = { generalAccess };
      return rt.type === 'ACTOR_RUN'
        ? call(
            cli.api.PUT('/v2/actor-runs/{runId}', { params: { path: { runId: ref } }, body: byId }),
            cli.url,
          )
        : call(
            cli.api.PUT('/v2/actor-builds/{buildId}', { params: { path: { buildId: ref } }, body: byId }),
            cli.url,
          );
    }
    default:
      return requireLinkShareable(rt);
  }
}

async function generalAccess(
  typeName: string,
  ref: string,
  value: string | undefined,
  _o: unknown,
  command: Command,
) {
  const rt = resourceType(typeName);
  requireLinkShareable(rt);
  const wanted = value === undefined ? undefined : generalAccessValue(value);
  const cli = await connect(command);
  if (wanted) await setGeneralAccess(cli, rt, ref, wanted);
  const list = await listAccess(cli, rt, ref);
  const shown = { generalAccess: list.generalAccess, effectiveGeneralAccess: list.effectiveGeneralAccess };
  if (cli.json) return printJson({ resourceId: list.resourceId, ...shown });
  printFields([
    ['Resource', `${rt.label} ${list.resourceId}`],
    ['General access', shown.generalAccess],
    ['Effective', shown.effectiveGeneralAccess],
  ]);
}

const typeArgument = (command: Command, names = TYPE_NAMES) =>
  command.argument('<type>', `resource type: ${names}`);
const refArgument = (command: Command) =>
  command.argument('<resource>', 'the resource: its id, or username~name');

export function registerAccessCommands(program: Command): void {
  examples(
    refArgument(typeArgument(program.command('share'), GRANTABLE_TYPE_NAMES))
      .description('give a user permissions on a resource (a grant; sharing again changes it)')
      .requiredOption('--with <user>', 'who: a username or user id')
      .requiredOption('--permissions <list>', 'comma-separated, e.g. READ,WRITE (the type’s permissions)')
      .option('--expires <when>', 'a duration from now (30m, 12h, 7d, 2w) or an ISO date')
      .option('--view-owner-runs', 'Actors and tasks: also see the runs the owner starts (VIEW_OWNER_RUNS)')
      .action(share),
    'atrium share dataset alice~results --with bob --permissions READ',
    'atrium share actor XbP1sM7yH2kL9qR4t --with bob --permissions READ,RUN --expires 7d',
    'atrium share task my-task-id --with bob --permissions READ --view-owner-runs',
    'atrium share dataset alice~results --with bob --permissions READ,WRITE --expires 1d   # changes his grant',
  );
  examples(
    refArgument(typeArgument(program.command('revoke'), GRANTABLE_TYPE_NAMES))
      .description("take back a user's grants on a resource")
      .option('--from <user>', 'whose grant: a username or user id')
      .option('--with <user>', 'the same as --from (the word `share` takes)')
      .action(revoke),
    'atrium revoke dataset alice~results --from bob',
  );
  examples(
    refArgument(typeArgument(program.command('access'), GRANTABLE_TYPE_NAMES))
      .description('who has access to a resource and why: owner, grants, memberships, general access')
      .action(access),
    'atrium access dataset alice~results',
    'atrium access actor XbP1sM7yH2kL9qR4t --json',
  );
  examples(
    refArgument(typeArgument(program.command('explain')))
      .description('why a user may (or may not) do something on a resource')
      .option('--user <user>', 'whose access (default: yours; others need MANAGE_ACCESS)')
      .option('--permission <permission>', 'the permission asked about', 'READ')
      .action(explain),
    'atrium explain dataset alice~results --user bob',
    'atrium explain actor XbP1sM7yH2kL9qR4t --permission RUN',
  );
  examples(
    refArgument(typeArgument(program.command('general-access')))
      .argument('[value]', `set it: ${GENERAL_ACCESS.join(', ')} (lower case and dashes work too)`)
      .description('show or set who may read a resource by its link (runs, builds and storages)')
      .action(generalAccess),
    'atrium general-access dataset alice~results',
    'atrium general-access dataset alice~results anyone-with-id-can-read',
    'atrium general-access run 3nR2xVbq8mPL0tYzK restricted',
  );
}
