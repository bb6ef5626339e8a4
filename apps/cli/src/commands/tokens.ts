import type { ApiTokenView, CreatedApiToken } from '@atrium/contracts';
import { Command } from 'commander';
import { call, Cli, connect } from '../api';
import { CliError, EXIT, printJson, printTable } from '../output';
import { parseExpiry } from '../resources';
import { describeScope, parseScope, SCOPE_HELP } from '../scopes';
import { examples } from './help';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** My tokens, or with `--account` the organization's (Owner or MANAGE_ACCESS_TOKENS). */
async function listTokens(cli: Cli): Promise<ApiTokenView[]> {
  const page = cli.accountId
    ? await call(
        cli.api.GET('/v2/organizations/{orgId}/tokens', {
          params: { path: { orgId: cli.accountId }, query: { limit: 1000 } },
        }),
        cli.url,
      )
    : await call(cli.api.GET('/v2/users/me/tokens'), cli.url);
  return page.data.items as unknown as ApiTokenView[];
}

async function create(name: string, options: { scope: string[]; expires?: string }, command: Command) {
  const expiresAt = options.expires === undefined ? undefined : parseExpiry(options.expires);
  const cli = await connect(command);
  const scope = await parseScope(cli, options.scope);
  const body = { name, scope, expiresAt };
  const created = (cli.accountId
    ? await call(
        cli.api.POST('/v2/organizations/{orgId}/tokens', {
          params: { path: { orgId: cli.accountId } },
          body,
        }),
        cli.url,
      )
    : await call(cli.api.POST('/v2/users/me/tokens', { body }), cli.url)
  ).data as unknown as CreatedApiToken;
  if (cli.json) return printJson(created);
  // The secret alone on stdout (`TOKEN=$(atrium tokens create …)`); the rest is for the person.
  process.stderr.write(
    `Created token ${created.name} (${created.id}), ${describeScope(created.scope)}` +
      `${created.expiresAt ? `, expires ${created.expiresAt}` : ''}. The secret is shown this once:\n`,
  );
  process.stdout.write(`${created.token}\n`);
}

async function revoke(ref: string, _options: unknown, command: Command) {
  const cli = await connect(command);
  const tokens = await listTokens(cli);
  const byId = tokens.find((t) => t.id === ref);
  const byName = tokens.filter((t) => t.name === ref);
  if (!byId && byName.length > 1)
    throw new CliError(`Argument token: ${byName.length} tokens are named "${ref}"; give the id`, EXIT.USAGE);
  const token = byId ?? byName[0];
  if (!token) throw new CliError(`Argument token: no token "${ref}" (its id or name)`, EXIT.NOT_FOUND);
  await call(
    cli.accountId
      ? cli.api.DELETE('/v2/organizations/{orgId}/tokens/{tokenId}', {
          params: { path: { orgId: cli.accountId, tokenId: token.id } },
        })
      : cli.api.DELETE('/v2/users/me/tokens/{tokenId}', { params: { path: { tokenId: token.id } } }),
    cli.url,
  );
  if (cli.json) return printJson({ revoked: token.id });
  process.stdout.write(`Revoked token ${token.name} (${token.id})\n`);
}

export function registerTokenCommands(program: Command): void {
  const tokens = examples(
    program.command('tokens').description('API tokens (yours, or with --account an organization’s)'),
    'atrium tokens ls',
    'atrium tokens create reader --scope storage=READ',
  );
  examples(
    tokens
      .command('ls')
      .description('list API tokens')
      .action(async (_options: unknown, command: Command) => {
        const cli = await connect(command);
        const all = await listTokens(cli);
        if (cli.json) return printJson(all);
        printTable(all, [
          ['NAME', (t) => t.name],
          ['ID', (t) => t.id],
          ['SCOPE', (t) => describeScope(t.scope)],
          ['EXPIRES', (t) => t.expiresAt ?? 'never'],
          ['LAST USED', (t) => t.lastUsedAt ?? 'never'],
        ]);
      }),
    'atrium tokens ls',
    'atrium tokens ls --account acme',
  );
  examples(
    tokens
      .command('create')
      .argument('<name>', "the token's name")
      .option('--scope <entry>', 'limit the token (repeatable; see below)', collect, [])
      .option('--expires <when>', 'a duration from now (30m, 12h, 7d, 2w) or an ISO date')
      .description('create an API token; its secret is printed once')
      .addHelpText('after', `\n${SCOPE_HELP}`)
      .action(create),
    'atrium tokens create ci',
    'atrium tokens create reader --scope storage=READ --expires 30d',
    'atrium tokens create one-dataset --scope dataset:alice~results=READ,WRITE --scope create=dataset',
  );
  examples(
    tokens
      .command('revoke')
      .argument('<token>', "the token's id or name")
      .description('revoke a token (it stops working at once)')
      .action(revoke),
    'atrium tokens revoke ci',
  );
}
