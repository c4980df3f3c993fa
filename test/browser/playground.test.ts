/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { ACME_ORG_ID, DEMO_ACCOUNTS, FRONTEND_SCOPE, startDevIssuer, type DemoAccount, type DevIssuer } from '../../src/dev/issuer.js';
import { isLocal, launchBrowser, type TestBrowser } from '../helpers/browser.js';
import { devIssuerKeys } from '../helpers/issuer.js';
import { close, listen } from '../helpers/net.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The playground and a front end's login, in headless Chromium against the real server and the
 * development issuer: what a front-end developer sees, with nothing loaded from the internet.
 */
const [ADMIN, OTHER_ORG_ADMIN, GUEST] = DEMO_ACCOUNTS as [DemoAccount, DemoAccount, DemoAccount];

let issuer: DevIssuer;
let server: TestServer;
let browser: TestBrowser;
let printedToken: string;

beforeAll(async () => {
  [issuer, browser] = await Promise.all([startDevIssuer(devIssuerKeys()), launchBrowser()]);
  printedToken = await issuer.mintToken();
  server = await startTestServer({
    issuer,
    corsOrigins: 'development',
    loopbackHostOnly: true,
    playground: {
      default: 'graphiql',
      headers: { Authorization: `Bearer ${printedToken}` },
      login: { issuer: issuer.issuer, clientId: issuer.frontendClientId, scope: FRONTEND_SCOPE, projectId: issuer.projectId, printedFor: issuer.demoUser.username },
    },
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await issuer?.close();
});

/** Problems the page reported: script errors and blocked loads (a CSP refusal among them), not HTTP statuses. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of 40[13]/.test(message.text())) problems.push(`${message.text()} (${message.location().url})`);
  });
  return problems;
}

/** Runs an anonymous operation in GraphiQL; the HTTP status and the response pane's text. */
async function run(page: Page, query: string): Promise<{ status: number; shown: string }> {
  await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
  await page.evaluate((text) => {
    const editor = document.querySelector('.graphiql-query-editor .CodeMirror') as unknown as { CodeMirror: { setValue(value: string): void } };
    editor.CodeMirror.setValue(text);
  }, query);
  // GraphiQL takes the operation name from the editor a moment later; the tab shows when it has.
  await page.locator('.graphiql-tab-active', { hasText: '<untitled>' }).waitFor();
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/graphql') && (r.request().postData() ?? '').includes(JSON.stringify(query).slice(1, -1))),
    page.locator('.graphiql-execute-button').click(),
  ]);
  const status = response.status();
  await page.waitForFunction(() => ((document.querySelector('.graphiql-response .CodeMirror') as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue() ?? '').includes('"data"') || document.querySelector('.graphiql-response')!.textContent!.includes('errors'));
  const shown = await page.evaluate(() => (document.querySelector('.graphiql-response .CodeMirror') as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue());
  return { status, shown };
}

/** On the issuer's login page: fill the form as `account` and submit; back on the page that asked. */
async function logInAs(page: Page, account: DemoAccount, returnTo: string): Promise<void> {
  await page.waitForURL((url) => url.href.startsWith(`${issuer.issuer}/ui/login/`));
  await page.fill('input[name="username"]', account.user.username);
  await page.fill('input[name="password"]', account.password);
  await Promise.all([page.waitForURL((url) => url.href.startsWith(returnTo)), page.click('button[type="submit"]:not(.secondary)')]);
}

describe('the playground (GraphiQL, served offline)', () => {
  it('should run a query with the printed token, then log in as the admin and as the user without roles', async () => {
    const { context, requested } = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = watchProblems(page);
      // Schema-aware completion: GraphiQL introspects the schema as the page opens.
      const introspection = page.waitForResponse((r) => r.request().method() === 'POST' && (r.request().postData() ?? '').includes('__schema'));
      await page.goto(server.url);
      expect((await introspection).status()).toBe(200);
      await expect(page.locator('#playground-status').textContent()).resolves.toContain(issuer.demoUser.username);
      // GraphiQL opens with the demo document and the token in its headers.
      await page.locator('.graphiql-query-editor .CodeMirror').waitFor();
      const tools = await page.evaluate(() =>
        [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')].map((element) => (element as unknown as { CodeMirror: { getValue(): string } }).CodeMirror.getValue()),
      );
      expect(tools.map((text) => text.includes(`"Authorization": "Bearer ${printedToken}"`))).toContain(true);

      const printed = await run(page, '{ hello me { username roles } }');
      expect(printed.status).toBe(200);
      expect(JSON.parse(printed.shown)).toEqual({ data: { hello: 'Hello World!', me: { username: issuer.demoUser.username, roles: ['admin'] } } });

      await page.getByRole('button', { name: 'Log in' }).click();
      await logInAs(page, ADMIN, server.url);
      await expect(page.locator('#playground-status').textContent()).resolves.toMatch(/Logged in as road\.runner@demo\.localhost \(roles: admin\)/);
      // The code is spent and gone from the address bar.
      expect(new URL(page.url()).search).toBe('');
      const admin = await run(page, '{ adminGreeting }');
      expect(admin.status).toBe(200);
      expect(JSON.parse(admin.shown).data.adminGreeting).toEqual(expect.any(String));

      // Log out (at the issuer too, and back), and log in as the user without roles.
      await Promise.all([page.waitForURL((url) => url.href.startsWith(`${issuer.issuer}/oidc/v1/end_session`)), page.getByRole('button', { name: 'Log out' }).click()]);
      await page.waitForURL((url) => url.href.startsWith(server.url));
      await expect(page.locator('#playground-status').textContent()).resolves.toContain('the token printed at start');
      await page.getByRole('button', { name: 'Log in' }).click();
      await logInAs(page, GUEST, server.url);
      await expect(page.locator('#playground-status').textContent()).resolves.toMatch(/Logged in as guest@demo\.localhost \(roles: none\)/);
      const guest = await run(page, '{ adminGreeting }');
      expect(guest.status).toBe(403);
      expect(JSON.parse(guest.shown).errors[0].extensions.code).toBe('FORBIDDEN');

      expect(problems).toEqual([]);
      expect(requested.filter((url) => !isLocal(url))).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('should log in from GraphiQL at ?graphiql when Apollo Sandbox is the default, and come back to GraphiQL', async () => {
    const sandboxFirst = await startTestServer({
      issuer,
      corsOrigins: 'development',
      playground: { default: 'sandbox', login: { issuer: issuer.issuer, clientId: issuer.frontendClientId, scope: FRONTEND_SCOPE, projectId: issuer.projectId, printedFor: '' } },
    });
    const { context } = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(`${sandboxFirst.url}?graphiql`);
      await page.getByRole('button', { name: 'Log in' }).click();
      await logInAs(page, GUEST, sandboxFirst.url);
      await expect(page.locator('#playground-status').textContent()).resolves.toMatch(/Logged in as guest@demo\.localhost/);
      expect(new URL(page.url()).search).toBe('?graphiql');
    } finally {
      await context.close();
      await sandboxFirst.close();
    }
  }, 60_000);
});

describe('a front end using oidc-client-ts', () => {
  let frontEnd: http.Server;
  let origin: string;

  beforeAll(async () => {
    const require = createRequire(import.meta.url);
    const library = await readFile(join(dirname(require.resolve('oidc-client-ts/package.json')), 'dist/browser/oidc-client-ts.min.js'));
    frontEnd = http.createServer((req, res) => {
      if (req.url === '/oidc-client-ts.js') return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(library);
      res.writeHead(200, { 'content-type': 'text/html' }).end(frontEndPage(issuer, server.url));
    });
    // A front end on another port, reached as localhost (a different origin from the API's).
    origin = `http://localhost:${await listen(frontEnd)}`;
  });
  afterAll(async () => {
    if (frontEnd) await close(frontEnd);
  });

  it('should log in with the issuer URL and client id alone, and call the API with the access token', async () => {
    const { context, requested } = await browser.newContext();
    try {
      const page = await context.newPage();
      const problems = watchProblems(page);
      await page.goto(`${origin}/`);
      await page.getByRole('button', { name: 'Log in' }).click();
      await logInAs(page, OTHER_ORG_ADMIN, `${origin}/callback`);
      const result = await page.locator('#result[data-done]').textContent();
      expect(JSON.parse(result!)).toEqual({
        profile: OTHER_ORG_ADMIN.user.username,
        api: { data: { me: { username: OTHER_ORG_ADMIN.user.username, roles: ['admin'], organizationId: ACME_ORG_ID }, adminGreeting: expect.any(String) } },
      });
      expect(problems).toEqual([]);
      expect(requested.filter((url) => !isLocal(url))).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});

/** A single-page app as a front-end developer writes one: the issuer URL, the client id, the scopes. */
function frontEndPage(devIssuer: DevIssuer, api: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Front end</title><script src="/oidc-client-ts.js"></script></head>
<body><button id="login">Log in</button><pre id="result"></pre>
<script>
const userManager = new oidc.UserManager({
  authority: ${JSON.stringify(devIssuer.issuer)},
  client_id: ${JSON.stringify(devIssuer.frontendClientId)},
  redirect_uri: location.origin + '/callback',
  scope: ${JSON.stringify(FRONTEND_SCOPE)},
  loadUserInfo: true,
});
document.getElementById('login').onclick = () => userManager.signinRedirect();
if (location.pathname === '/callback') {
  userManager.signinRedirectCallback().then(async (user) => {
    const response = await fetch(${JSON.stringify(api)}, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + user.access_token },
      body: JSON.stringify({ query: '{ me { username roles organizationId } adminGreeting }' }),
    });
    const result = document.getElementById('result');
    result.textContent = JSON.stringify({ profile: user.profile.preferred_username, api: await response.json() });
    result.dataset.done = '';
  }, (error) => { document.getElementById('result').textContent = 'login failed: ' + error.message; });
}
</script></body></html>`;
}
