import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'atrium.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliUser {
  /** Runs `atrium …` as a subprocess with this user's config directory; `input` is written to stdin. */
  (args: string[], options?: { input?: string; env?: Record<string, string> }): Promise<CliResult>;
  configDir: string;
  cleanup(): void;
}

/** A terminal user of the CLI: its own config directory (its own `atrium login`), the CLI as a subprocess. */
export function cliUser(baseEnv: Record<string, string> = {}): CliUser {
  const configDir = mkdtempSync(join(tmpdir(), 'atrium-cli-'));
  const run = ((args, options = {}) =>
    new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: configDir,
          ATRIUM_CONFIG_DIR: configDir,
          NO_COLOR: '1',
          ...baseEnv,
          ...options.env,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(options.input ?? '');
    })) as CliUser;
  run.configDir = configDir;
  run.cleanup = () => rmSync(configDir, { recursive: true, force: true });
  return run;
}
