import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createPublicKey } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT, type JWK } from 'jose';
import { DEFAULT_JWKS_COOLDOWN_MS, DEFAULT_JWKS_MAX_AGE_MS } from '../../src/auth/zitadel/jwks.js';
import { DEV_ORG_ID } from '../../src/dev/issuer.js';
import { OTHER_PROJECT_ADMIN } from '../fixtures/devUsers.js';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { rsaKey } from '../helpers/keys.js';
import { requestLineOf } from '../helpers/logs.js';
import { expectUnavailable } from '../helpers/responses.js';
import { mintIdToken, mintNotYetValidJwt } from '../helpers/zitadelTokens.js';
import { bearer, startTestServer, type GraphQLResponse, type TestServer } from '../helpers/server.js';

const HELLO = '{ hello }';
const ME = '{ me { id username name givenName familyName email emailVerified locale roles organizationId scopes expiresAt } }';

let issuer: TestIssuer;
/** ZITADEL_TOKEN_VALIDATION=jwt, and no client credentials at all. */
let jwt: TestServer;
/** ZITADEL_TOKEN_VALIDATION=auto. */
let auto: TestServer;
/**
 * The clock of both servers' key stores and of their exp and nbf checks. Tests move it forward
 * past key-set cooldowns (5 s a time, some 30 s in all), never so far that a token minted
 * against the real clock (valid for 10 minutes, or not yet for 2) changes its verdict; a test
 * that needs more time to pass has a server of its own.
 */
let clock = Date.now();

beforeAll(async () => {
  issuer = await startTestIssuer();
  jwt = await startTestServer({ issuer, tokenValidation: 'jwt', credentials: null, now: () => clock });
  auto = await startTestServer({ issuer, tokenValidation: 'auto', now: () => clock });
});

afterEach(() => {
  issuer.jwksFault = undefined;
  issuer.fault = undefined;
  issuer.discoveryFault = undefined;
});

afterAll(async () => {
  await Promise.all([jwt.close(), auto.close()]);
  await issuer.close();
});

/** Requests made to the issuer while `action` runs. */
async function issuerCallsDuring(action: () => Promise<unknown>): Promise<{ introspections: number; jwksFetches: number }> {
  const before = { introspections: issuer.introspections, jwksFetches: issuer.jwksFetches };
  await action();
  return { introspections: issuer.introspections - before.introspections, jwksFetches: issuer.jwksFetches - before.jwksFetches };
}

