import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { ACME_ORG_ID, DEMO_ACCOUNTS, FRONTEND_SCOPE, startDevIssuer, type DevIssuer } from '../../src/dev/issuer.js';
import { devIssuerKeys } from '../helpers/issuer.js';
import { authorizeUrl, browse, CookieJar, exchange, formAction, FRONT_END_REDIRECT, logIn, pkcePair } from '../helpers/login.js';
import { bearer, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * A front end logs in at the development issuer as at ZITADEL (a "User Agent" application with
 * PKCE), and the API accepts what it gets exactly as it accepts a printed token.
 */
const [ADMIN, OTHER_ORG_ADMIN, GUEST] = DEMO_ACCOUNTS as [(typeof DEMO_ACCOUNTS)[number], (typeof DEMO_ACCOUNTS)[number], (typeof DEMO_ACCOUNTS)[number]];
const FRONT_END_ORIGIN = 'http://localhost:5173';

const QUERY = '{ hello me { username roles organizationId } }';

function loginAs(issuer: DevIssuer, account: (typeof DEMO_ACCOUNTS)[number], jar?: CookieJar) {
  return logIn(issuer.issuer, { clientId: issuer.frontendClientId, username: account.user.username, password: account.password, scope: FRONTEND_SCOPE }, jar);
}

describe.each([
  { type: 'bearer' as const, mode: 'introspection' as const },
  { type: 'jwt' as const, mode: 'jwt' as const },
])('login with $type access tokens, API in $mode mode', ({ type, mode }) => {
  let issuer: DevIssuer;
  let server: TestServer;

  beforeAll(async () => {
    issuer = await startDevIssuer({ ...devIssuerKeys(), accessTokenType: type });
    server = await startTestServer({ issuer, tokenValidation: mode, ...(mode === 'jwt' ? { credentials: null } : {}) });
  });
  afterAll(async () => {
    await server?.close();
    await issuer?.close();
  });

  it('should let the admin in: the API answers adminGreeting', async () => {
    const tokens = await loginAs(issuer, ADMIN);
    const res = await server.post(`${QUERY.slice(0, -1)} adminGreeting orgAdminGreeting }`, bearer(tokens.access_token));
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toMatchObject({ hello: 'Hello World!', me: { roles: ['admin'], organizationId: ADMIN.user.organizationId } });
  });

  it('should refuse the user without roles: FORBIDDEN on adminGreeting', async () => {
    const tokens = await loginAs(issuer, GUEST);
    const res = await server.post('{ hello adminGreeting }', bearer(tokens.access_token));
    expect(res.status).toBe(403);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('should tell the organization that granted a role: Acme\'s admin passes adminGreeting, not orgAdminGreeting', async () => {
    const tokens = await loginAs(issuer, OTHER_ORG_ADMIN);
    expect((await server.post('{ adminGreeting }', bearer(tokens.access_token))).status).toBe(200);
    const scoped = await server.post('{ orgAdminGreeting }', bearer(tokens.access_token));
    expect(scoped.status).toBe(403);
    expect((await server.post('{ me { organizationId } }', bearer(tokens.access_token))).body.data).toEqual({ me: { organizationId: ACME_ORG_ID } });
  });

  it('should refresh with offline_access, and the new access token is accepted', async () => {
    const tokens = await loginAs(issuer, ADMIN);
    expect(tokens.refresh_token).toEqual(expect.any(String));
    const refreshed = await exchange(issuer.issuer, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token!, client_id: issuer.frontendClientId });
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect((await server.post('{ hello }', bearer(refreshed.access_token))).status).toBe(200);
  });

  it('should issue an access token shaped as ZITADEL\'s for the type', async () => {
    const tokens = await loginAs(issuer, ADMIN);
    if (type === 'bearer') {
      expect(tokens.access_token.split('.')).toHaveLength(1);
      return;
    }
    expect(decodeProtectedHeader(tokens.access_token)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const claims = decodeJwt(tokens.access_token);
    expect(Object.keys(claims).sort()).toEqual(
      [
        'aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'nbf', 'sub',
        'urn:zitadel:iam:org:project:roles', `urn:zitadel:iam:org:project:${issuer.projectId}:roles`,
        'urn:zitadel:iam:user:resourceowner:id', 'urn:zitadel:iam:user:resourceowner:name', 'urn:zitadel:iam:user:resourceowner:primary_domain',
      ].sort(),
    );
    expect(claims.aud).toEqual([issuer.frontendClientId, issuer.projectId]);
    // Its `jti` names the token; it is not one.
    const byJti = await fetch(`${issuer.issuer}/oidc/v1/userinfo`, { headers: bearer(String(claims.jti)) });
    expect(byJti.status).toBe(401);
    expect((await fetch(`${issuer.issuer}/oidc/v1/userinfo`, { headers: bearer(tokens.access_token) })).status).toBe(200);
  });

  it('should refuse a refresh token sent as the access token (ZITADEL introspects refresh tokens as inactive)', async () => {
    const tokens = await loginAs(issuer, ADMIN);
    const res = await server.post('{ hello }', bearer(tokens.refresh_token!));
    expect(res.status).toBe(401);
  });

  it('should give no roles to a front end that asks for none (the projects do not assert roles on authentication)', async () => {
    const scope = `openid profile email urn:zitadel:iam:org:project:id:${issuer.projectId}:aud`;
    const tokens = await logIn(issuer.issuer, { clientId: issuer.frontendClientId, username: ADMIN.user.username, password: ADMIN.password, scope });
    const res = await server.post('{ adminGreeting }', bearer(tokens.access_token));
    // Introspection still tells the API the roles; a JWT without the roles scope carries none.
    expect(res.status).toBe(type === 'jwt' ? 403 : 200);
    const userinfo = await fetch(`${issuer.issuer}/oidc/v1/userinfo`, { headers: bearer(tokens.access_token) });
    expect(Object.keys((await userinfo.json()) as object).filter((claim) => claim.includes(':roles'))).toEqual([]);
  });

  it('should see a revocation by the front end at introspection, as ZITADEL does', async () => {
    const tokens = await loginAs(issuer, ADMIN);
    // Introspected on every request (no cache), with the API application's key.
    const introspecting = await startTestServer({ issuer, cache: { maxEntries: 0 } });
    try {
      expect((await introspecting.post('{ hello }', bearer(tokens.access_token))).status).toBe(200);
      const revoked = await fetch(`${issuer.issuer}/oauth/v2/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin: FRONT_END_ORIGIN },
        body: new URLSearchParams({ token: tokens.access_token, client_id: issuer.frontendClientId }),
      });
      expect(revoked.status).toBe(200);
      expect((await introspecting.post('{ hello }', bearer(tokens.access_token))).status).toBe(401);
    } finally {
      await introspecting.close();
    }
  });

  it('should answer userinfo for the access token, from a loopback origin, with profile and roles', async () => {
    const tokens = await loginAs(issuer, ADMIN);
    const res = await fetch(`${issuer.issuer}/oidc/v1/userinfo`, { headers: { ...bearer(tokens.access_token), origin: FRONT_END_ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe(FRONT_END_ORIGIN);
    expect(await res.json()).toMatchObject({
      sub: ADMIN.user.sub,
      preferred_username: ADMIN.user.username,
      email: ADMIN.user.email,
      [`urn:zitadel:iam:org:project:${issuer.projectId}:roles`]: ADMIN.user.roles,
    });
  });
});

describe('the development issuer as a login server', () => {
  let issuer: DevIssuer;

  beforeAll(async () => {
    issuer = await startDevIssuer(devIssuerKeys());
  });
  afterAll(() => issuer.close());

  const options = () => ({ clientId: issuer.frontendClientId, scope: FRONTEND_SCOPE });

  it('should publish the front end\'s endpoints in discovery, readable from a loopback origin', async () => {
    const res = await fetch(`${issuer.issuer}/.well-known/openid-configuration`, { headers: { origin: FRONT_END_ORIGIN } });
    expect(res.headers.get('access-control-allow-origin')).toBeTruthy();
    expect(await res.json()).toMatchObject({
      authorization_endpoint: `${issuer.issuer}/oauth/v2/authorize`,
      token_endpoint: `${issuer.issuer}/oauth/v2/token`,
      userinfo_endpoint: `${issuer.issuer}/oidc/v1/userinfo`,
      end_session_endpoint: `${issuer.issuer}/oidc/v1/end_session`,
      code_challenge_methods_supported: ['S256'],
    });
    const keys = await fetch(`${issuer.issuer}/oauth/v2/keys`, { headers: { origin: FRONT_END_ORIGIN } });
    expect(keys.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('should let a loopback origin call the token endpoint, and no other', async () => {
    const preflight = (origin: string) =>
      fetch(`${issuer.issuer}/oauth/v2/token`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect((await preflight('http://127.0.0.1:8081')).headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8081');
    const { code, verifier } = await codeFor(ADMIN);
    const res = await fetch(`${issuer.issuer}/oauth/v2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: FRONT_END_REDIRECT, client_id: issuer.frontendClientId, code_verifier: verifier }),
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('should issue an ID token as ZITADEL does: project and client in aud, azp, amr, typ JWT, no profile', async () => {
    const tokens = await loginAs(issuer, ADMIN);
    expect(decodeProtectedHeader(tokens.id_token!)).toMatchObject({ alg: 'RS256', typ: 'JWT', kid: 'dev-signing' });
    const claims = decodeJwt(tokens.id_token!);
    expect(claims).toMatchObject({ iss: issuer.issuer, sub: ADMIN.user.sub, aud: [issuer.frontendClientId, issuer.projectId], azp: issuer.frontendClientId, amr: ['pwd'] });
    expect(claims).not.toHaveProperty('jti');
    expect(claims).not.toHaveProperty('email');
  });

  it('should complete a login at any loopback redirect URI, and refuse others without redirecting', async () => {
    for (const redirectUri of ['http://127.0.0.1:4200/', 'http://localhost:8080/auth/callback?x=1', 'https://localhost:8443/cb']) {
      const jar = new CookieJar();
      const { verifier, challenge } = pkcePair();
      const page = await browse(jar, authorizeUrl(issuer.issuer, { ...options(), redirectUri }, challenge));
      const done = await browse(jar, new URL(formAction(await page.response.text()), issuer.issuer).href, { username: GUEST.user.username, password: GUEST.password });
      const back = new URL(done.location!);
      expect(`${back.origin}${back.pathname}`).toBe(`${new URL(redirectUri).origin}${new URL(redirectUri).pathname}`);
      const code = back.searchParams.get('code')!;
      await expect(exchange(issuer.issuer, { grant_type: 'authorization_code', code, redirect_uri: redirectUri, client_id: issuer.frontendClientId, code_verifier: verifier })).resolves.toHaveProperty('access_token');
    }
    for (const redirectUri of ['https://evil.example/callback', 'http://192.0.2.1:3000/callback', 'http://localhost.evil.example/cb']) {
      const page = await browse(new CookieJar(), authorizeUrl(issuer.issuer, { ...options(), redirectUri }, pkcePair().challenge));
      expect(page.location).toBeUndefined();
      expect(page.response.status).toBe(400);
      expect(await page.response.text()).toContain('redirect_uri');
    }
  });

  it('should show the login page again for prompt=select_account (ZITADEL\'s account list), even with a session', async () => {
    const jar = new CookieJar();
    await loginAs(issuer, ADMIN, jar);
    const silent = await browse(jar, authorizeUrl(issuer.issuer, options(), pkcePair().challenge));
    expect(new URL(silent.location!).searchParams.get('code')).toEqual(expect.any(String));
    const choose = await browse(jar, authorizeUrl(issuer.issuer, options(), pkcePair().challenge, { prompt: 'select_account' }));
    expect(choose.location).toBeUndefined();
    expect(await choose.response.text()).toContain('name="password"');
  });

  it('should refuse an authorization request without PKCE', async () => {
    const url = new URL(authorizeUrl(issuer.issuer, options(), 'x'));
    url.searchParams.delete('code_challenge');
    url.searchParams.delete('code_challenge_method');
    const page = await browse(new CookieJar(), url.href);
    expect(new URL(page.location!).searchParams.get('error')).toBe('invalid_request');
  });

  it('should show the login page again on a wrong password, and send the front end back with access_denied on cancel', async () => {
    const jar = new CookieJar();
    const page = await browse(jar, authorizeUrl(issuer.issuer, options(), pkcePair().challenge));
    const action = formAction(await page.response.text());
    const wrong = await browse(jar, new URL(action, issuer.issuer).href, { username: ADMIN.user.username, password: 'wrong' });
    expect(wrong.response.status).toBe(401);
    const html = await wrong.response.text();
    expect(html).toContain('wrong password');
    expect(html).toContain(`value="${ADMIN.user.username}"`);
    const cancelled = await browse(jar, new URL(action.replace(/\/login$/, '/abort'), issuer.issuer).href, {});
    expect(cancelled.location).toMatch(/^http:\/\/localhost:5173\/callback\?/);
    expect(new URL(cancelled.location!).searchParams.get('error')).toBe('access_denied');
  });

  it('should list the demo users and their passwords on the login page, and escape what it echoes', async () => {
    const jar = new CookieJar();
    const page = await browse(jar, authorizeUrl(issuer.issuer, options(), pkcePair().challenge));
    const html = await page.response.text();
    for (const account of DEMO_ACCOUNTS) {
      expect(html).toContain(account.user.username);
      expect(html).toContain(account.password);
    }
    const wrong = await browse(jar, new URL(formAction(html), issuer.issuer).href, { username: '"><script>alert(1)</script>', password: 'x' });
    const echoed = await wrong.response.text();
    expect(echoed).not.toContain('<script>alert(1)');
    expect(echoed).toContain('&quot;&gt;&lt;script&gt;');
  });

  it('should sign out without asking, and send the browser to a loopback post-logout URI', async () => {
    const jar = new CookieJar();
    const tokens = await loginAs(issuer, ADMIN, jar);
    const url = new URL(`${issuer.issuer}/oidc/v1/end_session`);
    url.search = new URLSearchParams({ id_token_hint: tokens.id_token!, post_logout_redirect_uri: 'http://localhost:5173/' }).toString();
    const page = await browse(jar, url.href);
    const html = await page.response.text();
    expect(html).toContain(".submit()");
    const form = /<form[^>]*action="([^"]+)"[^>]*>.*?name="xsrf" value="([^"]+)"/s.exec(html);
    expect(form).not.toBeNull();
    const done = await browse(jar, new URL(form![1]!, issuer.issuer).href, { xsrf: form![2]!, logout: 'yes' });
    expect(done.location).toBe('http://localhost:5173/');
    // The session is gone: the next authorization asks for the password again.
    const again = await browse(jar, authorizeUrl(issuer.issuer, options(), pkcePair().challenge));
    expect(await again.response.text()).toContain('name="password"');
  });

  it('should answer requests to a loopback Host only', async () => {
    const { port } = new URL(issuer.issuer);
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port, path: '/.well-known/openid-configuration', headers: { host: `rebound.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(403);
  });

  async function codeFor(account: (typeof DEMO_ACCOUNTS)[number]): Promise<{ code: string; verifier: string }> {
    const jar = new CookieJar();
    const { verifier, challenge } = pkcePair();
    const page = await browse(jar, authorizeUrl(issuer.issuer, options(), challenge));
    const done = await browse(jar, new URL(formAction(await page.response.text()), issuer.issuer).href, { username: account.user.username, password: account.password });
    return { code: new URL(done.location!).searchParams.get('code')!, verifier };
  }
});
