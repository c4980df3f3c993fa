import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mintShortLived, startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { bearer, startTestServer, type TestServer } from '../helpers/server.js';
import { postFrom } from '../helpers/raw.js';
import { until } from '../helpers/until.js';

let issuer: TestIssuer;
const servers: TestServer[] = [];

beforeAll(async () => {
  issuer = await startTestIssuer();
});

afterEach(async () => {
  issuer.fault = undefined;
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await issuer.close();
});

async function server(options: Omit<Parameters<typeof startTestServer>[0], 'issuer'> = {}): Promise<TestServer> {
  const started = await startTestServer({ issuer, ...options });
  servers.push(started);
  return started;
}

const readyz = async (s: TestServer) => {
  const res = await fetch(new URL('/readyz', s.url));
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const randomToken = () => randomBytes(24).toString('base64url');

describe('a flood of distinct bad tokens', () => {
  it('should keep introspection within the budget, refuse the rest with 429, and keep serving a cached caller', async () => {
    const RATE = 20;
    const flooded = await server({ introspectionBudget: { ratePerSecond: RATE, concurrency: 4 } });
    const good = await issuer.mintToken();
    expect((await flooded.post('{ hello }', bearer(good))).status).toBe(200);

    const before = issuer.introspections;
    const started = Date.now();
    const statuses = new Map<number, number>();
    // Far more made-up tokens than the budget allows over the time they take (a burst of RATE, then RATE a second).
    for (let wave = 0; wave < 2; wave += 1) {
      const flood = Array.from({ length: 60 }, () => flooded.post('{ hello }', bearer(randomToken())));
      const [cached, ...answers] = await Promise.all([flooded.post('{ hello me { id } }', bearer(good)), ...flood]);
      expect(cached.status).toBe(200);
      for (const res of answers) {
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 429) {
          expect(res.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
          expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        }
      }
    }
    const seconds = (Date.now() - started) / 1000;
    const calls = issuer.introspections - before;

    expect([...statuses.keys()].sort()).toEqual([401, 429]);
    expect(statuses.get(401)).toBe(calls); // each call found one bad token; no call was wasted
    // The burst plus the rate over the time the flood took, and never more.
    expect(calls).toBeLessThanOrEqual(RATE + Math.ceil(RATE * seconds));
    expect(calls).toBeGreaterThan(0);
  });
});

describe('the introspection budget, shared between clients', () => {
  /** The time when the server started, for ever. */
  const standingClock = () => {
    const started = Date.now();
    return () => started;
  };

  /** A flood of made-up tokens from `from`, `waves` waves of `size` at once; the statuses it met. */
  async function flood(s: TestServer, from: string, waves: number, size: number, headers: Record<string, string> = {}): Promise<number[]> {
    const statuses: number[] = [];
    for (let wave = 0; wave < waves; wave += 1) {
      const answers = await Promise.all(Array.from({ length: size }, () => postFrom(s.url, from, '{ hello }', { ...headers, ...bearer(randomToken()) })));
      statuses.push(...answers.map((a) => a.status));
    }
    return statuses;
  }

  /**
   * A wave of the flood, then `users` new tokens (each to be introspected), each sent while
   * another wave floods: every one of those waves must meet 429s (the budget is spent when the
   * user comes) and every user must get through. The production budget: 40 a second, 16 in flight,
   * on a clock that stands still, so that nothing refills however slowly a busy machine sends.
   */
  async function floodWhileUsersLogIn(floodWave: () => Promise<number[]>, users: ((token: string) => Promise<{ status: number }>)[]): Promise<void> {
    const flooded = await floodWave();
    expect(flooded).toContain(429);
    const served: number[] = [];
    for (const user of users) {
      const token = await issuer.mintToken();
      const [wave, answer] = await Promise.all([floodWave(), user(token)]);
      expect(wave).toContain(429);
      flooded.push(...wave);
      served.push(answer.status);
    }
    expect(served).toEqual(users.map(() => 200));
    expect(flooded.filter((status) => status === 429).length).toBeGreaterThan(flooded.length / 2);
  }

  it("should leave another address's new tokens unaffected by a flood from one address", async () => {
    const s = await server({ introspectionBudget: { ratePerSecond: 40, concurrency: 16 }, now: standingClock() });
    // Four people behind 127.0.0.2 log in (within an address's own allowance) while 127.0.0.1 floods.
    const user = (token: string) => postFrom(s.url, '127.0.0.2', '{ hello }', bearer(token));
    await floodWhileUsersLogIn(() => flood(s, '127.0.0.1', 1, 40), [user, user, user, user]);
  });

  it('should tell clients apart by the X-Forwarded-For of a trusted proxy (TRUST_PROXY_HOPS=1)', async () => {
    const behindProxy = await server({ introspectionBudget: { ratePerSecond: 40, concurrency: 16 }, trustProxyHops: 1, now: standingClock() });
    // All through the proxy (127.0.0.1). The flooder is 198.51.100.7 to the proxy, and writes
    // whatever it likes into the header it sends; the users are 192.0.2.1 to 192.0.2.4.
    const user = (i: number) => (token: string) => postFrom(behindProxy.url, '127.0.0.1', '{ hello }', { 'x-forwarded-for': `192.0.2.${i}`, ...bearer(token) });
    await floodWhileUsersLogIn(() => flood(behindProxy, '127.0.0.1', 1, 40, { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' }), [user(1), user(2), user(3), user(4)]);
  });
});

describe('an issuer outage', () => {
  it('should serve cached callers, fail new ones fast, stay ready, and recover by itself without traffic', async () => {
    const s = await server({ timeoutMs: 300, timings: { guard: { failureThreshold: 3, retries: 0, probe: { initialMs: 50, maxMs: 100 } } } });
    const cached = await issuer.mintToken();
    expect((await s.post('{ hello }', bearer(cached))).status).toBe(200);
    expect(await readyz(s)).toEqual({ status: 200, body: { status: 'ready', circuit: 'closed' } });

    issuer.fault = { kind: 'reset' };
    for (let i = 0; i < 3; i += 1) expect((await s.post('{ hello }', bearer(await issuer.mintToken()))).status).toBe(503);
    expect(s.app.auth.guard?.open).toBe(true);
    // Every replica shares ZITADEL: following the breaker would leave a load balancer nowhere to
    // send the callers this replica still serves.
    expect(await readyz(s)).toEqual({ status: 200, body: { status: 'ready', circuit: 'open' } });

    // Open: a new caller is refused without a call to ZITADEL, a cached one is served.
    const before = issuer.introspections;
    const refused = await s.post('{ hello }', bearer(await issuer.mintToken()));
    expect(refused.status).toBe(503);
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(issuer.introspections).toBe(before);
    expect((await s.post('{ hello }', bearer(cached))).status).toBe(200);

    // ZITADEL is back: only the background probes can notice, nothing else is sent.
    issuer.fault = undefined;
    await until(() => s.app.auth.guard?.open === false, 'the circuit closed by a probe');
    expect((await readyz(s)).body.circuit).toBe('closed');
    expect((await s.post('{ hello }', bearer(await issuer.mintToken()))).status).toBe(200);
    const logs = s.logs.map((line) => JSON.parse(line) as { msg: string });
    expect(logs.filter((l) => /circuit open/.test(l.msg))).toHaveLength(1);
    expect(logs.filter((l) => /circuit closed/.test(l.msg))).toHaveLength(1);
    expect(s.logs.join('\n')).not.toContain(cached);
  });

  it('should never serve a cached identity past its exp: 401 once it has passed, even while ZITADEL is down', async () => {
    const s = await server({ timings: { guard: { failureThreshold: 1 } } });
    const token = await mintShortLived(issuer);
    expect((await s.post('{ hello }', bearer(token))).status).toBe(200);
    issuer.fault = { kind: 'reset' };
    const before = issuer.introspections;
    let res = await s.post('{ hello }', bearer(token));
    expect(res.status).toBe(200); // still valid, and ZITADEL is not asked
    await until(async () => (res = await s.post('{ hello }', bearer(token))).status !== 200, 'the token refused');
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'invalid_token' });
    expect(issuer.introspections).toBe(before);
  });

  it.each([
    ['a 502', { kind: 'status', status: 502 } as const],
    ['a reset connection', { kind: 'reset' } as const],
  ])('should retry %s within the request, invisibly to the caller', async (_what, fault) => {
    const s = await server();
    const token = await issuer.mintToken();
    issuer.fault = { ...fault, times: 1 };
    const before = issuer.introspections;
    const res = await s.post('{ hello }', bearer(token));
    expect(res.status).toBe(200);
    expect(issuer.introspections - before).toBe(2);
  });

  it('should not retry a timeout: the caller learns of it at once', async () => {
    const s = await server({ timeoutMs: 200 });
    issuer.fault = { kind: 'delay', ms: 1000, times: 1 };
    const before = issuer.introspections;
    expect((await s.post('{ hello }', bearer(await issuer.mintToken()))).status).toBe(503);
    expect(issuer.introspections - before).toBe(1);
  });
});
