import AxeBuilder from '@axe-core/playwright';
import {
  createTestDatabase,
  signUp,
  testGatewayConfig,
  testServiceConfig,
  TestDatabase,
  uniqueName,
} from '@atrium/testing';
import type { SignedUpUser } from '@atrium/testing';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Browser, BrowserContext, chromium, ConsoleMessage, Page } from 'playwright-core';
import request from 'supertest';
import { AtriumStack, startAtriumStack } from '../../atrium/src/atrium-stack';
import { DevMail, readMail } from '../../atrium/test/test-stack';

/*
 * The browser tier: all of Atrium in this process (the services on the in-process bus, as
 * `npm start` runs them) on a fresh database of the test PostgreSQL, the gateway listening on a
 * free loopback port and serving the built console, driven by Debian's Chromium through
 * playwright-core. One stack and one browser per spec file: `useConsole()` at the top of a
 * `describe` starts them in beforeAll and stops them in afterAll; every test gets its own
 * browser contexts (cookie jars), closed after it, and fails if one of its pages logged an error.
 *
 *   describe('sharing a dataset', () => {
 *     const h = useConsole();
 *     it('A shares with B', async () => {
 *       const [a, b] = [await h.signUpUser('a'), await h.signUpUser('b')];
 *       const datasetId = await createDataset(h, a, 'shared'); // @atrium/testing factories take `h`
 *       const page = await h.signedInPage(a, `/storage/datasets/${datasetId}`);
 *       await page.getByRole('button', { name: 'Share' }).click();
 *       await expectAccessible(page);
 *       await screenshot(page, 'share-dialog');
 *     });
 *   });
 */

const REPO = resolve(__dirname, '../../..');
const CONSOLE_DIST = join(REPO, 'dist/console');
/** Debian's Chromium (`.ci/run` installs it); CONSOLE_CHROMIUM points elsewhere. */
export const CHROMIUM = process.env.CONSOLE_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  // Without these Chromium keeps calling Google's services, which a closed network never answers.
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Every step of a journey fails within this long rather than at Jest's 60 s test timeout. */
const ACTION_TIMEOUT_MS = 10_000;
/** The same window for every test, so screenshots and layouts do not depend on the machine. */
const VIEWPORT = { width: 1280, height: 800 };
/** Everyone signed up here has this password (the one `signUp` of @atrium/testing sets). */
export const TEST_PASSWORD = 'correct horse battery';

export interface ConsoleUser extends SignedUpUser {
  email: string;
  password: string;
  /** The same as `id`. */
  userId: string;
}

/** A console error a page is expected to log (matched against the error's text). */
export type ErrorMatcher = RegExp;

interface PageRecord {
  page: Page;
  errors: string[];
  allowed: ErrorMatcher[];
}

/**
 * A Chromium "Failed to load resource" line for a 4xx answer is the browser reporting an answer
 * the app asked for and handles (401 before sign-in, 404 "not found" pages, 400 on bad input):
 * not an error of the page. 5xx answers, failed connections, script errors, CSP violations and
 * the app's own `console.error` are.
 */
const EXPECTED_4XX = /^Failed to load resource: the server responded with a status of 4\d\d\b/;

/** The console is built by Vite into dist/console; (re)build it when absent or older than its sources. */
export function ensureConsoleBuilt(): void {
  const index = join(CONSOLE_DIST, 'index.html');
  // The app's sources and the typed API client it bundles (vite.config.mts aliases @atrium/client).
  const sources = [
    'apps/console/src',
    'apps/console/index.html',
    'apps/console/vite.config.mts',
    'apps/console/public',
    'libs/client/src',
  ]
    .map((p) => join(REPO, p))
    .filter((p) => existsSync(p));
  if (!sources.length) throw new Error('apps/console is missing: nothing to serve at /');
  if (existsSync(index) && newestMtime(sources) <= statSync(index).mtimeMs) return;
  // Jest sets NODE_ENV=test, with which Vite would bundle React's development build (StrictMode's
  // double effects included): test what ships.
  execFileSync('npm', ['run', '-s', 'console:build'], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  });
  if (!existsSync(index)) throw new Error(`npm run console:build wrote no ${index}`);
}

function newestMtime(paths: string[]): number {
  let newest = 0;
  for (const path of paths) {
    const stat = statSync(path);
    newest = Math.max(
      newest,
      stat.isDirectory() ? newestMtime(readdirSync(path).map((name) => join(path, name))) : stat.mtimeMs,
    );
  }
  return newest;
}

