import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_PASSWORD } from '@atrium/testing';
import { SignedUpUser, signUpEach, startListeningTestStack, TestStack } from '../../atrium/test/test-stack';
import { cliUser, CliUser } from './cli-harness';

describe('atrium login, whoami, logout (the CLI as a subprocess)', () => {
  let t: TestStack & { baseUrl: string };
  let alice: SignedUpUser;
  let cli: CliUser;

  beforeAll(async () => {
    t = await startListeningTestStack();
    [alice] = await signUpEach(t, 'alice');
    cli = cliUser();
  }, 120_000);
  afterAll(async () => {
    cli?.cleanup();
    await t?.close();
  });

  it('logs in with a password: keeps an API token named after the machine, 0600, and whoami answers', async () => {
    const login = await cli(['login', t.baseUrl, '--user', alice.username, '--password-stdin'], {
      input: `${TEST_PASSWORD}\n`,
    });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    expect(login.stdout).toContain(`Logged in to ${t.baseUrl} as ${alice.username}`);
    const file = join(cli.configDir, 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(cli.configDir).mode & 0o077).toBe(0);

    const tokens = await t.http().get('/v2/users/me/tokens').set(alice.auth).expect(200);
    expect(tokens.body.data.items.map((token: { name: string }) => token.name)).toContainEqual(
      expect.stringMatching(/^atrium CLI on /),
    );

    const whoami = await cli(['whoami', '--json']);
    expect(whoami.code).toBe(0);
    expect(JSON.parse(whoami.stdout)).toMatchObject({
      id: alice.id,
      username: alice.username,
      url: t.baseUrl,
    });
  });

  it('on a terminal, asks for the username and password and never shows the password', async () => {
    const other = cliUser();
    // A real pseudo-terminal (python3's pty): what the user sees is what the terminal received.
    // (Asynchronously: the stack answering the CLI runs in this process.)
    const { stdout: seen } = await promisify(execFile)(
      'python3',
      [
        '-c',
        `
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.environ['ATRIUM_CONFIG_DIR'] = sys.argv[3]
    os.execvp(sys.argv[1], [sys.argv[1], sys.argv[2], 'login', sys.argv[4]])
out = b''
def until(text, secs=30):
    global out
    end = time.time() + secs
    while text not in out and time.time() < end:
        if select.select([fd], [], [], 0.2)[0]:
            try: out += os.read(fd, 4096)
            except OSError: break
until(b'Username')
os.write(fd, sys.argv[5].encode() + b'\\r')
until(b'Password')
os.write(fd, sys.argv[6].encode() + b'\\r')
until(b'Logged in')
sys.stdout.write(out.decode('utf8', 'replace'))
`,
        process.execPath,
        join(__dirname, '..', '..', '..', 'bin', 'atrium.js'),
        other.configDir,
        t.baseUrl,
        alice.username,
        TEST_PASSWORD,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    other.cleanup();
    expect(seen).toContain(`Logged in to ${t.baseUrl} as ${alice.username}`);
    expect(seen).toContain(alice.username);
    expect(seen).not.toContain(TEST_PASSWORD);
  });

  it('a wrong password: one clear line and a non-zero exit; --json prints the API error object', async () => {
    const other = cliUser();
    try {
      const wrong = await other(['login', t.baseUrl, '--user', alice.username, '--password-stdin'], {
        input: 'not-the-password\n',
      });
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
      expect(wrong.stderr).toMatch(/^atrium: /);
      const json = await other(['login', t.baseUrl, '--user', alice.username, '--password-stdin', '--json'], {
        input: 'not-the-password\n',
      });
      expect(JSON.parse(json.stdout)).toEqual({
        error: { type: expect.any(String), message: expect.any(String) },
      });
      const notLoggedIn = await other(['whoami']);
      expect(notLoggedIn.code).toBe(3);
      expect(notLoggedIn.stderr).toMatch(/Not logged in/);
    } finally {
      other.cleanup();
    }
  });

  it('logout revokes the token login made: it no longer works', async () => {
    const token = JSON.parse(readFileSync(join(cli.configDir, 'config.json'), 'utf8')).token;
    const out = await cli(['logout']);
    expect(out.code).toBe(0);
    await t.http().get('/v2/users/me').set('authorization', `Bearer ${token}`).expect(401);
    expect((await cli(['whoami'])).code).toBe(3);
  });

  it("bad usage exits 2 with commander's message", async () => {
    const out = await cli(['login', '--nope']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/unknown option '--nope'/);
  });
});
