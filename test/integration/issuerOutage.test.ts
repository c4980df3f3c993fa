import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer as createHttpServer } from 'node:http';
import { DEV_API_APPLICATION } from '../../src/dev/issuer.js';
import { applicationKey } from '../helpers/keys.js';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { entries, requestLineOf, withMessage } from '../helpers/logs.js';
import { close, freePort, listen } from '../helpers/net.js';
import { expectUnavailable } from '../helpers/responses.js';
import { bearer, startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

let issuer: TestIssuer;
let server: TestServer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  // These tests are about each failure on its own; the circuit breaker has its own tests.
  server = await startTestServer({ issuer, timeoutMs: 300, timings: { guard: { failureThreshold: 1_000_000 } } });
  // With a 300 ms timeout a busy machine can miss the first discovery; these tests start after it.
  await until(() => server.app.auth.discovery.ready, 'discovery');
});

afterEach(() => {
  issuer.fault = undefined;
  issuer.discoveryFault = undefined;
});

afterAll(async () => {
  await server.close();
  await issuer.close();
});

describe('when the issuer fails', () => {
  it.each([
    ['the connection is reset', { kind: 'reset' } as const],
    ['it answers 500', { kind: 'status', status: 500 } as const],
    ['it answers 502', { kind: 'status', status: 502, body: '<html>bad gateway</html>' } as const],
    ['it answers slower than the timeout', { kind: 'delay', ms: 1500 } as const],
    ['it answers 200 with a body that is not JSON', { kind: 'status', status: 200, body: 'oops' } as const],
  ])('should answer 503 AUTH_PROVIDER_UNAVAILABLE, never 401, when %s, and recover after', async (_name, fault) => {
    const token = await issuer.mintToken();
    issuer.fault = fault;
    expectUnavailable(await server.post('{ hello }', bearer(token)), '5');
    // The outage was not cached: the same token works as soon as the issuer does.
    issuer.fault = undefined;
    const res = await server.post('{ hello }', bearer(token));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ hello: 'Hello World!' });
  });

  it("should pass on the Retry-After of a 429 from the rate limiter, and make no call before it's over", async () => {
    const own = await startTestServer({ issuer });
    try {
      issuer.fault = { kind: 'status', status: 429, headers: { 'retry-after': '7' } };
      expectUnavailable(await own.post('{ hello }', bearer(await issuer.mintToken())), '7');
      issuer.fault = undefined;
      const before = issuer.introspections;
      const res = await own.post('{ hello }', bearer(await issuer.mintToken()));
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(7);
      expect(issuer.introspections).toBe(before);
    } finally {
      await own.close();
    }
  });

  it.each<[string, Record<string, string>, number]>([
    ['an absurd Retry-After: at most two minutes', { 'retry-after': '3600' }, 120],
    ['no Retry-After: about a minute, as ZITADEL Cloud bans for', {}, 60],
  ])('should honour a 429 with %s, then introspect again', async (_name, headers, seconds) => {
    let now = Date.now();
    const own = await startTestServer({ issuer, now: () => now });
    try {
      issuer.fault = { kind: 'status', status: 429, headers };
      expectUnavailable(await own.post('{ hello }', bearer(await issuer.mintToken())), String(seconds));
      issuer.fault = undefined;
      const token = await issuer.mintToken();
      now += (seconds - 1) * 1000;
      const early = await own.post('{ hello }', bearer(token));
      expect(await issuer.introspectionsDuring(() => own.post('{ hello }', bearer(token)))).toBe(0);
      expectUnavailable(early, '1');
      now += 1000;
      let res: Awaited<ReturnType<TestServer['post']>> | undefined;
      expect(await issuer.introspectionsDuring(async () => (res = await own.post('{ hello }', bearer(token))))).toBe(1);
      expect(res?.status).toBe(200);
    } finally {
      await own.close();
    }
  });

  it('should keep serving an already cached token while the issuer is down', async () => {
    const token = await issuer.mintToken();
    expect((await server.post('{ hello }', bearer(token))).status).toBe(200);
    issuer.fault = { kind: 'reset' };
    expect((await server.post('{ hello }', bearer(token))).status).toBe(200);
  });

  it('should log an outage once and its recovery, not once per request', async () => {
    // A server of its own: whether the shared one is in an outage already depends on the tests before.
    const own = await startTestServer({ issuer, timings: { guard: { failureThreshold: 1_000_000 } } });
    try {
      await until(() => own.app.auth.discovery.ready, 'discovery');
      issuer.fault = { kind: 'status', status: 500 };
      for (let i = 0; i < 4; i += 1) expectUnavailable(await own.post('{ hello }', bearer(await issuer.mintToken())), '5');
      issuer.fault = undefined;
      expect((await own.post('{ hello }', bearer(await issuer.mintToken()))).status).toBe(200);
      expect(withMessage(own.logs, /^cannot verify tokens/)).toHaveLength(1);
      expect(withMessage(own.logs, 'token introspection recovered')).toHaveLength(1);
    } finally {
      await own.close();
    }
  });

  it('should keep public fields working and answer 200 with partial data', async () => {
    issuer.fault = { kind: 'reset' };
    const res = await server.post('{ __typename me { id } }', bearer(await issuer.mintToken()));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ __typename: 'Query', me: null });
    expect(res.body.errors?.[0]?.extensions?.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
  });
});

