import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { connect } from 'node:net';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { rawRequest } from '../helpers/raw.js';
import { bearer, startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/until.js';

/**
 * What protects the server from its clients, over real HTTP: query limits, body, header and
 * batch limits, the request deadline, CSRF prevention, and what production hides.
 */
let issuer: TestIssuer;
let server: TestServer;
let limited: TestServer;
let production: TestServer;

const LIMITS = {
  GRAPHQL_MAX_ALIASES: '2',
  GRAPHQL_MAX_DEPTH: '2',
  GRAPHQL_MAX_COST: '10',
  GRAPHQL_MAX_DIRECTIVES: '2',
  GRAPHQL_MAX_TOKENS: '40',
  GRAPHQL_MAX_QUERY_LENGTH: '200',
  GRAPHQL_MAX_BODY_BYTES: '2048',
};

beforeAll(async () => {
  issuer = await startTestIssuer();
  [server, limited, production] = await Promise.all([
    startTestServer({ issuer }),
    startTestServer({ issuer, env: LIMITS }),
    startTestServer({ issuer, production: true }),
  ]);
});

afterAll(async () => {
  await Promise.all([server.close(), limited.close(), production.close()]);
  await issuer.close();
});

const json = { 'content-type': 'application/json' };

async function postBody(s: TestServer, body: string, headers: Record<string, string> = json) {
  const res = await fetch(s.url, { method: 'POST', headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text };
}

describe('query limits over HTTP', () => {
  it('should answer a query within every limit', async () => {
    const res = await limited.post('{ a: hello b: hello me @include(if: true) { id } }', bearer(await issuer.mintToken()));
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ a: 'Hello World!', b: 'Hello World!', me: { id: issuer.demoUser.sub } });
  });

  it.each<[string, string, string]>([
    ['aliases', '{ a: hello b: hello c: hello }', 'TOO_MANY_ALIASES'],
    ['depth', '{ me { ... on User { id } } }', 'QUERY_TOO_DEEP'],
    ['cost', '{ me { id username name email emailVerified locale } }', 'QUERY_TOO_COSTLY'],
    ['directives', '{ hello @include(if: true) me @skip(if: false) { id @include(if: true) } }', 'TOO_MANY_DIRECTIVES'],
    ['tokens', `{${' a'.repeat(39)} }`, 'TOO_MANY_TOKENS'],
    ['characters', `{ hello } #${'x'.repeat(190)}`, 'QUERY_TOO_LONG'],
  ])('should refuse a query over the %s limit with 400 before introspecting the token', async (_limit, query, code) => {
    const token = await issuer.mintToken();
    const before = issuer.introspections;
    const res = await limited.post(query, bearer(token));
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ message: expect.any(String), extensions: { code, limit: expect.any(Number) } }]);
    expect(res.text).not.toContain(token);
    expect(res.text).not.toContain('hello');
    expect(issuer.introspections).toBe(before);
  });

  it('should apply the character limit to GET queries', async () => {
    const get = (query: string) =>
      fetch(`${limited.url}?query=${encodeURIComponent(query)}`, { headers: { 'apollo-require-preflight': 'true' } }).then(async (res) => ({ status: res.status, body: (await res.json()) as { errors?: { extensions: { code: string } }[] } }));
    const atLimit = await get(`{ __typename }${' '.repeat(200 - 14)}`);
    expect(atLimit.status).toBe(200);
    const over = await get(`{ __typename }${' '.repeat(201 - 14)}`);
    expect(over.status).toBe(400);
    expect(over.body.errors?.[0]?.extensions.code).toBe('QUERY_TOO_LONG');
  });
});

describe('request body limit', () => {
  const bodyOf = (bytes: number) => {
    const empty = JSON.stringify({ query: '{ __typename }', variables: { pad: '' } });
    return JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(bytes - empty.length) } });
  };

  it('should take a body of exactly GRAPHQL_MAX_BODY_BYTES', async () => {
    const res = await postBody(limited, bodyOf(2048));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ data: { __typename: 'Query' } });
  });

  it('should answer one byte more with 413 and a JSON error that does not quote the body', async () => {
    const res = await postBody(limited, bodyOf(2049));
    expect(res.status).toBe(413);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(res.text)).toEqual({ errors: [{ message: 'The request body is larger than 2048 bytes.', extensions: { code: 'BODY_TOO_LARGE' } }] });
  });

  it('should refuse a body over the default 1 MB', async () => {
    const res = await postBody(server, JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(1024 * 1024) } }));
    expect(res.status).toBe(413);
    expect(JSON.parse(res.text).errors[0].extensions.code).toBe('BODY_TOO_LARGE');
  });
});

