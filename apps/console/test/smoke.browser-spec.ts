import { expectAccessible, screenshot, signInThroughForm, useConsole } from './harness';

/** The console is served at `/`, loads under its Content-Security-Policy and lets a user sign in. */
describe('console smoke', () => {
  const h = useConsole();

  it('serves the app at / with a CSP that allows no inline script, and shows the sign-in form to an anonymous visitor', async () => {
    const page = await h.newPage();
    const csp: string[] = [];
    page.on('console', (msg) => {
      if (/Content[- ]Security[- ]Policy/i.test(msg.text())) csp.push(msg.text());
    });
    const res = await page.goto('/');
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-type']).toMatch(/^text\/html/);
    const policy = res?.headers()['content-security-policy'] ?? '';
    const scriptSrc =
      /(?:^|;)\s*script-src ([^;]*)/.exec(policy)?.[1] ?? /(?:^|;)\s*default-src ([^;]*)/.exec(policy)?.[1];
    expect(scriptSrc).toBeDefined();
    expect(scriptSrc).not.toContain("'unsafe-inline'");

    await page.getByLabel('Username or email').waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(csp).toEqual([]);
    await expectAccessible(page);
    await screenshot(page, 'sign-in');
  });

  it('sends at most 300 KB of compressed JavaScript for the first page (an anonymous visit to a consoleUrl)', async () => {
    const scripts = new Map<string, number>();
    const page = await h.newPage();
    page.on('requestfinished', (request) => {
      if (request.resourceType() !== 'script') return;
      void request.sizes().then((sizes) => scripts.set(request.url(), sizes.responseBodySize));
    });
    await page.goto('/storage/datasets/AbCdEfGhIjKlMnOpQ');
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
    await page.waitForLoadState('networkidle');
    const bytes = [...scripts.values()].reduce((sum, size) => sum + size, 0);
    console.log(`first page: ${scripts.size} scripts, ${(bytes / 1024).toFixed(1)} KB compressed`);
    expect(scripts.size).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(300 * 1024);
  });

  it('never runs a stored HTML or SVG record as a page of its origin, and /docs loads under the same CSP as the console', async () => {
    const user = await h.signUpUser('records');
    const store = await h.http().post('/v2/key-value-stores?name=pages').set(user.auth).expect(201);
    const storeId: string = store.body.data.id;
    const script = `<script>document.title = 'ran ' + document.cookie;</script>`;
    await h
      .http()
      .put(`/v2/key-value-stores/${storeId}/records/page`)
      .set(user.auth)
      .set('content-type', 'text/html')
      .send(`<!doctype html><title>record</title>${script}`)
      .expect(201);
    await h
      .http()
      .put(`/v2/key-value-stores/${storeId}/records/drawing`)
      .set(user.auth)
      .set('content-type', 'image/svg+xml')
      .send(`<svg xmlns="http://www.w3.org/2000/svg"><script>document.title = 'ran';</script></svg>`)
      .expect(201);
    // The signed-in owner opens both: the sandbox blocks their scripts (Chromium logs that).
    const page = await h.signedInPage(user, '/', { allowErrors: [/sandboxed|Blocked script execution/i] });
    for (const key of ['page', 'drawing']) {
      const res = await page.goto(`/v2/key-value-stores/${storeId}/records/${key}`);
      expect(res?.headers()['content-security-policy']).toMatch(/^sandbox;/);
      expect(res?.headers()['x-content-type-options']).toBe('nosniff');
      expect(await page.title()).not.toMatch(/^ran/);
    }
    const csp: string[] = [];
    page.on('console', (msg) => {
      if (/Content[- ]Security[- ]Policy/i.test(msg.text())) csp.push(msg.text());
    });
    const docs = await page.goto('/docs');
    expect(docs?.headers()['x-frame-options']).toBe('DENY');
    await page
      .getByRole('heading', { name: /Atrium/ })
      .first()
      .waitFor();
    expect(csp).toEqual([]);
    // A token authorized in /docs is not kept in the origin's storage.
    await page.evaluate(() => {
      const ui = (
        window as unknown as { ui: { authActions: { authorizeWithPersistOption(a: object): void } } }
      ).ui;
      ui.authActions.authorizeWithPersistOption({
        bearer: { name: 'bearer', schema: { type: 'http', scheme: 'bearer' }, value: 'atr_typed-in-docs' },
      });
    });
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(stored).not.toContain('atr_typed-in-docs');
  });

  it('signs in through the form and shows the home page with the username', async () => {
    const user = await h.signUpUser('smoke');
    const page = await h.anonymousPage('/');
    await signInThroughForm(page, user);
    await page.getByText(user.username).first().waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    await expectAccessible(page);
    await screenshot(page, 'home');
  });

  it('a cookie session survives a reload: signedInPage opens the home page signed in', async () => {
    const user = await h.signUpUser('cookie');
    const page = await h.signedInPage(user);
    await page.getByText(user.username).first().waitFor();
    await page.reload();
    await page.getByText(user.username).first().waitFor();
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'atrium_refresh')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    // Never a token in storage the page's scripts can read.
    const stored = await page.evaluate(() => JSON.stringify({ ...localStorage, ...sessionStorage }));
    expect(stored).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  });

  it('tabs opened together share the session (one refresh at a time): none is signed out', async () => {
    const user = await h.signUpUser('tabs');
    const first = await h.signedInPage(user);
    await first.getByText(user.username).first().waitFor();
    const context = first.context();
    const tabs = await Promise.all([context.newPage(), context.newPage(), context.newPage()]);
    await Promise.all(tabs.map((tab, i) => tab.goto(['/settings', '/organizations', '/'][i])));
    for (const tab of [...tabs, first]) {
      await tab.reload();
      await tab.getByTestId('signed-in-user').waitFor();
      expect(new URL(tab.url()).pathname).not.toBe('/sign-in');
    }
  });

  describe('the harness itself', () => {
    it('fails a test whose page threw or logged an error, not one whose request got a 4xx', async () => {
      const page = await h.newPage();
      await page.goto('/health/ready');
      await page.evaluate(() => fetch('/v2/no-such-route'));
      expect(h.pageErrors()).toEqual([]);
      // Both reach the harness's listeners (registered first) before these waits end: a fixed
      // 50 ms was too short for the thrown error on a slow CI machine.
      const reached = Promise.all([
        page.waitForEvent('pageerror'),
        page.waitForEvent('console', (msg) => msg.type() === 'error'),
      ]);
      await page.evaluate(() => {
        setTimeout(() => {
          throw new Error('boom from the page');
        });
        console.error('logged by the app');
      });
      await reached;
      const failure = h.endTest();
      await expect(failure).rejects.toThrow(/uncaught Error: boom from the page/);
      await expect(failure).rejects.toThrow(/console\.error: logged by the app/);
    });

    it('counts a 5xx answer as an error', async () => {
      const page = await h.newPage();
      await page.route('**/v2/broken', (route) => route.fulfill({ status: 500, body: '{}' }));
      await page.goto('/health/ready');
      await page.evaluate(() => fetch('/v2/broken'));
      await expect(h.endTest()).rejects.toThrow(/status of 500/);
    });
  });
});