describe('discovery after start', () => {
  it('should look the issuer up again when its introspection endpoint stops answering', async () => {
    const before = issuer.discoveries;
    issuer.fault = { kind: 'reset' };
    expect((await server.post('{ hello }', bearer(await issuer.mintToken()))).status).toBe(503);
    await until(() => issuer.discoveries > before, 'another discovery attempt');
    issuer.fault = undefined;
    expect((await server.post('{ hello }', bearer(await issuer.mintToken()))).status).toBe(200);
  });

  it('should look the issuer up again when the introspection endpoint answers 404', async () => {
    const before = issuer.discoveries;
    issuer.fault = { kind: 'status', status: 404 };
    expect((await server.post('{ hello }', bearer(await issuer.mintToken()))).status).toBe(503);
    await until(() => issuer.discoveries > before, 'another discovery attempt');
  });
});

describe('while discovery keeps failing', () => {
  it('should retry on its own schedule, not once per request, and become ready when it succeeds', async () => {
    const failing = await startTestIssuer();
    failing.discoveryFault = { kind: 'status', status: 500 };
    const BACKOFF_MS = 300;
    const unready = await startTestServer({ issuer: failing, timings: { discoveryBackoff: { initialMs: BACKOFF_MS, maxMs: BACKOFF_MS } } });
    try {
      const base = new URL(unready.url).origin;
      const token = await failing.mintToken();
      await until(() => failing.discoveries >= 1, 'a first discovery attempt');
      const before = failing.discoveries;
      const started = Date.now();
      for (let i = 0; i < 20; i += 1) {
        const res = await unready.post('{ hello }', bearer(token));
        expect(res.status).toBe(503);
      }
      // One attempt per backoff period, however long the requests took, not one per request.
      expect(failing.discoveries - before).toBeLessThanOrEqual(1 + Math.floor((Date.now() - started) / BACKOFF_MS));
      expect(failing.discoveries - before).toBeLessThan(20);
      expect(failing.introspections).toBe(0);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);

      failing.discoveryFault = undefined;
      await until(async () => (await fetch(`${base}/readyz`)).status === 200, 'readiness');
      expect((await unready.post('{ hello }', bearer(token))).status).toBe(200);
    } finally {
      await unready.close();
      await failing.close();
    }
  });
});

