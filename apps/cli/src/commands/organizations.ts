import type {
  InvitationView,
  OrganizationMemberView,
  OrganizationRoleView,
  OrganizationView,
} from '@atrium/contracts';
import { ID_PATTERN } from '@atrium/contracts';
import { Command } from 'commander';
import { call, Cli, connect, resolveAccount } from '../api';
import { CliError, EXIT, printJson, printTable } from '../output';
import { parseRolePermissions, ROLE_PERMISSIONS_HELP } from '../scopes';
import { examples } from './help';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const PAGE = { limit: 1000 };

/** The organization a command is about: `--org`, else the one acted as (`--account`). */
async function organization(cli: Cli, command: Command): Promise<string> {
  const { org } = command.opts<{ org?: string }>();
  if (org)
    return resolveAccount(cli, org).then(
      ({ id }) => id,
      (err: CliError) => {
        throw new CliError(err.message.replace(/^Option --account/, 'Option --org'), err.exitCode, err.body);
      },
    );
  if (cli.accountId) return cli.accountId;
  throw new CliError('Option --org: name the organization (or act as it with --account)', EXIT.USAGE);
}

const orgOption = (command: Command) =>
  command.option('--org <org>', 'the organization (its name or id; default: the one --account names)');

async function roles(cli: Cli, orgId: string): Promise<OrganizationRoleView[]> {
  const page = await call(
    cli.api.GET('/v2/organizations/{orgId}/roles', { params: { path: { orgId }, query: PAGE } }),
    cli.url,
  );
  return page.data.items as unknown as OrganizationRoleView[];
}

async function members(cli: Cli, orgId: string): Promise<OrganizationMemberView[]> {
  const page = await call(
    cli.api.GET('/v2/organizations/{orgId}/members', { params: { path: { orgId }, query: PAGE } }),
    cli.url,
  );
  return page.data.items as unknown as OrganizationMemberView[];
}

/** A role by its id or its name (any case). */
async function findRole(
  cli: Cli,
  orgId: string,
  ref: string,
  argument: string,
): Promise<OrganizationRoleView> {
  const all = await roles(cli, orgId);
  const found = all.find((r) => r.id === ref) ?? all.find((r) => r.name.toLowerCase() === ref.toLowerCase());
  if (!found)
    throw new CliError(
      `${argument}: "${ref}" is not a role of the organization (one of ${all.map((r) => r.name).join(', ')})`,
      EXIT.NOT_FOUND,
    );
  return found;
}

async function findMember(cli: Cli, orgId: string, ref: string): Promise<OrganizationMemberView> {
  const found = (await members(cli, orgId)).find((m) => m.userId === ref || m.username === ref);
  if (!found)
    throw new CliError(`Argument user: "${ref}" is not a member of the organization`, EXIT.NOT_FOUND);
  return found;
}

function registerOrgs(program: Command) {
  const orgs = examples(
    program.command('orgs').alias('organizations').description('organizations you belong to'),
    'atrium orgs ls',
    'atrium orgs create acme',
  );
  examples(
    orgs
      .command('ls')
      .description('the organizations you belong to, with your role in each')
      .action(async (_options: unknown, command: Command) => {
        const cli = await connect(command);
        const page = (await call(cli.api.GET('/v2/organizations', { params: { query: PAGE } }), cli.url))
          .data;
        if (cli.json) return printJson(page);
        printTable(page.items as unknown as OrganizationView[], [
          ['NAME', (o) => o.username],
          ['ID', (o) => o.id],
          ['YOUR ROLE', (o) => o.role.name],
          ['CREATED', (o) => o.createdAt],
        ]);
      }),
    'atrium orgs ls',
  );
  examples(
    orgs
      .command('create')
      .argument('<name>', "the organization's username")
      .description('create an organization (you become its Owner)')
      .action(async (name: string, _options: unknown, command: Command) => {
        const cli = await connect(command);
        const org = (await call(cli.api.POST('/v2/organizations', { body: { username: name } }), cli.url))
          .data;
        if (cli.json) return printJson(org);
        process.stdout.write(
          `Created organization ${org.username} (${org.id}); act as it with --account ${org.username}\n`,
        );
      }),
    'atrium orgs create acme',
  );
}

