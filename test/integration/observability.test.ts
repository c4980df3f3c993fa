import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { requestLineOf } from '../helpers/logs.js';
import { bearer, startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

let issuer: TestIssuer;
let server: TestServer;
/** One call to ZITADEL a second: most of a burst of new tokens is refused. */
let stingy: TestServer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  [server, stingy] = await Promise.all([
    startTestServer({ issuer }),
    startTestServer({ issuer, introspectionBudget: { ratePerSecond: 1, concurrency: 1 } }),
  ]);
});

afterAll(async () => {
  await Promise.all([server.close(), stingy.close()]);
  await issuer.close();
});

/** The request log line of the request `res` answers (written, with its metrics, when the response closes). */
const requestLine = (res: { headers: Headers }, of: TestServer = server) => requestLineOf(of.logs, res.headers.get('x-request-id'));

async function metrics(of: TestServer = server): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(new URL('/metrics', of.url));
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? NaN : Number(line.split(' ').pop());
}

describe('request ids', () => {
  it('should echo a sane incoming X-Request-Id', async () => {
    const res = await server.post('{ __typename }', { 'x-request-id': 'trace-4bf92f35.77_x:1@edge' });
    expect(res.headers.get('x-request-id')).toBe('trace-4bf92f35.77_x:1@edge');
  });

  it.each([
    ['absent', undefined],
    ['too long', 'x'.repeat(129)],
    ['with spaces', 'a b'],
    ['with quotes', '"><script>'],
  ])('should generate a UUID when the incoming one is %s', async (_what, incoming) => {
    const res = await server.post('{ __typename }', incoming === undefined ? {} : { 'x-request-id': incoming });
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('headers of every GraphQL answer', () => {
  const body = (query: string) => JSON.stringify({ query });
  it.each([
    ['200, answered', 200, { 'content-type': 'application/json' }, body('{ __typename }')],
    ['200, from a browser (CORS)', 200, { 'content-type': 'application/json', origin: 'https://studio.apollographql.com' }, body('{ __typename }')],
    ['401, refused by the auth status', 401, { 'content-type': 'application/json' }, body('{ hello }')],
    ['400, not JSON', 400, { 'content-type': 'application/json' }, '{"query":'],
    ['400, query too long', 400, { 'content-type': 'application/json' }, body(`{ ${'__typename '.repeat(2000)}}`)],
    ['413, body too large', 413, { 'content-type': 'application/json' }, body(`{ __typename } # ${'x'.repeat(1_100_000)}`)],
  ])('should carry the request id, no-store and its length when %s', async (_what, status, headers, payload) => {
    const res = await fetch(server.url, { method: 'POST', headers: { ...headers, 'x-request-id': 'every-answer' }, body: payload });
    expect(res.status).toBe(status);
    expect(res.headers.get('x-request-id')).toBe('every-answer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/(graphql-response\+)?json/);
    // A whole answer goes out with its length, not chunked.
    expect(res.headers.get('transfer-encoding')).toBeNull();
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(await res.text()));
  });
});

describe('request logs', () => {
  it('should write one line per request with id, operation, outcome, status, and how the token was known', async () => {
    const token = await issuer.mintToken();
    const first = await server.post('query Greeting { hello }', { ...bearer(token), 'x-request-id': 'first-call' });
    const second = await server.post('query Greeting { hello }', { ...bearer(token), 'x-request-id': 'second-call' });
    expect([first.status, second.status]).toEqual([200, 200]);
    const lines = [await requestLine(first), await requestLine(second)];
    expect(lines[0]).toMatchObject({ reqId: 'first-call', operationName: 'Greeting', outcome: 'OK', status: 200, auth: 'checked' });
    expect(lines[0]?.authMs).toBeGreaterThanOrEqual(0);
    expect(lines[1]).toMatchObject({ reqId: 'second-call', operationName: 'Greeting', outcome: 'OK', status: 200, auth: 'cache' });
    expect(lines[1]).not.toHaveProperty('authMs');
    expect(lines[0]?.ms).toBeGreaterThanOrEqual(0);
    // One line each.
    for (const reqId of ['first-call', 'second-call']) expect(server.logs.filter((line) => line.includes(`"reqId":"${reqId}"`) && line.includes('"msg":"request"'))).toHaveLength(1);
  });

  it.each([
    ['no token', '{ hello }', {}, 401, 'UNAUTHENTICATED'],
    ['a rejected token', '{ hello }', bearer('made-up-token'), 401, 'UNAUTHENTICATED'],
    ['a query over a limit', `{ ${Array.from({ length: 20 }, (_, i) => `x${i}: hello`).join(' ')} }`, {}, 400, 'TOO_MANY_ALIASES'],
  ])('should log the outcome of %s', async (_what, query, headers, status, outcome) => {
    const res = await server.post(query, headers);
    expect(res.status).toBe(status);
    expect(await requestLine(res)).toMatchObject({ status, outcome });
  });

  it('should log a request whose client went away before the answer as 499 CLIENT_CLOSED_REQUEST', async () => {
    const token = await issuer.mintToken();
    const before = issuer.introspections;
    let release = () => {};
    issuer.fault = { kind: 'hold', until: new Promise<void>((resolve) => (release = resolve)) };
    const client = new AbortController();
    try {
      const pending = fetch(server.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'gone', ...bearer(token) },
        body: JSON.stringify({ query: '{ hello }' }),
        signal: client.signal,
      }).catch(() => undefined);
      await until(() => issuer.introspections > before, 'the introspection held');
      client.abort();
      await pending;
      expect(await requestLineOf(server.logs, 'gone')).toMatchObject({ status: 499, outcome: 'CLIENT_CLOSED_REQUEST' });
    } finally {
      issuer.fault = undefined;
      release();
    }
  });

  it('should log a body over the limit as BODY_TOO_LARGE', async () => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ __typename } #${'x'.repeat(2_000_000)}` }) });
    expect(res.status).toBe(413);
    expect(await requestLine(res)).toMatchObject({ status: 413, outcome: 'BODY_TOO_LARGE' });
  });

  it('should never log a token or a client assertion', async () => {
    await requestLine(await server.post('{ me { id } }', bearer(await issuer.mintToken())));
    const all = server.logs.join('\n');
    for (const token of issuer.minted) expect(all).not.toContain(token);
    expect(all).not.toMatch(/client_assertion|eyJhbGciOi|BEGIN (RSA )?PRIVATE KEY/);
  });
});

