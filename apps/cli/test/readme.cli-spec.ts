import { TEST_PASSWORD } from '@atrium/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import request from 'supertest';
import { freePort, startEmbedded, stopProcess } from '../../atrium/test/test-stack';

const ROOT = resolve(__dirname, '../../..');

/** The README's "From a terminal" commands, as written there. */
function readmeCommands(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## From a terminal'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1];
  return block.trim().split('\n');
}

/**
 * README truth: the six commands of "From a terminal", run in a shell from the checkout as a user
 * types them (`npx atrium …`), against `npm start`'s embedded Atrium (PGlite + in-process bus).
 */
describe('README: from a terminal, in six commands (embedded Atrium)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'atrium-readme-'));
  const configDir = mkdtempSync(join(tmpdir(), 'atrium-readme-cli-'));
  let atrium: Awaited<ReturnType<typeof startEmbedded>>;

  beforeAll(async () => {
    atrium = await startEmbedded(dataDir, await freePort());
    for (const username of ['alice', 'bob'])
      await request(atrium.url)
        .post('/v2/auth/signup')
        .send({ email: `${username}@example.com`, username, password: TEST_PASSWORD })
        .expect(201);
  }, 120_000);
  afterAll(async () => {
    if (atrium) await stopProcess(atrium.child);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(configDir, { recursive: true, force: true });
  });

  const shell = (line: string, input = '') =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      const child = execFile(
        'sh',
        ['-c', line],
        {
          cwd: ROOT,
          env: {
            PATH: process.env.PATH ?? '',
            HOME: configDir,
            ATRIUM_CONFIG_DIR: configDir,
            NO_COLOR: '1',
            // npx's own notices (a newer npm) are not the CLI's output.
            npm_config_update_notifier: 'false',
          },
          timeout: 90_000,
        },
        (err, stdout, stderr) => done({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin!.end(input);
    });

  it('logs in, creates and runs an Actor, restricts the run, shares its dataset with bob, and shows who has access', async () => {
    const commands = readmeCommands();
    expect(commands).toHaveLength(6);
    const [login, create, run, restrict, share, access] = commands;
    expect(login).toMatch(/^npx atrium login http:\/\/127\.0\.0\.1:3000 /);

    // The login prompts on a terminal; the README's script form of the same login is used here.
    const loggedIn = await shell(
      `npx atrium login ${atrium.url} --user alice --password-stdin`,
      `${TEST_PASSWORD}\n`,
    );
    expect(loggedIn).toMatchObject({ code: 0, stderr: '' });
    expect(loggedIn.stdout).toContain('Logged in');
    expect(await shell(create)).toMatchObject({ code: 0, stdout: expect.stringContaining('alice~hello') });

    const ran = await shell(run);
    expect(ran.stderr).toMatch(/Run \w+ SUCCEEDED/);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('Hello, Grace!');
    const datasetId = /dataset (\w{17})/.exec(ran.stderr)![1];
    const runId = /Run (\w{17}) SUCCEEDED/.exec(ran.stderr)![1];

    // The run restricted, its dataset is no longer readable by anyone with its id; then shared.
    await request(atrium.url).get(`/v2/datasets/${datasetId}/items`).expect(200);
    expect(await shell(restrict.replace(/<[^>]+>/, runId))).toMatchObject({ code: 0, stderr: '' });
    await request(atrium.url).get(`/v2/datasets/${datasetId}/items`).expect(404);
    const shared = await shell(share.replace(/<[^>]+>/, datasetId));
    // No note that the link still lets anyone read it: it does not.
    expect(shared).toMatchObject({ code: 0, stderr: '' });
    const shown = await shell(access.replace(/<[^>]+>/, datasetId));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/bob/);

    // Bob reads the three greetings through the API.
    const bob = await request(atrium.url)
      .post('/v2/auth/login')
      .send({ login: 'bob', password: TEST_PASSWORD })
      .expect(200);
    const items = await request(atrium.url)
      .get(`/v2/datasets/${datasetId}/items`)
      .set('authorization', `Bearer ${bob.body.data.accessToken}`)
      .expect(200);
    expect(items.body.map((item: { message: string }) => item.message)).toEqual([
      'Hello, Ada!',
      'Hello, Grace!',
      'Hello, Linus!',
    ]);
  }, 240_000);
});