function registerMembers(program: Command) {
  const group = examples(
    program.command('members').description("an organization's members and their roles"),
    'atrium members ls --org acme',
    'atrium members set-role bob Developer --org acme',
  );
  examples(
    orgOption(group.command('ls'))
      .description("an organization's members")
      .action(async (_options: unknown, command: Command) => {
        const cli = await connect(command);
        const all = await members(cli, await organization(cli, command));
        if (cli.json) return printJson(all);
        printTable(all, [
          ['USER', (m) => m.username],
          ['ROLE', (m) => m.roleName],
          ['JOINED', (m) => m.joinedAt],
          ['ID', (m) => m.userId],
        ]);
      }),
    'atrium members ls --org acme',
    'atrium members ls --account acme --json',
  );
  examples(
    orgOption(group.command('set-role'))
      .argument('<user>', 'the member: username or user id')
      .argument('<role>', 'the role: its name or id')
      .description("change a member's role")
      .action(async (user: string, role: string, _options: unknown, command: Command) => {
        const cli = await connect(command);
        const orgId = await organization(cli, command);
        const member = await findMember(cli, orgId, user);
        const target = await findRole(cli, orgId, role, 'Argument role');
        const updated = (
          await call(
            cli.api.PUT('/v2/organizations/{orgId}/members/{userId}', {
              params: { path: { orgId, userId: member.userId } },
              body: { roleId: target.id },
            }),
            cli.url,
          )
        ).data;
        if (cli.json) return printJson(updated);
        process.stdout.write(`${member.username} is now ${target.name}\n`);
      }),
    'atrium members set-role bob Developer --org acme',
  );
  examples(
    orgOption(group.command('remove'))
      .argument('<user>', 'the member: username or user id (yourself: leave)')
      .description('remove a member from an organization (or leave it)')
      .action(async (user: string, _options: unknown, command: Command) => {
        const cli = await connect(command);
        const orgId = await organization(cli, command);
        const member = await findMember(cli, orgId, user);
        await call(
          cli.api.DELETE('/v2/organizations/{orgId}/members/{userId}', {
            params: { path: { orgId, userId: member.userId } },
          }),
          cli.url,
        );
        if (cli.json) return printJson({ removed: member.userId });
        process.stdout.write(`Removed ${member.username}\n`);
      }),
    'atrium members remove bob --org acme',
  );
}

function registerRoles(program: Command) {
  const group = examples(
    program.command('roles').description("an organization's roles"),
    'atrium roles ls --org acme',
    'atrium roles create Analyst --allow storage=READ --org acme',
  );
  examples(
    orgOption(group.command('ls'))
      .description("an organization's roles and what they allow")
      .action(async (_options: unknown, command: Command) => {
        const cli = await connect(command);
        const all = await roles(cli, await organization(cli, command));
        if (cli.json) return printJson(all);
        printTable(all, [
          ['NAME', (r) => r.name],
          ['MEMBERS', (r) => r.memberCount],
          [
            'PERMISSIONS',
            (r) =>
              Object.entries(r.permissions)
                .filter(([, list]) => (list as string[]).length)
                .map(([cat, list]) => `${cat.toLowerCase()}=${(list as string[]).join(',')}`)
                .join(' '),
          ],
          ['ID', (r) => r.id],
        ]);
      }),
    'atrium roles ls --org acme',
  );
  examples(
    orgOption(group.command('create'))
      .argument('<name>', "the role's name")
      .option('--allow <category=permissions>', 'what the role allows (repeatable)', collect, [])
      .description('create a custom role')
      .addHelpText('after', `\n${ROLE_PERMISSIONS_HELP}`)
      .action(async (name: string, options: { allow: string[] }, command: Command) => {
        const permissions = parseRolePermissions(options.allow);
        const cli = await connect(command);
        const orgId = await organization(cli, command);
        const role = (
          await call(
            cli.api.POST('/v2/organizations/{orgId}/roles', {
              params: { path: { orgId } },
              body: { name, permissions },
            }),
            cli.url,
          )
        ).data;
        if (cli.json) return printJson(role);
        process.stdout.write(`Created role ${role.name} (${role.id})\n`);
      }),
    'atrium roles create Analyst --allow storage=READ --allow actor=READ,RUN --org acme',
  );
  examples(
    orgOption(group.command('update'))
      .argument('<role>', 'the role: its name or id')
      .option('--name <name>', 'a new name')
      .option(
        '--allow <category=permissions>',
        'what the role allows now, replacing it (repeatable)',
        collect,
        [],
      )
      .description('rename a role or change what it allows')
      .addHelpText('after', `\n${ROLE_PERMISSIONS_HELP}`)
      .action(async (ref: string, options: { name?: string; allow: string[] }, command: Command) => {
        const permissions = options.allow.length ? parseRolePermissions(options.allow) : undefined;
        if (!permissions && options.name === undefined)
          throw new CliError('Options --name or --allow: give what to change', EXIT.USAGE);
        const cli = await connect(command);
        const orgId = await organization(cli, command);
        const role = await findRole(cli, orgId, ref, 'Argument role');
        const updated = (
          await call(
            cli.api.PUT('/v2/organizations/{orgId}/roles/{roleId}', {
              params: { path: { orgId, roleId: role.id } },
              body: { name: options.name, permissions },
            }),
            cli.url,
          )
        ).data;
        if (cli.json) return printJson(updated);
        process.stdout.write(`Updated role ${updated.name}\n`);
      }),
    'atrium roles update Analyst --allow storage=READ,WRITE --org acme',
  );
  examples(
    orgOption(group.command('delete'))
      .argument('<role>', 'the role: its name or id')
      .description('delete a role no member holds')
      .action(async (ref: string, _options: unknown, command: Command) => {
        const cli = await connect(command);
        const orgId = await organization(cli, command);
        const role = await findRole(cli, orgId, ref, 'Argument role');
        await call(
          cli.api.DELETE('/v2/organizations/{orgId}/roles/{roleId}', {
            params: { path: { orgId, roleId: role.id } },
          }),
          cli.url,
        );
        if (cli.json) return printJson({ deleted: role.id });
        process.stdout.write(`Deleted role ${role.name}\n`);
      }),
    'atrium roles delete Analyst --org acme',
  );
}