/** A loopback port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

export class ConsoleHarness {
  /** Where the gateway listens, e.g. `http://127.0.0.1:40123` (also its PUBLIC_BASE_URL). */
  baseUrl = '';
  browser!: Browser;
  stack!: AtriumStack;
  db!: TestDatabase;
  private closed = false;
  private contexts: BrowserContext[] = [];
  private pages: PageRecord[] = [];

  /** Builds the console if needed, starts the stack and Chromium. Call close() even when it throws. */
  async start(gatewayOverrides: Record<string, string> = {}): Promise<this> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CONSOLE_CHROMIUM)`);
    }
    ensureConsoleBuilt();
    const port = await freePort();
    this.baseUrl = `http://127.0.0.1:${port}`;
    // Chromium starts while the stack does (its failure handled at once, reported below).
    const launched = chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }).then(
      (browser) => ({ browser }),
      (error: unknown) => ({ error }),
    );
    try {
      this.db = await createTestDatabase({ migrated: true });
      this.stack = await startAtriumStack(
        // A page fires many requests at once on a shared, loaded CI machine: a deadline longer than
        // production's 5 s keeps a slow answer from reading as a 503 (journeys test pages, not deadlines).
        testServiceConfig(this.db.url, { AMQP_URL: '', DB_POOL_SIZE: '4', RPC_TIMEOUT_MS: '20000' }),
        testGatewayConfig({
          AMQP_URL: '',
          RPC_TIMEOUT_MS: '20000',
          PORT: String(port),
          PUBLIC_BASE_URL: this.baseUrl,
          ...gatewayOverrides,
        }),
      );
      await this.stack.gateway.listen(port, '127.0.0.1');
    } finally {
      // On failure too, so that close() stops whatever started.
      const result = await launched;
      if ('browser' in result) this.browser = result.browser;
    }
    const result = await launched;
    if ('error' in result) throw result.error;
    return this;
  }

  /** Stops Chromium, the stack, and drops the database (once, whatever of them started). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.browser?.close();
    await this.stack?.close();
    await this.db?.drop();
  }

  /** supertest on the running gateway (the `ApiUnderTest` of @atrium/testing's factories). */
  http = () => request(this.baseUrl);

  /** A new user signed up through the API, with a username no other run uses. */
  async signUpUser(prefix: string): Promise<ConsoleUser> {
    const user = await signUp(this, uniqueName(prefix));
    return { ...user, userId: user.id, email: `${user.username}@example.com`, password: TEST_PASSWORD };
  }

  /** The newest dev-mailbox mail to `to` about `subject` (verification, reset, invitation). */
  readMail(to: string, subject: string): Promise<DevMail> {
    return readMail(this, to, subject);
  }

  /**
   * A new browser context (its own cookies) and page, watched for errors. Closed after the test
   * by `useConsole()`; `allowErrors` lists console errors this page is expected to log.
   */
  async newPage(options: { allowErrors?: ErrorMatcher[] } = {}): Promise<Page> {
    // Reduced motion: Mantine skips its transitions, so axe never scans a half-faded modal or menu.
    const context = await this.browser.newContext({
      baseURL: this.baseUrl,
      viewport: VIEWPORT,
      reducedMotion: 'reduce',
    });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    this.contexts.push(context);
    const page = await context.newPage();
    this.watch(page, options.allowErrors ?? []);
    // Pages the app opens itself (target=_blank) are watched too.
    context.on('page', (opened) => opened !== page && this.watch(opened, options.allowErrors ?? []));
    return page;
  }

  /** A new page of an anonymous visitor (no cookies), opened at `path`. */
  async anonymousPage(path = '/', options: { allowErrors?: ErrorMatcher[] } = {}): Promise<Page> {
    const page = await this.newPage(options);
    await page.goto(path);
    return page;
  }

  /**
   * A page signed in as `user` through the cookie session (POST /v2/auth/session from the
   * page's context, so the refresh and CSRF cookies land in its jar), opened at `path`.
   */
  async signedInPage(
    user: ConsoleUser,
    path = '/',
    options: { allowErrors?: ErrorMatcher[] } = {},
  ): Promise<Page> {
    const page = await this.newPage(options);
    // Signed in from the page itself, as the console does, so the browser keeps the cookies it
    // was given (Playwright's request context stored a second atrium_refresh beside the one the
    // page's refreshes rotate, and the stale one then counted as a reused refresh token).
    await page.goto('/health/live');
    const status = await page.evaluate(
      async ({ login, password }) =>
        (
          await fetch('/v2/auth/session', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ login, password }),
          })
        ).status,
      { login: user.username, password: user.password },
    );
    if (status !== 201) throw new Error(`sign-in of ${user.username}: ${status}`);
    await page.goto(path);
    return page;
  }

  /** The errors every page of this test logged so far (see EXPECTED_4XX for what is not one). */
  pageErrors(): string[] {
    return this.pages.flatMap(({ page, errors }) =>
      errors.map((e) => `${page.url() || 'about:blank'}: ${e}`),
    );
  }

  /** Closes this test's contexts; throws with every error their pages logged. */
  async endTest(): Promise<void> {
    const errors = this.pageErrors();
    const contexts = this.contexts;
    this.contexts = [];
    this.pages = [];
    await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
    if (errors.length) throw new Error(`the pages logged errors:\n  ${errors.join('\n  ')}`);
  }

  private watch(page: Page, allowed: ErrorMatcher[]): void {
    const record: PageRecord = { page, errors: [], allowed };
    this.pages.push(record);
    const add = (text: string) => {
      if (!record.allowed.some((re) => re.test(text)))
        record.errors.push(`${page.url() || 'about:blank'}: ${text}`);
    };
    page.on('pageerror', (err) => add(`uncaught ${err.name}: ${err.message}`));
    page.on('console', (msg: ConsoleMessage) => {
      if (msg.type() !== 'error' || EXPECTED_4XX.test(msg.text())) return;
      const { url, lineNumber } = msg.location();
      add(`console.error: ${msg.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
    });
    page.on('crash', () => add('the page crashed'));
  }
}

/**
 * The harness of a spec file: call it at the top of a `describe`. It starts the stack and
 * Chromium before the file's tests, closes each test's pages after it (failing the test if a
 * page logged an error), and stops everything after the file.
 */
export function useConsole(gatewayOverrides: Record<string, string> = {}): ConsoleHarness {
  const harness = new ConsoleHarness();
  beforeAll(() => harness.start(gatewayOverrides), 120_000);
  afterEach(() => harness.endTest());
  afterAll(() => harness.close());
  return harness;
}

/**
 * Signs in through the sign-in form the page shows, and waits for the form to go away; throws
 * with the form's message when the sign-in is refused. (A journey that expects a refusal fills
 * the form itself.)
 */
export async function signInThroughForm(
  page: Page,
  user: Pick<ConsoleUser, 'username' | 'password'>,
): Promise<void> {
  const login = page.getByLabel('Username or email');
  await login.fill(user.username);
  // Mantine appends the required mark to the label: "Password *".
  await page.getByLabel(/^Password\b/).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const refused = page.getByRole('alert');
  const outcome = await Promise.race([
    login.waitFor({ state: 'detached' }).then(() => 'signed in'),
    refused.waitFor().then(() => 'refused'),
  ]);
  if (outcome === 'refused')
    throw new Error(`sign-in of ${user.username} refused: ${await refused.innerText()}`);
}

/** Fails with a readable list when axe-core finds a serious or critical violation on the page. */
export async function expectAccessible(
  page: Page,
  options: { include?: string; exclude?: string[]; disableRules?: string[] } = {},
): Promise<void> {
  let builder = new AxeBuilder({ page });
  if (options.include) builder = builder.include(options.include);
  for (const selector of options.exclude ?? []) builder = builder.exclude(selector);
  if (options.disableRules?.length) builder = builder.disableRules(options.disableRules);
  const { violations } = await builder.analyze();
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (!serious.length) return;
  const report = serious.map(
    (v) =>
      `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
      v.nodes
        .slice(0, 5)
        .map((n) => `    ${n.target.join(' ')}: ${n.failureSummary?.replace(/\s+/g, ' ') ?? ''}`)
        .join('\n'),
  );
  throw new Error(
    `axe-core found ${serious.length} serious or critical violation(s) on ${page.url()}:\n${report.join('\n')}`,
  );
}

/** Writes docs/console/<name>.png when CONSOLE_SCREENSHOTS=1 (so CI runs leave the tree alone). */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.CONSOLE_SCREENSHOTS !== '1') return;
  const dir = join(REPO, 'docs/console');
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), animations: 'disabled' });
}
