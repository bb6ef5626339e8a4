import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** What `atrium login` keeps: where the API is and the API token the CLI acts with. */
export interface StoredLogin {
  url: string;
  token: string;
  /** The token's id (`atrium logout` revokes it) and whose it is, for `whoami` without a request. */
  tokenId?: string;
  userId?: string;
  username?: string;
}

/**
 * The user's config directory: ATRIUM_CONFIG_DIR, else $XDG_CONFIG_HOME/atrium, else ~/.config/atrium.
 * The file holds a secret: the directory is 0700 and the file 0600, written whole or not at all.
 */
export function configDir(): string {
  if (process.env.ATRIUM_CONFIG_DIR) return process.env.ATRIUM_CONFIG_DIR;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'atrium');
}

const configFile = () => join(configDir(), 'config.json');

export function readLogin(): StoredLogin | undefined {
  let text: string;
  try {
    text = readFileSync(configFile(), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as Partial<StoredLogin>;
    return typeof parsed.url === 'string' && typeof parsed.token === 'string'
      ? (parsed as StoredLogin)
      : undefined;
  } catch {
    return undefined;
  }
}

export function writeLogin(login: StoredLogin): string {
  const dir = configDir();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = configFile();
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, JSON.stringify(login, null, 2) + '\n', { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, file);
  return file;
}

export function forgetLogin(): void {
  rmSync(configFile(), { force: true });
}