describe('request headers', () => {
  const request = (bytes: number) =>
    rawRequest(server.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(bytes)}\r\nConnection: close\r\n\r\n`);

  it('should accept headers within Node’s limit (16 KiB)', async () => {
    expect(await request(15_000)).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('should answer headers over it with 431', async () => {
    expect(await request(17_000)).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe('batched requests', () => {
  const batch = JSON.stringify([{ query: '{ hello }' }, { query: '{ me { id } }' }]);

  it('should be refused with 400 by default, before introspecting', async () => {
    const before = issuer.introspections;
    const res = await postBody(server, batch, { ...json, ...bearer(await issuer.mintToken()) });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text).errors[0]).toMatchObject({ message: 'Operation batching disabled.', extensions: { code: 'BAD_REQUEST' } });
    expect(issuer.introspections).toBe(before);
  });

  it('should be answered with GRAPHQL_BATCHING=1, one introspection for the whole batch', async () => {
    const batching = await startTestServer({ issuer, env: { GRAPHQL_BATCHING: '1' } });
    try {
      const before = issuer.introspections;
      const res = await postBody(batching, batch, { ...json, ...bearer(await issuer.mintToken()) });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toEqual([{ data: { hello: 'Hello World!' } }, { data: { me: { id: issuer.demoUser.sub } } }]);
      expect(issuer.introspections).toBe(before + 1);
    } finally {
      await batching.close();
    }
  });

  it('should apply the limits to every operation of a batch, and to its length', async () => {
    const batching = await startTestServer({ issuer, env: { ...LIMITS, GRAPHQL_BATCHING: '1', GRAPHQL_MAX_BATCH: '3' } });
    try {
      const long = await postBody(batching, JSON.stringify(Array.from({ length: 4 }, () => ({ query: '{ hello }' }))), { ...json, ...bearer(await issuer.mintToken()) });
      expect(long.status).toBe(400);
      expect(JSON.parse(long.text)).toEqual({ errors: [{ message: 'The batch has more than 3 operations.', extensions: { code: 'BATCH_TOO_LARGE', limit: 3 } }] });
      const tooLong = JSON.stringify([{ query: '{ __typename }' }, { query: `{ __typename } #${'x'.repeat(200)}` }]);
      const res = await postBody(batching, tooLong);
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text).errors[0].extensions.code).toBe('QUERY_TOO_LONG');
      const tooDeep = await postBody(batching, JSON.stringify([{ query: '{ __typename }' }, { query: '{ me { ... on User { id } } }' }]));
      expect(JSON.parse(tooDeep.text)[1].errors[0].extensions.code).toBe('QUERY_TOO_DEEP');
    } finally {
      await batching.close();
    }
  });
});

describe('operation names', () => {
  it('should refuse one longer than 256 characters with 400 before anything runs, and never echo or log it', async () => {
    const name = `Op${'x'.repeat(300)}`;
    const token = await issuer.mintToken();
    const before = issuer.introspections;
    const res = await postBody(server, JSON.stringify({ query: `query ${name} { hello }`, operationName: name }), { ...json, ...bearer(token) });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toEqual({ errors: [{ message: 'The operation name is longer than 256 characters.', extensions: { code: 'OPERATION_NAME_TOO_LONG', limit: 256 } }] });
    expect(issuer.introspections).toBe(before);
    await until(() => server.logs.some((line) => line.includes(`"reqId":"${res.headers.get('x-request-id')}"`)), 'the request line');
    expect(server.logs.join('')).not.toContain(name.slice(0, 257));
  });

  it('should log a long name of the document itself only in part', async () => {
    const name = `Op${'y'.repeat(400)}`;
    const res = await server.post(`query ${name} { __typename }`);
    expect(res.status).toBe(200);
    await until(() => server.logs.some((line) => line.includes(`"reqId":"${res.headers.get('x-request-id')}"`)), 'the request line');
    const line = server.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.reqId === res.headers.get('x-request-id'));
    expect(line?.operationName).toBe(`${name.slice(0, 256)}…`);
  });
});

describe('CSRF prevention', () => {
  it('should refuse a text/plain POST (a form a browser can send anywhere) with 400', async () => {
    const before = issuer.introspections;
    const res = await postBody(server, JSON.stringify({ query: '{ hello }' }), { 'content-type': 'text/plain', ...bearer(await issuer.mintToken()) });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/CSRF/);
    expect(issuer.introspections).toBe(before);
  });
});

