import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { rawRequest } from '../helpers/raw.js';
import { mintShortLived, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { requestLineOf } from '../helpers/logs.js';
import { bearer, startTestServer, type GraphQLResponse, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

const HELLO = '{ hello }';
const ME = '{ me { id username name givenName familyName email emailVerified locale roles organizationId scopes expiresAt } }';

let issuer: TestIssuer;
let server: TestServer;
let token: string;
const mint: TestIssuer['mintToken'] = (options) => issuer.mintToken(options);

beforeAll(async () => {
  issuer = await startTestIssuer();
  server = await startTestServer({ issuer, timeoutMs: 500 });
  token = await mint();
});

afterEach(() => {
  issuer.fault = undefined;
});

afterAll(async () => {
  await server.close();
  await issuer.close();
});

describe('authentication over HTTP', () => {
  it('should answer 401 with a Bearer challenge when no token is sent', async () => {
    const res = await server.post(HELLO);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="graphql"');
    expect(res.body.data).toBeNull();
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'missing_token' });
    expect(res.body.errors?.[0]?.path).toEqual(['hello']);
  });

  it('should answer Hello World! when the token is active', async () => {
    const res = await server.post(HELLO, bearer(token));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { hello: 'Hello World!' } });
  });

  it('should describe the caller from ZITADEL-shaped claims when me is asked', async () => {
    const user = {
      sub: '300000000000000007',
      username: 'wile.e@acme.localhost',
      name: 'Wile E. Coyote',
      givenName: 'Wile',
      familyName: 'Coyote',
      email: 'wile@acme.localhost',
      emailVerified: false,
      locale: 'de',
      roles: { support: { '100000000000000009': 'acme.localhost' }, admin: { '100000000000000009': 'acme.localhost' } },
      organizationId: '100000000000000009',
    };
    const own = await mint({ user, scope: 'openid profile email urn:zitadel:iam:user:resourceowner', expiresInSeconds: 600 });
    const res = await server.post(ME, bearer(own));
    expect(res.status).toBe(200);
    const me = res.body.data?.me as Record<string, unknown>;
    expect(me).toMatchObject({
      id: user.sub,
      username: user.username,
      name: user.name,
      givenName: 'Wile',
      familyName: 'Coyote',
      email: user.email,
      emailVerified: false,
      locale: 'de',
      roles: ['admin', 'support'],
      organizationId: user.organizationId,
      scopes: ['openid', 'profile', 'email', 'urn:zitadel:iam:user:resourceowner'],
    });
    const expiresIn = Date.parse(me.expiresAt as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(590_000);
    expect(expiresIn).toBeLessThanOrEqual(600_000);
    // ZITADEL names the user's organization only for the resource-owner scope.
    const without = await server.post(ME, bearer(await mint({ user, scope: 'openid profile email' })));
    expect(without.body.data?.me).toMatchObject({ id: user.sub, organizationId: null, roles: ['admin', 'support'] });
  });

  it('should leave profile fields null when the token lacks the profile and email scopes', async () => {
    const res = await server.post(ME, bearer(await mint({ scope: 'openid' })));
    expect(res.status).toBe(200);
    expect(res.body.data?.me).toMatchObject({ id: issuer.demoUser.sub, username: null, name: null, email: null, emailVerified: null, roles: ['admin'], scopes: ['openid'] });
  });

  it('should answer 401 invalid_token when the token is unknown to the issuer', async () => {
    const res = await server.post(ME, bearer('made-up-token-value'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="graphql", error="invalid_token"');
    expect(res.body).toMatchObject({ data: { me: null } });
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_token' });
    expect(res.text).not.toContain('made-up-token-value');
  });

  it('should answer 401 when the token was revoked before its first use', async () => {
    const revoked = await mint();
    await issuer.revokeToken(revoked);
    const res = await server.post(HELLO, bearer(revoked));
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('should stop accepting a cached token once it expires', async () => {
    const shortLived = await mintShortLived(issuer);
    expect((await server.post(HELLO, bearer(shortLived))).status).toBe(200);
    // Served from the cache until it expires (in under a second), refused from then on.
    let res: GraphQLResponse | undefined;
    await until(async () => (res = await server.post(HELLO, bearer(shortLived))).status !== 200, 'the token refused');
    expect(res?.status).toBe(401);
    expect(res?.body.errors?.[0]?.extensions?.reason).toBe('invalid_token');
  });
});

describe('malformed Authorization headers', () => {
  const cases: [string, string][] = [
    ['an empty bearer', 'Bearer '],
    ['the scheme alone', 'Bearer'],
    ['the Basic scheme', 'Basic dXNlcjpwYXNz'],
    ['an unknown scheme', 'Token abcdef'],
    ['a space inside the token', 'Bearer abc def'],
    ['a tab inside the token', 'Bearer abc\tdef'],
    ['characters outside b64token', 'Bearer abc"def'],
    ['a huge token', `Bearer ${'a'.repeat(9000)}`],
  ];

  it.each(cases)('should answer 401 without asking the issuer when the header has %s', async (_name, header) => {
    let res: Awaited<ReturnType<TestServer['post']>> | undefined;
    const calls = await issuer.introspectionsDuring(async () => {
      res = await server.post(HELLO, { authorization: header });
    });
    expect(calls).toBe(0);
    expect(res?.status).toBe(401);
    expect(res?.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'malformed_token' });
    expect(res?.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(res?.text).not.toContain('abcdef');
  });

  it('should accept the scheme in any letter case', async () => {
    expect((await server.post(HELLO, { authorization: `bEaReR ${token}` })).status).toBe(200);
  });

  it('should refuse control characters at the HTTP layer with a 400, not a 500', async () => {
    const calls = await issuer.introspectionsDuring(async () => {
      const reply = await rawRequest(server.url, 'POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer abc\u0001def\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
      expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    });
    expect(calls).toBe(0);
  });
});

describe('logs', () => {
  it('should never contain a token', async () => {
    const revoked = await mint();
    await issuer.revokeToken(revoked);
    // Accepted, revoked, unknown: each request logged to its end (the request line comes last).
    const sent = [await mint({ scope: 'openid profile email' }), revoked, 'made-up-token-value'];
    for (const token of sent) await requestLineOf(server.logs, (await server.post(ME, bearer(token))).headers.get('x-request-id'));
    const all = server.logs.join('');
    for (const token of [...issuer.minted, ...sent]) expect(all).not.toContain(token);
  });
});
