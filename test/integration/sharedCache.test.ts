import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { testRedisUrl, verdictKey } from '../helpers/redis.js';
import { bearer, startTestServer, type TestServer, type TestServerOptions } from '../helpers/server.js';
import { until } from '../helpers/until.js';

/**
 * Replicas sharing verdicts through a real Redis: two createApp instances, each with its own
 * in-process cache, against the real development issuer.
 */
let issuer: TestIssuer;
let redisUrl: { url: string; close(): Promise<void> };
let redis: Redis;
const servers: TestServer[] = [];
let a: TestServer;
let b: TestServer;

/** Nothing here is about timeouts: a generous one keeps a busy machine from turning a slow answer into a miss. */
async function replica(options: Partial<TestServerOptions> = {}): Promise<TestServer> {
  const server = await startTestServer({ issuer, redis: { url: redisUrl.url, timeoutMs: 2000 }, ...options });
  servers.push(server);
  return server;
}

beforeAll(async () => {
  redisUrl = await testRedisUrl();
  redis = new Redis(redisUrl.url);
  issuer = await startTestIssuer();
  [a, b] = await Promise.all([replica(), replica()]);
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await issuer.close();
  redis.disconnect();
  await redisUrl.close();
});

/** Where the replicas keep `token`'s verdict. */
const keyOf = (token: string, mode?: Parameters<typeof verdictKey>[2]) => verdictKey(issuer, token, mode);

/** The verdict JSON of a sealed value (`<mac>.<until>.<json>`). */
const jsonOf = (value: string) => value.slice(value.indexOf('.', value.indexOf('.') + 1) + 1);

/** Writes to Redis happen after the response: wait for the entry. */
const stored = (token: string) => until(async () => (await redis.exists(keyOf(token))) === 1, 'the verdict in Redis');

const ME = '{ me { id username email roles expiresAt } }';