describe('GET /metrics', () => {
  it('should expose Prometheus metrics for requests, the cache, introspection and the breaker', async () => {
    const token = await issuer.mintToken();
    // Each request counted once its log line is written (both happen when its response closes).
    for (const headers of [bearer(token), bearer(token), {}]) await requestLine(await server.post('{ hello }', headers));
    const { status, type, text } = await metrics();
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(sample(text, 'graphql_requests_total', '{status="200",outcome="OK"}')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'graphql_requests_total', '{status="401",outcome="UNAUTHENTICATED"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'auth_cache_hits_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'auth_cache_misses_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'auth_cache_entries')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'zitadel_introspection_duration_seconds_count', '{result="active"}')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'zitadel_circuit_open')).toBe(0);
    expect(text).toContain('graphql_request_duration_seconds_bucket');
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).not.toContain(token);
  });

  it('should count negative cache hits and budget refusals', async () => {
    const bad = bearer(`unknown-${Date.now()}`);
    const first = await stingy.post('{ hello }', bad);
    expect(first.status).toBe(401);
    await requestLine(first, stingy);
    const before = await metrics(stingy);
    // Refused a moment ago: now answered from memory, without a call and without budget.
    expect((await stingy.post('{ hello }', bad)).status).toBe(401);
    const answers = await Promise.all(Array.from({ length: 5 }, (_, i) => stingy.post('{ hello }', bearer(`unknown-${i}-${Date.now()}`))));
    const refused = answers.filter((a) => a.status === 429).length;
    expect(refused).toBeGreaterThanOrEqual(4);
    for (const answer of answers) await requestLine(answer, stingy);
    const after = await metrics(stingy);
    const grew = (name: string, labels = '') => sample(after.text, name, labels) - (sample(before.text, name, labels) || 0);
    expect(grew('auth_cache_negative_hits_total')).toBe(1);
    expect(grew('zitadel_introspection_budget_rejections_total')).toBe(refused);
    expect(grew('graphql_requests_total', '{status="429",outcome="RATE_LIMITED"}')).toBe(refused);
  });
});