describe('logs during outages', () => {
  it('should never contain a token', async () => {
    const token = await issuer.mintToken();
    issuer.fault = { kind: 'status', status: 500 };
    const refused = await server.post('{ hello }', bearer(token));
    expectUnavailable(refused, '5');
    issuer.fault = undefined;
    const served = await server.post('{ hello }', bearer(token));
    expect(served.status).toBe(200);
    // Both requests fully logged (the request line comes last, when the response has gone).
    await requestLineOf(server.logs, refused.headers.get('x-request-id'));
    await requestLineOf(server.logs, served.headers.get('x-request-id'));
    const all = server.logs.join('');
    // This outage, or one before it on this server, was logged.
    expect(all).toMatch(/cannot verify tokens/);
    for (const minted of issuer.minted) expect(all).not.toContain(minted);
  });
});

describe('when the issuer rejects our client authentication', () => {
  it('should answer 503, log a configuration error, and not blame the caller', async () => {
    // A key ZITADEL does not know for our key id: the assertion's signature fails.
    const misconfigured = await startTestServer({ issuer: { issuer: issuer.issuer, keyJson: applicationKey(DEV_API_APPLICATION).json } });
    try {
      expectUnavailable(await misconfigured.post('{ hello }', bearer(await issuer.mintToken())), '5');
      const errors = entries(misconfigured.logs).filter((l) => l.level >= 50);
      expect(errors.map((l) => l.code)).toContain('CLIENT_AUTH_REJECTED');
      expect(misconfigured.logs.join('')).not.toContain('BEGIN RSA PRIVATE KEY');
    } finally {
      await misconfigured.close();
    }
  });
});

describe('when discovery names an endpoint outside the issuer', () => {
  it('should refuse to send credentials or tokens there: not ready, 503, and an error naming the endpoint', async () => {
    // Whatever answers there would be asked to judge tokens; it must never be asked.
    let trapped = 0;
    const trap = createHttpServer((_req, res) => {
      trapped += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"active":true,"sub":"attacker"}');
    });
    const port = await listen(trap, '127.0.0.2');
    const elsewhere = `http://127.0.0.2:${port}/oauth/v2/introspect`;
    const redirected = await startTestServer({ issuer, timings: { discoveryBackoff: { initialMs: 60_000, maxMs: 60_000 } } });
    issuer.discoveryFault = { kind: 'status', status: 200, body: JSON.stringify({ issuer: issuer.issuer, introspection_endpoint: elsewhere, jwks_uri: `${issuer.issuer}/oauth/v2/keys` }) };
    try {
      await until(() => redirected.logs.some((line) => line.includes('issuer discovery failed')), 'the refused discovery');
      expectUnavailable(await redirected.post('{ hello }', bearer(await issuer.mintToken())), '60');
      expect((await fetch(new URL('/readyz', redirected.url))).status).toBe(503);
      const [refusal] = withMessage(redirected.logs, 'issuer discovery failed') as { level: number; err?: { message?: string } }[];
      expect(refusal?.level).toBe(50);
      expect(refusal?.err?.message).toMatch(/introspection_endpoint http:\/\/127\.0\.0\.2:\d+, outside the issuer's origin/);
      expect(trapped).toBe(0);
    } finally {
      await redirected.close();
      await close(trap);
    }
  });
});

describe('when the issuer is unreachable at start', () => {
  it('should come up unready, answer 503, and become ready once the issuer answers', async () => {
    const port = await freePort();
    const key = applicationKey(DEV_API_APPLICATION);
    const early = await startTestServer({ issuer: { issuer: `http://127.0.0.1:${port}`, keyJson: key.json } });
    let late: TestIssuer | undefined;
    try {
      const base = new URL(early.url).origin;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      const res = await early.post('{ hello }', bearer('any-token'));
      expect(res.status).toBe(503);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('AUTH_PROVIDER_UNAVAILABLE');

      late = await startTestIssuer({ port, apiPrivateKey: key.privateKey });
      await until(async () => (await fetch(`${base}/readyz`)).status === 200, 'readiness');
      const ok = await early.post('{ hello }', bearer(await late.mintToken()));
      expect(ok.status).toBe(200);
    } finally {
      await early.close();
      await late?.close();
    }
  });
});