function expectInvalidToken(res: GraphQLResponse) {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer realm="graphql", error="invalid_token"');
  expect(res.body.data).toBeNull();
  expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_token' });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const currentKid = () => issuer.signingKeyIds.at(-1)!;
const seconds = () => Math.floor(Date.now() / 1000);

/** The issuer's published public key, as a verifier would download it. */
async function publishedKey(kid: string): Promise<JWK> {
  const { keys } = (await (await fetch(`${issuer.issuer}/oauth/v2/keys`)).json()) as { keys: JWK[] };
  const key = keys.find((k) => k.kid === kid);
  if (!key) throw new Error(`kid ${kid} not published`);
  return key;
}

const foreignKey = rsaKey();

/** A JWT with genuine claims, signed with a key of the test's own under the given kid. */
async function forged(kid: string): Promise<string> {
  const genuine = decodeJwt(await issuer.mintJwt());
  return new SignJWT(genuine).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(foreignKey);
}

describe('ZITADEL_TOKEN_VALIDATION=jwt', () => {
  it('should answer a valid JWT from the claims it carries, locally, with no client credentials and no introspection', async () => {
    const token = await issuer.mintJwt({ expiresInSeconds: 600 });
    let res: GraphQLResponse | undefined;
    const calls = await issuerCallsDuring(async () => {
      res = await jwt.post(`{ hello ${ME.slice(1)}`, bearer(token));
    });
    expect(res?.status).toBe(200);
    const data = res?.body.data as { hello: string; me: Record<string, unknown> };
    expect(data.hello).toBe('Hello World!');
    // ZITADEL's JWT access tokens carry no profile or email claims: those fields are null.
    expect(data.me).toMatchObject({
      id: issuer.demoUser.sub,
      username: null,
      name: null,
      givenName: null,
      familyName: null,
      email: null,
      emailVerified: null,
      locale: null,
      roles: ['admin'],
      organizationId: DEV_ORG_ID,
      // ZITADEL's JWT access tokens carry no scopes: unknown, not "none".
      scopes: null,
    });
    const expiresIn = Date.parse(data.me.expiresAt as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(590_000);
    expect(expiresIn).toBeLessThanOrEqual(600_000);
    expect(calls.introspections).toBe(0);
  });

  it('should remember a validated JWT in the token cache until it expires', async () => {
    const token = await issuer.mintJwt();
    const before = jwt.app.auth.cache.size;
    expect((await jwt.post(HELLO, bearer(token))).status).toBe(200);
    expect(jwt.app.auth.cache.size).toBe(before + 1);
    expect((await jwt.post(HELLO, bearer(token))).status).toBe(200);
    expect(jwt.app.auth.cache.size).toBe(before + 1);
  });

  it('should refuse an opaque token with 401 without introspecting it', async () => {
    const opaque = await issuer.mintToken();
    let res: GraphQLResponse | undefined;
    const calls = await issuerCallsDuring(async () => {
      res = await jwt.post(HELLO, bearer(opaque));
    });
    expectInvalidToken(res!);
    expect(calls).toEqual({ introspections: 0, jwksFetches: 0 });
  });

  describe('should refuse with 401, without asking the issuer anything,', () => {
    beforeAll(async () => {
      // Known keys first, so any fetch below would be one the token caused.
      expect((await jwt.post(HELLO, bearer(await issuer.mintJwt()))).status).toBe(200);
    });

    it.each<[string, () => Promise<string>]>([
      ['a token for another project (wrong audience)', () => issuer.mintJwt({ claims: { aud: ['100000000000000006@demo', '999999999999999999'] } })],
      ['a token from another issuer', () => issuer.mintJwt({ claims: { iss: 'https://evil.zitadel.cloud' } })],
      ['an expired token', () => issuer.mintJwt({ expiresInSeconds: -60 })],
      ['a token whose nbf is ahead', () => issuer.mintJwt({ claims: { nbf: seconds() + 120 } })],
      ['a token without exp', () => issuer.mintJwt({ claims: { exp: undefined } })],
      ['a token signed by a foreign key under our kid', () => forged(currentKid())],
      [
        'a token with alg none',
        async () => {
          const [, payload] = (await issuer.mintJwt()).split('.');
          return `${b64({ alg: 'none', kid: currentKid(), typ: 'JWT' })}.${payload}.`;
        },
      ],
      [
        'an HS256 token signed with the public key as secret',
        async () => {
          const pem = createPublicKey({ key: await publishedKey(currentKid()), format: 'jwk' } as never).export({ type: 'spki', format: 'pem' });
          const genuine = decodeJwt(await issuer.mintJwt());
          return new SignJWT(genuine).setProtectedHeader({ alg: 'HS256', kid: currentKid(), typ: 'JWT' }).sign(Buffer.from(pem));
        },
      ],
      [
        'a token whose payload was changed after signing',
        async () => {
          const [header, payload, signature] = (await issuer.mintJwt()).split('.');
          const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
          return `${header}.${b64({ ...claims, sub: '200000000000000666' })}.${signature}`;
        },
      ],
    ])('%s', async (_name, make) => {
      const token = await make();
      let res: GraphQLResponse | undefined;
      const calls = await issuerCallsDuring(async () => {
        res = await jwt.post(HELLO, bearer(token));
      });
      expectInvalidToken(res!);
      expect(res!.text).not.toContain(token);
      expect(calls).toEqual({ introspections: 0, jwksFetches: 0 });
    });
  });

  it('should accept tokens signed with a rotated key within one cooldown, and keep accepting the old key while it is published', async () => {
    const oldToken = await issuer.mintJwt();
    expect((await jwt.post(HELLO, bearer(oldToken))).status).toBe(200);
    const rotated = await issuer.rotateSigningKey();
    const newToken = await issuer.mintJwt();
    expect(decodeProtectedHeader(newToken).kid).toBe(rotated);

    clock += DEFAULT_JWKS_COOLDOWN_MS;
    const calls = await issuerCallsDuring(async () => {
      expect((await jwt.post(HELLO, bearer(newToken))).status).toBe(200);
      expect((await jwt.post(HELLO, bearer(await issuer.mintJwt({ kid: issuer.signingKeyIds[0] })))).status).toBe(200);
    });
    expect(calls).toEqual({ introspections: 0, jwksFetches: 1 });
  });

  it('should not remember a refusal for a kid it could not know yet', async () => {
    clock += DEFAULT_JWKS_COOLDOWN_MS;
    await jwt.post(HELLO, bearer(await forged('made-up-first')));
    const rotated = await issuer.rotateSigningKey();
    const token = await issuer.mintJwt({ kid: rotated });
    // The fetch for the made-up kid was just now: this token waits for the cooldown.
    expectInvalidToken(await jwt.post(HELLO, bearer(token)));
    clock += DEFAULT_JWKS_COOLDOWN_MS;
    expect((await jwt.post(HELLO, bearer(token))).status).toBe(200);
  });

  it('should fetch the key set at most once per cooldown during a flood of made-up kids', async () => {
    const tokens = await Promise.all(Array.from({ length: 40 }, (_, i) => forged(`made-up-${i}`)));
    const flood = () => Promise.all(tokens.map((token) => jwt.post(HELLO, bearer(token))));
    clock += DEFAULT_JWKS_COOLDOWN_MS;
    const first = await issuerCallsDuring(async () => {
      for (const res of await flood()) expectInvalidToken(res);
    });
    expect(first).toEqual({ introspections: 0, jwksFetches: 1 });
    // The same made-up tokens again, and new ones, within the same cooldown: no fetch.
    const more = await Promise.all(Array.from({ length: 20 }, (_, i) => forged(`more-${i}`)));
    const second = await issuerCallsDuring(async () => {
      for (const res of await flood()) expectInvalidToken(res);
      for (const token of more) expectInvalidToken(await jwt.post(HELLO, bearer(token)));
    });
    expect(second.jwksFetches).toBe(0);
  });

  it('should keep validating tokens signed with known keys while the issuer is down', async () => {
    // A server of its own: its clock passes the key set's maximum age (10 minutes).
    let now = Date.now();
    const own = await startTestServer({ issuer, tokenValidation: 'jwt', credentials: null, now: () => now });
    try {
      expect((await own.post(HELLO, bearer(await issuer.mintJwt()))).status).toBe(200);
      issuer.jwksFault = { kind: 'reset' };
      issuer.discoveryFault = { kind: 'reset' };
      issuer.fault = { kind: 'reset' };
      // Past the cooldown and the key set's maximum age: refreshes are tried, fail, and evict nothing.
      for (const step of [DEFAULT_JWKS_COOLDOWN_MS, DEFAULT_JWKS_MAX_AGE_MS, DEFAULT_JWKS_COOLDOWN_MS]) {
        now += step;
        const res = await own.post(ME, bearer(await issuer.mintJwt()));
        expect(res.status).toBe(200);
        expect(res.body.data?.me).toMatchObject({ id: issuer.demoUser.sub });
      }
    } finally {
      await own.close();
    }
  });

  it('should answer 503 for an unknown kid while the key set cannot be fetched, but 401 for a token that is invalid anyway', async () => {
    issuer.jwksFault = { kind: 'status', status: 500 };
    const rotated = await issuer.rotateSigningKey();
    clock += DEFAULT_JWKS_COOLDOWN_MS;
    expectUnavailable(await jwt.post(HELLO, bearer(await issuer.mintJwt({ kid: rotated }))));
    // Within the cooldown the failure is answered again without a fetch.
    const calls = await issuerCallsDuring(async () => {
      expectUnavailable(await jwt.post(HELLO, bearer(await issuer.mintJwt({ kid: rotated }))));
    });
    expect(calls.jwksFetches).toBe(0);
    expectInvalidToken(await jwt.post(HELLO, bearer(await issuer.mintJwt({ kid: rotated, expiresInSeconds: -60 }))));
    expectInvalidToken(await jwt.post(HELLO, bearer(await issuer.mintJwt({ kid: rotated, claims: { aud: ['999999999999999999'] } }))));

    issuer.jwksFault = undefined;
    clock += DEFAULT_JWKS_COOLDOWN_MS;
    expect((await jwt.post(HELLO, bearer(await issuer.mintJwt({ kid: rotated })))).status).toBe(200);
  });
});

describe('ZITADEL_TOKEN_VALIDATION=auto', () => {
  it('should validate a JWT locally, without introspection', async () => {
    const token = await issuer.mintJwt();
    let res: GraphQLResponse | undefined;
    const calls = await issuerCallsDuring(async () => {
      res = await auto.post(ME, bearer(token));
    });
    expect(res?.status).toBe(200);
    expect(res?.body.data?.me).toMatchObject({ id: issuer.demoUser.sub, username: null, roles: ['admin'] });
    expect(calls.introspections).toBe(0);
  });

  it('should introspect an opaque token, once', async () => {
    const opaque = await issuer.mintToken();
    let res: GraphQLResponse | undefined;
    const calls = await issuerCallsDuring(async () => {
      res = await auto.post(ME, bearer(opaque));
    });
    expect(res?.status).toBe(200);
    // Introspection sees the profile claims a JWT lacks.
    expect(res?.body.data?.me).toMatchObject({ id: issuer.demoUser.sub, username: issuer.demoUser.username });
    expect(calls).toEqual({ introspections: 1, jwksFetches: 0 });
  });

  it.each<[string, () => Promise<string>]>([
    ['a JWT for another project', () => issuer.mintJwt({ claims: { aud: ['999999999999999999'] } })],
    ['an expired JWT', () => issuer.mintJwt({ expiresInSeconds: -60 })],
    [
      'an alg none JWT',
      async () => {
        const [, payload] = (await issuer.mintJwt()).split('.');
        return `${b64({ alg: 'none' })}.${payload}.`;
      },
    ],
  ])('should refuse %s without falling back to introspection', async (_name, make) => {
    const token = await make();
    let res: GraphQLResponse | undefined;
    const calls = await issuerCallsDuring(async () => {
      res = await auto.post(HELLO, bearer(token));
    });
    expectInvalidToken(res!);
    expect(calls.introspections).toBe(0);
  });
});

/** The request log line `server` wrote for the request `res` answers, once written. */
const requestLine = (server: TestServer, res: GraphQLResponse) => requestLineOf(server.logs, res.headers.get('x-request-id'));

describe.each(['jwt', 'auto'] as const)('tokens as ZITADEL makes them, ZITADEL_TOKEN_VALIDATION=%s', (mode) => {
  const server = () => (mode === 'jwt' ? jwt : auto);

  it("should not count another project's roles: its application asked for our audience, its generic roles claim is its own", async () => {
    const token = await issuer.mintJwt({ user: OTHER_PROJECT_ADMIN, requestedBy: 'other-project' });
    const hello = await server().post(HELLO, bearer(token));
    expect(hello.status).toBe(200);
    const admin = await server().post('{ adminGreeting }', bearer(token));
    expect(admin.status).toBe(403);
    expect(admin.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    // The project's own claim still counts.
    expect((await server().post('{ adminGreeting }', bearer(await issuer.mintJwt()))).status).toBe(200);
  });

  it('should refuse an ID token (same key, same audience) with 401, and log why but not the token', async () => {
    const idToken = await mintIdToken(issuer);
    let res: GraphQLResponse | undefined;
    const calls = await issuerCallsDuring(async () => {
      res = await server().post(HELLO, bearer(idToken));
    });
    expectInvalidToken(res!);
    expect(calls.introspections).toBe(0);
    expect(await requestLine(server(), res!)).toMatchObject({ status: 401, outcome: 'UNAUTHENTICATED', authFailure: 'id_token' });
    // Cached refusals keep their reason.
    expect(await requestLine(server(), await server().post(HELLO, bearer(idToken)))).toMatchObject({ auth: 'cache', authFailure: 'id_token' });
    expect(server().logs.join('')).not.toContain(idToken);
  });

  it('should refuse a JWT without jti', async () => {
    const res = await server().post(HELLO, bearer(await issuer.mintJwt({ claims: { jti: undefined } })));
    expectInvalidToken(res);
    expect(await requestLine(server(), res)).toMatchObject({ authFailure: 'missing_jti' });
  });

  it('should refuse a JWT that is not valid yet, remember nothing, and accept it once its time has come', async () => {
    let now = Date.now();
    const own = await startTestServer({ issuer, tokenValidation: mode, ...(mode === 'jwt' ? { credentials: null } : {}), now: () => now });
    try {
      const token = await mintNotYetValidJwt(issuer, 120);
      const early = await own.post(HELLO, bearer(token));
      expectInvalidToken(early);
      expect(await requestLine(own, early)).toMatchObject({ authFailure: 'not_yet_valid' });
      expect(own.app.auth.cache.size).toBe(0);
      now += 121_000;
      expect((await own.post(HELLO, bearer(token))).status).toBe(200);
    } finally {
      await own.close();
    }
  });
});

describe('@requiresScopes with JWT access tokens, which carry no scopes', () => {
  const SCOPED = '{ scopedGreeting }';

  it('should fail closed with 403 in jwt mode, naming the cause, without asking the issuer', async () => {
    // Known keys first, so any fetch below would be one the token caused.
    expect((await jwt.post(HELLO, bearer(await issuer.mintJwt()))).status).toBe(200);
    let res: GraphQLResponse | undefined;
    const calls = await issuerCallsDuring(async () => {
      res = await jwt.post(SCOPED, bearer(await issuer.mintJwt({ scope: 'openid profile email' })));
    });
    expect(res?.status).toBe(403);
    expect(res?.body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN', reason: 'scopes_unknown' });
    expect(res?.body.errors?.[0]?.message).toMatch(/JWT access tokens carry none/);
    expect(calls).toEqual({ introspections: 0, jwksFetches: 0 });
  });

  it('should warn once at start that @requiresScopes cannot pass in jwt mode, naming the fields', () => {
    const warnings = jwt.logs.filter((line) => line.includes('@requiresScopes cannot pass'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!).fields).toEqual(['Query.scopedGreeting']);
    expect(auto.logs.some((line) => line.includes('@requiresScopes cannot pass'))).toBe(false);
  });

  it('should introspect a JWT caller once in auto mode to learn the scopes, and then know them (and the profile)', async () => {
    const token = await issuer.mintJwt({ scope: 'openid profile email' });
    expect((await auto.post(ME, bearer(token))).body.data?.me).toMatchObject({ scopes: null, username: null });
    let res: GraphQLResponse | undefined;
    expect(await issuer.introspectionsDuring(async () => (res = await auto.post(SCOPED, bearer(token))))).toBe(1);
    expect(res?.status).toBe(200);
    expect(res?.body.data).toEqual({ scopedGreeting: 'Hello, scoped!' });
    // Cached like any verdict: no second introspection, and `me` now shows what introspection saw.
    let me: GraphQLResponse | undefined;
    expect(await issuer.introspectionsDuring(async () => {
      expect((await auto.post(SCOPED, bearer(token))).status).toBe(200);
      me = await auto.post(ME, bearer(token));
    })).toBe(0);
    expect(me?.body.data?.me).toMatchObject({ scopes: ['openid', 'profile', 'email'], username: issuer.demoUser.username, email: issuer.demoUser.email });
  });

  it('should answer FORBIDDEN in auto mode when introspection shows the scopes are missing', async () => {
    const res = await auto.post(SCOPED, bearer(await issuer.mintJwt({ scope: 'openid' })));
    expect(res.status).toBe(403);
    expect(res.body.errors?.[0]?.extensions).toEqual({ code: 'FORBIDDEN' });
  });

  it('should refuse in auto mode a JWT that introspection reports revoked, on every field, for the negative TTL', async () => {
    const token = await issuer.mintJwt({ scope: 'openid profile email' });
    expect((await auto.post(HELLO, bearer(token))).status).toBe(200);
    await issuer.revokeToken(token);
    expectInvalidToken(await auto.post(SCOPED, bearer(token)));
    expectInvalidToken(await auto.post(HELLO, bearer(token)));
  });
});

describe('a flood of locally refused JWTs (auto mode)', () => {
  it('should cost no introspection and leave the cached identities in place', async () => {
    const small = await startTestServer({ issuer, tokenValidation: 'auto', cache: { maxEntries: 5 } });
    try {
      const callers = await Promise.all(Array.from({ length: 5 }, () => issuer.mintJwt()));
      for (const token of callers) expect((await small.post(HELLO, bearer(token))).status).toBe(200);
      const flood = await Promise.all(Array.from({ length: 30 }, () => forged(currentKid())));
      expect(await issuer.introspectionsDuring(async () => {
        for (const token of flood) expectInvalidToken(await small.post(HELLO, bearer(token)));
      })).toBe(0);
      for (const token of callers) expect(await requestLine(small, await small.post(HELLO, bearer(token)))).toMatchObject({ status: 200, auth: 'cache' });
    } finally {
      await small.close();
    }
  });
});

describe('logs of JWT validation', () => {
  it('should never contain a token', async () => {
    // Accepted, expired, forged and ID tokens on both servers, each request logged to its end.
    for (const server of [jwt, auto]) {
      for (const token of [await issuer.mintJwt(), await issuer.mintJwt({ expiresInSeconds: -60 }), await forged(currentKid()), await mintIdToken(issuer)]) {
        await requestLine(server, await server.post(HELLO, bearer(token)));
      }
    }
    const all = jwt.logs.join('') + auto.logs.join('');
    expect(all).toMatch(/token rejected/);
    for (const minted of issuer.minted) expect(all).not.toContain(minted);
  });
});
