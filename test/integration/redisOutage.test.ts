import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { close, listen } from '../helpers/net.js';
import { withMessage } from '../helpers/logs.js';
import { startRedisServer, verdictKey, type RedisServer } from '../helpers/redis.js';
import { bearer, startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

/**
 * Redis is an optimisation, never a dependency: paused, killed, restarted or absent at start,
 * requests still succeed (from the local cache or by introspection), the outage and its
 * recovery are each logged once, and sharing resumes by itself. Each test has its own
 * redis-server to do that to.
 */
let issuer: TestIssuer;
let redisServer: RedisServer;
let inspector: Redis | undefined;
let servers: TestServer[] = [];

const OUTAGE = 'shared token cache unavailable: using the local cache and introspection';
const RECOVERED = 'shared token cache recovered';

beforeAll(async () => {
  issuer = await startTestIssuer();
});

afterEach(async () => {
  await Promise.all(servers.map((server) => server.close()));
  servers = [];
  inspector?.disconnect();
  inspector = undefined;
  await redisServer.close();
});

afterAll(() => issuer.close());

/** Twice the production timeout, so a busy machine does not fake an outage the test then miscounts. */
const TIMEOUT_MS = 500;

async function replica(): Promise<TestServer> {
  const server = await startTestServer({ issuer, redis: { url: redisServer.url, timeoutMs: TIMEOUT_MS } });
  servers.push(server);
  return server;
}

/** A client of our own to look into Redis, never one of the replicas'. */
function redis(): Redis {
  inspector ??= new Redis(redisServer.url, { maxRetriesPerRequest: 1, disconnectTimeout: 50 });
  return inspector;
}

const stored = (token: string) => until(async () => (await redis().exists(verdictKey(issuer, token))) === 1, 'the verdict in Redis');

/** How often `server` has logged `message` (each server is the test's own: its whole log is the test's). */
const count = (server: TestServer, message: string) => withMessage(server.logs, message).length;
const connected = (server: TestServer) => count(server, 'shared token cache connected') > 0;

/** A token cached by `a` and readable by `b` through Redis costs one introspection. */
async function expectSharing(a: TestServer, b: TestServer): Promise<void> {
  const token = await issuer.mintToken();
  const calls = await issuer.introspectionsDuring(async () => {
    expect((await a.post('{ hello }', bearer(token))).status).toBe(200);
    await stored(token);
    expect((await b.post('{ hello }', bearer(token))).status).toBe(200);
  });
  expect(calls).toBe(1);
}

/** `tokens` new callers at once (with Redis paused, each waits for the timeout: together, not one after another). */
async function expectServedWithoutRedis(server: TestServer, tokens: number): Promise<void> {
  const minted = await Promise.all(Array.from({ length: tokens }, () => issuer.mintToken()));
  const calls = await issuer.introspectionsDuring(async () => {
    for (const res of await Promise.all(minted.map((token) => server.post('{ me { id } }', bearer(token))))) {
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ me: { id: issuer.demoUser.sub } });
    }
  });
  expect(calls).toBe(tokens);
}

