import { AtriumClient, createAtriumClient, InvalidPathParameterError } from '@atrium/client';
import { ID_PATTERN } from '@atrium/contracts';
import type { Command } from 'commander';
import { readLogin } from './config';
import { ApiErrorBody, CliError, EXIT, exitCodeOfStatus } from './output';
import { notFoundMessage } from './resource-types';

/** The options every command takes (declared on the program, see main.ts). */
export interface GlobalOptions {
  json?: boolean;
  account?: string;
  url?: string;
}

/** What a command acts with: the typed client, signed in as the stored login (or ATRIUM_TOKEN). */
export interface Cli {
  api: AtriumClient;
  url: string;
  token: string | undefined;
  json: boolean;
  /** The organization acted as (`--account`), sent as `X-Account-Id`. */
  accountId?: string;
  /** The username of the account acted as, once asked (bare names are its resources). */
  accountUsername?: string;
}

type ApiResult<T> = Promise<{ data?: T; error?: unknown; response: Response }>;

/** The answer's body, or a CliError with the API's message and the exit code its status means. */
export async function call<T>(request: ApiResult<T>, url = 'Atrium', { signedIn = true } = {}): Promise<T> {
  let result: Awaited<ApiResult<T>>;
  try {
    result = await request;
  } catch (err) {
    throw unreachable(url, err);
  }
  const { response } = result;
  if (response.ok) return result.data as T;
  throw apiError(response.status, result.error, signedIn, response.url);
}

export function unreachable(url: string, err: unknown): CliError {
  // Refused before it was sent: what the user typed.
  if (err instanceof InvalidPathParameterError) return new CliError(err.message, EXIT.USAGE);
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return new CliError(
    `Cannot reach Atrium at ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
    EXIT.UNAVAILABLE,
  );
}

const GENERIC_NOT_FOUND = 'The record was not found';

/** An error answer of the API, as a CliError carrying the API's error object (`url`: the request's). */
export function apiError(status: number, body: unknown, signedIn = true, url = ''): CliError {
  const error = (body as Partial<ApiErrorBody> | undefined)?.error;
  const message =
    // The API's 404 for the resource a path names does not say which: the path does (what the user typed).
    (status === 404 && error?.message === GENERIC_NOT_FOUND ? notFoundMessage(url) : undefined) ??
    (typeof error?.message === 'string' ? error.message : `Atrium answered ${status} with no error message`);
  const errorBody: ApiErrorBody = error ? { error } : { error: { type: `http-${status}`, message } };
  const hint = status === 401 && signedIn ? ' (run `atrium login`)' : '';
  return new CliError(message + hint, exitCodeOfStatus(status), errorBody);
}

/**
 * The CLI's client: the URL and token from `--url` / ATRIUM_URL / ATRIUM_TOKEN, else from
 * `atrium login`; with `--account <org>` (id or name) every request acts as that organization.
 */
export async function connect(command: Command, { signedIn = true } = {}): Promise<Cli> {
  const options = command.optsWithGlobals<GlobalOptions>();
  const stored = readLogin();
  const url = (options.url ?? process.env.ATRIUM_URL ?? stored?.url ?? '').replace(/\/+$/, '');
  const token =
    process.env.ATRIUM_TOKEN || (stored && stored.url.replace(/\/+$/, '') === url ? stored.token : undefined);
  if (!url) throw new CliError('Not logged in: run `atrium login <url>` first', EXIT.UNAUTHENTICATED);
  if (signedIn && !token)
    throw new CliError(`Not logged in to ${url}: run \`atrium login ${url}\` first`, EXIT.UNAUTHENTICATED);
  const cli: Cli = { api: createClient(url, token, undefined), url, token, json: !!options.json };
  if (options.account) {
    const account = await resolveAccount(cli, options.account);
    cli.accountId = account.id;
    cli.accountUsername = account.username;
    cli.api = createClient(url, token, cli.accountId);
  } else if (stored?.username && stored.token === token) cli.accountUsername = stored.username;
  return cli;
}

function createClient(url: string, token: string | undefined, accountId: string | undefined): AtriumClient {
  const api = createAtriumClient({ baseUrl: url, token });
  if (accountId)
    api.use({
      onRequest({ request }) {
        // What is shared with me is the user's, not the organization's: the API refuses X-Account-Id there.
        if (new URL(request.url).searchParams.get('ownership') !== 'sharedWithMe')
          request.headers.set('x-account-id', accountId);
        return request;
      },
    });
  return api;
}

/** `--account` takes an organization's id or its name (one the user belongs to). */
export async function resolveAccount(cli: Cli, account: string): Promise<{ id: string; username: string }> {
  const page = await call(cli.api.GET('/v2/organizations', { params: { query: { limit: 1000 } } }), cli.url);
  const found = page.data.items.find((org) => org.id === account || org.username === account);
  if (!found)
    throw new CliError(
      `Option --account: you are not a member of an organization named "${account}"`,
      EXIT.NOT_FOUND,
    );
  return { id: found.id, username: found.username };
}

/**
 * A reference as the API takes it: an id, or `username~name` (`username/name` is the same); a bare
 * name is one of the account acted as (yours, or `--account`'s).
 */
export async function qualify(cli: Cli, ref: string, what = 'Argument'): Promise<string> {
  const trimmed = ref.trim();
  if (ID_PATTERN.test(trimmed)) return trimmed;
  const qualified = trimmed.replace('/', '~');
  if (/^[^~\s/]+~[^~\s/]+$/.test(qualified)) return qualified;
  if (!/^[\w.-]+$/.test(trimmed))
    throw new CliError(
      `${what}: "${ref}" is not an id, a name, "username~name" or "username/name"`,
      EXIT.USAGE,
    );
  cli.accountUsername ??= (await call(cli.api.GET('/v2/users/me'), cli.url)).data.username;
  return `${cli.accountUsername}~${trimmed}`;
}