describe('a verdict cache shared through Redis', () => {
  it('should let a second replica reuse the first one’s introspection', async () => {
    const token = await issuer.mintToken();
    const calls = await issuer.introspectionsDuring(async () => {
      const first = await a.post(ME, bearer(token));
      expect(first.status).toBe(200);
      await stored(token);
      const second = await b.post(ME, bearer(token));
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
      expect(second.body.data?.me).toMatchObject({ id: issuer.demoUser.sub, username: issuer.demoUser.username });
    });
    expect(calls).toBe(1);
  });

  it('should cost at most one introspection per replica for concurrent cold requests', async () => {
    const token = await issuer.mintToken();
    const calls = await issuer.introspectionsDuring(async () => {
      const responses = await Promise.all([a, b].flatMap((server) => Array.from({ length: 20 }, () => server.post('{ hello }', bearer(token)))));
      expect(responses.map((r) => r.status)).toEqual(Array(40).fill(200));
    });
    expect(calls).toBeGreaterThanOrEqual(1);
    expect(calls).toBeLessThanOrEqual(2);
  });

  it('should store the mapped identity as compact JSON, sealed, never the token or its jti', async () => {
    const token = await issuer.mintToken();
    await a.post(ME, bearer(token));
    await stored(token);
    const key = keyOf(token);
    expect(key).not.toContain(token);
    const sealed = (await redis.get(key))!;
    expect(sealed).not.toContain(token);
    expect(sealed).toMatch(/^[A-Za-z0-9_-]{43}\.\d+\.\{/);
    const value = jsonOf(sealed);
    const parsed = JSON.parse(value) as { identity: Record<string, unknown> };
    expect(value).toBe(JSON.stringify(parsed));
    const { sub, username, email } = issuer.demoUser;
    expect(parsed).toEqual({
      active: true,
      identity: expect.objectContaining({ id: sub, username, email, exp: expect.any(Number) }),
    });
    expect(Object.keys(parsed.identity).sort()).toEqual(
      ['clientId', 'email', 'emailVerified', 'exp', 'familyName', 'givenName', 'id', 'locale', 'name', 'organizationId', 'roleGrants', 'scopes', 'username'],
    );
    expect(Object.values(parsed.identity)).not.toContain(null);
  });

  it('should expire the entry at the token’s exp when that comes before the max TTL', async () => {
    const token = await issuer.mintToken({ expiresInSeconds: 60 });
    const exp = Date.now() + 60_000;
    await a.post('{ hello }', bearer(token));
    await stored(token);
    const ttl = await redis.pttl(keyOf(token));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(Date.now() + ttl).toBeLessThanOrEqual(exp + 1000);
  });

  it('should expire the entry after the max TTL when the token lives longer', async () => {
    const shortLived = await replica({ cache: { maxTtlMs: 30_000 } });
    const token = await issuer.mintToken({ expiresInSeconds: 3600 });
    await shortLived.post('{ hello }', bearer(token));
    await stored(token);
    const ttl = await redis.pttl(keyOf(token));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('should keep a copy taken from Redis only as long as the Redis entry, not its own max TTL', async () => {
    // The first replica forgets verdicts after 1 s; the second would keep its own for 5 min.
    const forgetful = await replica({ cache: { maxTtlMs: 1000 } });
    const token = await issuer.mintToken();
    await forgetful.post('{ hello }', bearer(token));
    await stored(token);
    expect(await issuer.introspectionsDuring(() => b.post('{ hello }', bearer(token)))).toBe(0);
    await until(async () => (await redis.exists(keyOf(token))) === 0, 'the Redis entry to expire');
    expect(await issuer.introspectionsDuring(() => b.post('{ hello }', bearer(token)))).toBe(1);
  });

  it('should share an inactive verdict for the negative TTL', async () => {
    const token = 'not-a-token-anyone-issued';
    const calls = await issuer.introspectionsDuring(async () => {
      expect((await a.post('{ hello }', bearer(token))).status).toBe(401);
      await stored(token);
      expect((await b.post('{ hello }', bearer(token))).status).toBe(401);
    });
    expect(calls).toBe(1);
    expect(jsonOf((await redis.get(keyOf(token)))!)).toBe('{"active":false,"reason":"inactive"}');
    const ttl = await redis.pttl(keyOf(token));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
  });

  it('should treat a value it cannot read as a miss, introspect, and replace it', async () => {
    const token = await issuer.mintToken();
    await redis.set(keyOf(token), '{"active":true,"identity":{"id":"someone-else","isAdmin":true}}', 'PX', 60_000);
    const calls = await issuer.introspectionsDuring(async () => {
      const res = await a.post('{ me { id } }', bearer(token));
      expect(res.body.data).toEqual({ me: { id: issuer.demoUser.sub } });
    });
    expect(calls).toBe(1);
    await until(async () => (await redis.get(keyOf(token)))?.includes(issuer.demoUser.sub) === true, 'the value replaced');
  });

  it('should not trust an entry that has no expiry', async () => {
    const token = await issuer.mintToken();
    await redis.set(keyOf(token), '{"active":true,"identity":{"id":"someone-else"}}');
    const calls = await issuer.introspectionsDuring(async () => {
      expect((await a.post('{ me { id } }', bearer(token))).body.data).toEqual({ me: { id: issuer.demoUser.sub } });
    });
    expect(calls).toBe(1);
  });

  it('should refuse a value whose seal fails (written by someone else, or moved from another token), introspect, and say so once', async () => {
    const alice = await issuer.mintToken();
    const bob = await issuer.mintToken({ user: { sub: '200000000000000088', username: 'bob@demo.localhost' } });
    await a.post('{ hello }', bearer(alice));
    await stored(alice);
    const sealed = (await redis.get(keyOf(alice)))!;
    // Whoever writes to Redis copies Alice's sealed verdict under Bob's key, and edits another one.
    await redis.set(keyOf(bob), sealed, 'PX', 60_000);
    const carol = await issuer.mintToken({ user: { sub: '200000000000000089', username: 'carol@demo.localhost' } });
    await redis.set(keyOf(carol), sealed.replace(issuer.demoUser.sub, '200000000000000089'), 'PX', 60_000);
    const fresh = await replica();
    const calls = await issuer.introspectionsDuring(async () => {
      expect((await fresh.post('{ me { id } }', bearer(bob))).body.data).toEqual({ me: { id: '200000000000000088' } });
      expect((await fresh.post('{ me { id roles } }', bearer(carol))).body.data).toEqual({ me: { id: '200000000000000089', roles: [] } });
    });
    expect(calls).toBe(2);
    expect(fresh.logs.filter((line) => line.includes('fails its seal'))).toHaveLength(1);
  });

  it('should not share verdicts between validation modes: an introspecting replica never takes a JWT an auto replica validated locally', async () => {
    const auto = await replica({ tokenValidation: 'auto' });
    const jwt = await issuer.mintJwt();
    expect(await issuer.introspectionsDuring(() => auto.post('{ hello }', bearer(jwt)))).toBe(0);
    await until(async () => (await redis.exists(keyOf(jwt, 'auto'))) === 1, 'the auto verdict in Redis');
    // Revoked since: local validation cannot see it, introspection does.
    await issuer.revokeToken(jwt);
    let res: Awaited<ReturnType<TestServer['post']>> | undefined;
    expect(await issuer.introspectionsDuring(async () => (res = await b.post('{ hello }', bearer(jwt))))).toBe(1);
    expect(res?.status).toBe(401);
  });

  it('should not share verdicts with a deployment that introspects as another client', async () => {
    const other = await replica({ credentials: { method: 'client_secret_basic', ...issuer.basicClient } });
    const token = await issuer.mintToken();
    await a.post('{ hello }', bearer(token));
    await stored(token);
    expect(await issuer.introspectionsDuring(() => other.post('{ hello }', bearer(token)))).toBe(1);
  });
});