const invitationColumns: [string, (i: InvitationView) => unknown][] = [
  ['ID', (i) => i.id],
  ['ORGANIZATION', (i) => i.organizationUsername],
  ['USER', (i) => i.username ?? i.email],
  ['ROLE', (i) => i.roleName],
  ['STATUS', (i) => i.status],
  ['EXPIRES', (i) => i.expiresAt],
];

/** An invitation to me by its id, or my pending one from the organization named. */
async function myInvitation(cli: Cli, ref: string): Promise<string> {
  if (ID_PATTERN.test(ref)) return ref;
  const page = await call(cli.api.GET('/v2/users/me/invitations', { params: { query: PAGE } }), cli.url);
  const found = (page.data.items as unknown as InvitationView[]).find(
    (i) => i.status === 'PENDING' && i.organizationUsername === ref,
  );
  if (!found) throw new CliError(`Argument invitation: no pending invitation from "${ref}"`, EXIT.NOT_FOUND);
  return found.id;
}

function registerInvitations(program: Command) {
  const group = examples(
    program.command('invitations').description('invitations to organizations'),
    'atrium invitations ls',
    'atrium invitations send bob --role Developer --org acme',
    'atrium invitations accept acme',
  );
  examples(
    orgOption(group.command('ls'))
      .description("invitations to you (or, with --org or --account, an organization's)")
      .action(async (_options: unknown, command: Command) => {
        const cli = await connect(command);
        const { org } = command.opts<{ org?: string }>();
        const orgId = org || cli.accountId ? await organization(cli, command) : undefined;
        const page = orgId
          ? await call(
              cli.api.GET('/v2/organizations/{orgId}/invitations', {
                params: { path: { orgId }, query: PAGE },
              }),
              cli.url,
            )
          : await call(cli.api.GET('/v2/users/me/invitations', { params: { query: PAGE } }), cli.url);
        if (cli.json) return printJson(page.data);
        printTable(page.data.items as unknown as InvitationView[], invitationColumns);
      }),
    'atrium invitations ls',
    'atrium invitations ls --org acme',
  );
  examples(
    orgOption(group.command('send'))
      .argument('<user>', 'who: a username, user id or email')
      .requiredOption('--role <role>', 'the role they get: its name or id')
      .description('invite someone to an organization')
      .action(async (user: string, options: { role: string }, command: Command) => {
        const cli = await connect(command);
        const orgId = await organization(cli, command);
        const role = await findRole(cli, orgId, options.role, 'Option --role');
        const invitation = (
          await call(
            cli.api.POST('/v2/organizations/{orgId}/invitations', {
              params: { path: { orgId } },
              body: { user, roleId: role.id },
            }),
            cli.url,
          )
        ).data as unknown as InvitationView;
        if (cli.json) return printJson(invitation);
        process.stdout.write(
          `Invited ${invitation.username ?? invitation.email ?? user} as ${role.name} (invitation ${invitation.id})\n`,
        );
      }),
    'atrium invitations send bob --role Developer --org acme',
  );
  for (const [verb, description] of [
    ['accept', 'accept an invitation: you join the organization'],
    ['decline', 'decline an invitation'],
  ] as const) {
    examples(
      group
        .command(verb)
        .argument('<invitation>', "the invitation's id, or the inviting organization's name")
        .description(description)
        .action(async (ref: string, _options: unknown, command: Command) => {
          const cli = await connect(command);
          const invitationId = await myInvitation(cli, ref);
          const path = { params: { path: { invitationId } } };
          const answered = (
            await call(
              verb === 'accept'
                ? cli.api.POST('/v2/invitations/{invitationId}/accept', path)
                : cli.api.POST('/v2/invitations/{invitationId}/decline', path),
              cli.url,
            )
          ).data as unknown as InvitationView;
          if (cli.json) return printJson(answered);
          process.stdout.write(
            verb === 'accept'
              ? `Joined ${answered.organizationUsername} as ${answered.roleName}\n`
              : `Declined the invitation from ${answered.organizationUsername}\n`,
          );
        }),
      `atrium invitations ${verb} acme`,
    );
  }
  examples(
    group
      .command('cancel')
      .argument('<invitation>', "the invitation's id")
      .description('cancel an invitation you (or your organization) sent')
      .action(async (invitationId: string, _options: unknown, command: Command) => {
        const cli = await connect(command);
        await call(
          cli.api.DELETE('/v2/invitations/{invitationId}', { params: { path: { invitationId } } }),
          cli.url,
        );
        if (cli.json) return printJson({ cancelled: invitationId });
        process.stdout.write(`Cancelled invitation ${invitationId}\n`);
      }),
    'atrium invitations cancel Qw3rTy8uI0pAsDfGh',
  );
}

export function registerOrganizationCommands(program: Command): void {
  registerOrgs(program);
  registerMembers(program);
  registerRoles(program);
  registerInvitations(program);
}