describe('when Redis fails', () => {
  it('should fall back to the local cache and introspection while Redis is paused, and share again after', async () => {
    redisServer = await startRedisServer();
    const [a, b] = await Promise.all([replica(), replica()]);
    await until(() => connected(a) && connected(b), 'both replicas connected');
    const cached = await issuer.mintToken();
    await a.post('{ hello }', bearer(cached));
    await stored(cached);

    redisServer.pause();
    // A token only Redis knows: b cannot reach it, so it asks ZITADEL instead of failing.
    expect(await issuer.introspectionsDuring(async () => expect((await b.post('{ hello }', bearer(cached))).status).toBe(200))).toBe(1);
    // a still has it locally.
    expect(await issuer.introspectionsDuring(async () => expect((await a.post('{ hello }', bearer(cached))).status).toBe(200))).toBe(0);
    await expectServedWithoutRedis(a, 3);
    expect(count(a, OUTAGE)).toBe(1);

    redisServer.resume();
    // The connections may still be open (a pause shorter than the socket timeout drops none):
    // a replica then learns that Redis is back from its next lookup, so new callers keep coming.
    await until(async () => {
      for (const server of [a, b]) expect((await server.post('{ hello }', bearer(await issuer.mintToken()))).status).toBe(200);
      return count(a, RECOVERED) === 1 && count(b, RECOVERED) === 1;
    }, 'both replicas to recover');
    await expectSharing(a, b);
    expect(count(a, OUTAGE)).toBe(1);
    expect(count(b, OUTAGE)).toBe(1);
  });

  it('should keep serving when Redis is killed, and log the outage once, not once per request', async () => {
    redisServer = await startRedisServer();
    const a = await replica();
    await until(() => connected(a), 'the replica connected');
    const cached = await issuer.mintToken();
    await a.post('{ hello }', bearer(cached));
    await stored(cached);

    await redisServer.stop();
    await expectServedWithoutRedis(a, 5);
    expect(await issuer.introspectionsDuring(async () => expect((await a.post('{ hello }', bearer(cached))).status).toBe(200))).toBe(0);
    // Where Redis was, something that drops every connection: the replica's reconnects (after
    // 0.1, 0.3, 0.6 s) can be counted, and each fails. Three of them: still one line.
    let reconnects = 0;
    const dropping = createServer((socket) => {
      reconnects += 1;
      socket.destroy();
    });
    await listen(dropping, '127.0.0.1', redisServer.port);
    try {
      await until(() => reconnects >= 3, 'three reconnects');
    } finally {
      await close(dropping);
    }
    expect(count(a, OUTAGE)).toBe(1);
    expect(count(a, RECOVERED)).toBe(0);
  });

  it('should reconnect by itself when Redis is restarted, log the recovery once, and share again', async () => {
    redisServer = await startRedisServer();
    const [a, b] = await Promise.all([replica(), replica()]);
    await until(() => connected(a) && connected(b), 'both replicas connected');
    await expectSharing(a, b);

    await redisServer.stop();
    await expectServedWithoutRedis(a, 2);
    await redisServer.start();
    await until(() => count(a, RECOVERED) === 1 && count(b, RECOVERED) === 1, 'both replicas to reconnect');
    await expectSharing(a, b);
    await expectSharing(b, a);
    for (const server of [a, b]) {
      expect(count(server, OUTAGE)).toBe(1);
      expect(count(server, RECOVERED)).toBe(1);
    }
  });

  it('should start and serve while Redis is down, and use it once it is up', async () => {
    redisServer = await startRedisServer();
    await redisServer.stop();
    const a = await replica();
    await expectServedWithoutRedis(a, 2);
    await until(() => count(a, OUTAGE) === 1, 'the outage logged');

    await redisServer.start();
    const b = await replica();
    await until(() => count(a, RECOVERED) === 1 && connected(b), 'both replicas connected');
    await expectSharing(a, b);
    expect(count(a, OUTAGE)).toBe(1);
    expect(count(a, 'shared token cache connected')).toBe(0);
  });

  it('should never log the Redis password', async () => {
    redisServer = await startRedisServer();
    await redisServer.stop();
    const server = await startTestServer({ issuer, redis: { url: `redis://default:s3cret-pw@127.0.0.1:${redisServer.port}`, timeoutMs: TIMEOUT_MS } });
    servers.push(server);
    await until(() => count(server, OUTAGE) === 1, 'the outage logged');
    expect(server.logs.join('')).not.toContain('s3cret-pw');
  });
});

describe('closing a replica', () => {
  it('should release its Redis connection', async () => {
    redisServer = await startRedisServer();
    const clients = async () => String(await redis().client('LIST')).split('\n').filter(Boolean).length;
    const alone = await clients();
    const server = await startTestServer({ issuer, redis: { url: redisServer.url, timeoutMs: TIMEOUT_MS } });
    await until(async () => (await clients()) === alone + 1, 'the replica connected');
    await server.close();
    await until(async () => (await clients()) === alone, 'its connection closed');
  });
});
