import { createAtriumClient } from '@atrium/client';
import { Command } from 'commander';
import { hostname } from 'node:os';
import { call, connect } from '../api';
import { forgetLogin, readLogin, writeLogin } from '../config';
import { CliError, EXIT, printFields, printJson } from '../output';
import { prompt, readStdin } from '../prompt';
import { examples } from './help';

interface LoginOptions {
  user?: string;
  passwordStdin?: boolean;
  tokenStdin?: boolean;
}

/**
 * Signs in with a password (then keeps a new API token named after this machine, revocable in the
 * console or by `atrium logout`, not the password nor a session) or with an API token as given.
 */
async function login(urlArgument: string | undefined, options: LoginOptions, command: Command) {
  const json = !!command.optsWithGlobals<{ json?: boolean }>().json;
  const url = (
    urlArgument ??
    process.env.ATRIUM_URL ??
    readLogin()?.url ??
    (process.stdin.isTTY ? await prompt('Atrium URL: ') : '')
  ).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(url))
    throw new CliError(
      `Argument url: "${url}" is not an http(s) URL, e.g. http://127.0.0.1:3000`,
      EXIT.USAGE,
    );
  if (options.passwordStdin && options.tokenStdin)
    throw new CliError('Options --password-stdin and --token-stdin exclude each other', EXIT.USAGE);
  const secretFromStdin = async () => (await readStdin()).toString('utf8').trim();
  let username = options.user;
  let token: string | undefined;
  if (options.tokenStdin) token = await secretFromStdin();
  else if (!username && !options.passwordStdin) {
    if (!process.stdin.isTTY)
      throw new CliError('Not a terminal: give --user with --password-stdin, or --token-stdin', EXIT.USAGE);
    username = await prompt('Username or email (leave empty to use an API token): ');
    if (!username) token = await prompt('API token: ', { hidden: true });
  }
  let tokenId: string | undefined;
  if (token === undefined) {
    if (!username) throw new CliError('Option --user: give your username or email', EXIT.USAGE);
    const password = options.passwordStdin
      ? await secretFromStdin()
      : await prompt('Password: ', { hidden: true });
    const anonymous = createAtriumClient({ baseUrl: url });
    const session = await call(
      anonymous.POST('/v2/auth/login', { body: { login: username, password } }),
      url,
      {
        signedIn: false,
      },
    );
    const signedIn = createAtriumClient({ baseUrl: url, token: session.data.accessToken });
    const created = await call(
      signedIn.POST('/v2/users/me/tokens', { body: { name: `atrium CLI on ${hostname()}` } }),
      url,
    );
    token = created.data.token;
    tokenId = created.data.id;
    // The CLI keeps the token, not the session: end it.
    await signedIn
      .POST('/v2/auth/logout', { body: { refreshToken: session.data.refreshToken } })
      .catch(() => undefined);
  }
  if (!token) throw new CliError('No API token given', EXIT.USAGE);
  const me = await call(createAtriumClient({ baseUrl: url, token }).GET('/v2/users/me'), url);
  const file = writeLogin({ url, token, tokenId, userId: me.data.id, username: me.data.username });
  if (json) printJson({ url, userId: me.data.id, username: me.data.username, config: file });
  else process.stdout.write(`Logged in to ${url} as ${me.data.username} (credentials in ${file})\n`);
}

async function logout(_options: unknown, command: Command) {
  const stored = readLogin();
  if (!stored) throw new CliError('Not logged in', EXIT.UNAUTHENTICATED);
  if (stored.tokenId) {
    // Revoke the token `login` made; a token the user gave stays theirs to revoke.
    const cli = await connect(command);
    await call(
      cli.api.DELETE('/v2/users/me/tokens/{tokenId}', { params: { path: { tokenId: stored.tokenId } } }),
      cli.url,
    ).catch((err: CliError) => {
      if (err.exitCode !== EXIT.UNAUTHENTICATED && err.exitCode !== EXIT.NOT_FOUND) throw err;
    });
  }
  forgetLogin();
  process.stdout.write(`Logged out of ${stored.url}\n`);
}

async function whoami(_options: unknown, command: Command) {
  const cli = await connect(command);
  const me = (await call(cli.api.GET('/v2/users/me'), cli.url)).data;
  if (cli.json) return printJson({ ...me, url: cli.url, accountId: cli.accountId ?? me.id });
  printFields([
    ['User', `${me.username} (${me.id})`],
    ['Email', me.email],
    ['Atrium', cli.url],
    ['Acting as', cli.accountId ? `${cli.accountUsername ?? '?'} (${cli.accountId})` : 'yourself'],
  ]);
}

export function registerAuthCommands(program: Command): void {
  examples(
    program
      .command('login')
      .description(
        'log in to an Atrium (a password makes a new API token for this machine; or give an API token)',
      )
      .argument('[url]', 'the Atrium URL, e.g. http://127.0.0.1:3000')
      .option('-u, --user <login>', 'username or email (asks for the password)')
      .option('--password-stdin', 'read the password from stdin (scripts)')
      .option('--token-stdin', 'read an API token from stdin instead of signing in with a password')
      .action(login),
    'atrium login http://127.0.0.1:3000',
    'echo "$PASSWORD" | atrium login http://127.0.0.1:3000 --user alice --password-stdin',
    'echo "$ATRIUM_TOKEN" | atrium login https://atrium.example.com --token-stdin',
  );
  examples(
    program
      .command('logout')
      .description('forget the stored login and revoke the token `login` made')
      .action(logout),
    'atrium logout',
  );
  examples(
    program.command('whoami').description('who the CLI acts as, and where').action(whoami),
    'atrium whoami',
    'atrium whoami --account my-org --json',
  );
}