describe('request deadline', () => {
  it('should answer 503 REQUEST_TIMEOUT at the deadline and stop the request’s work', async () => {
    // The introspection timeout is longer than the deadline: only the deadline can end it.
    const slow = await startTestServer({ issuer, timeoutMs: 10_000, env: { GRAPHQL_REQUEST_TIMEOUT_MS: '500' } });
    const token = await issuer.mintToken();
    let release = () => {};
    issuer.fault = { kind: 'hold', until: new Promise<void>((resolve) => (release = resolve)) };
    try {
      const res = await slow.post('{ hello }', bearer(token));
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.body).toEqual({ errors: [{ message: 'The request did not complete within 500 ms; retry later.', extensions: { code: 'REQUEST_TIMEOUT' } }] });
      expect(res.text).not.toContain(token);
      // The request's execution ends while ZITADEL still holds the introspection.
      await until(() => slow.logs.some((line) => line.includes('dropped the result of a request past its deadline')), 'the dropped-result log line');
      expect(slow.app.auth.cache.size).toBe(0);
    } finally {
      issuer.fault = undefined;
      release();
    }
    try {
      // The introspection it started still finishes and serves the client's retry.
      await until(() => slow.app.auth.cache.size === 1, 'the verdict cached');
      const before = issuer.introspections;
      expect((await slow.post('{ hello }', bearer(token))).body.data).toEqual({ hello: 'Hello World!' });
      expect(issuer.introspections).toBe(before);
      expect(slow.logs.filter((line) => JSON.parse(line).level >= 50)).toEqual([]);
    } finally {
      await slow.close();
    }
  });

  it('should not run an operation whose body arrived after the deadline', async () => {
    const slow = await startTestServer({ issuer, env: { GRAPHQL_REQUEST_TIMEOUT_MS: '300' } });
    const [token, next] = [await issuer.mintToken(), await issuer.mintToken()];
    const body = JSON.stringify({ query: '{ hello }' });
    const request = (bearerToken: string) => `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer ${bearerToken}\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { hostname, port } = new URL(slow.url);
    const socket = connect(Number(port), hostname);
    try {
      await once(socket, 'connect');
      socket.write(`${request(token)}${body.slice(0, 5)}`);
      const [reply] = (await once(socket, 'data')) as [Buffer];
      expect(reply.toString('latin1')).toMatch(/^HTTP\/1\.1 503 /);
      const before = issuer.introspections;
      // The rest of the body, then another request on the same connection: the server reads it
      // only after the late body, and answers it after its own introspection. By then the late
      // operation, had it run, would have asked the issuer first.
      socket.write(`${body.slice(5)}${request(next)}${body}`);
      const [second] = (await once(socket, 'data')) as [Buffer];
      expect(second.toString('latin1')).toMatch(/^HTTP\/1\.1 200 /);
      expect(issuer.introspections).toBe(before + 1);
    } finally {
      socket.destroy();
      await slow.close();
    }
  });

  it('should answer 503 to a client that never finishes sending its body', async () => {
    const slow = await startTestServer({ issuer, env: { GRAPHQL_REQUEST_TIMEOUT_MS: '300' } });
    try {
      const reply = await rawRequest(slow.url, 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":');
      expect(reply).toMatch(/^HTTP\/1\.1 503 /);
      expect(reply).toContain('"code":"REQUEST_TIMEOUT"');
    } finally {
      await slow.close();
    }
  });
});

describe('in production', () => {
  it('should hide field suggestions', async () => {
    const res = await production.post('{ helo }');
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toBe('Cannot query field "helo" on type "Query".');
    expect((await server.post('{ helo }')).body.errors?.[0]?.message).toMatch(/Did you mean "hello"\?/);
  });

  it('should allow introspection and suggestions with GRAPHQL_INTROSPECTION=1', async () => {
    const open = await startTestServer({ issuer, production: true, env: { GRAPHQL_INTROSPECTION: '1' } });
    try {
      expect((await open.post('{ __schema { queryType { name } } }')).body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
      expect((await open.post('{ helo }')).body.errors?.[0]?.message).toMatch(/Did you mean "hello"\?/);
    } finally {
      await open.close();
    }
  });

  it('should send no stack trace with any error', async () => {
    const token = await issuer.mintToken();
    const responses = await Promise.all([
      production.post('{ hello ', bearer(token)),
      production.post('{ helo }', bearer(token)),
      production.post('{ __schema { types { name } } }', bearer(token)),
      production.post(`{${' a: hello'.repeat(16)} }`, bearer(token)),
      production.post('{ hello }', bearer('not a token!')),
      production.post('{ hello }'),
      postBody(production, '{"query": '),
      postBody(production, '[{"query":"{ hello }"}]'),
      postBody(production, JSON.stringify({ query: '{ hello }' }), { 'content-type': 'text/plain' }),
    ]);
    for (const { status, text } of responses) {
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(500);
      expect(text).not.toMatch(/stacktrace|\n\s+at |node_modules/);
    }
  });
});
