import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { rawRequest } from '../helpers/raw.js';
import { bearer, startTestServer, type TestServer } from '../helpers/server.js';

let issuer: TestIssuer;
let server: TestServer;
let production: TestServer;
let token: string;

beforeAll(async () => {
  issuer = await startTestIssuer();
  server = await startTestServer({ issuer });
  production = await startTestServer({ issuer, production: true });
  token = await issuer.mintToken();
});

afterAll(async () => {
  await Promise.all([server.close(), production.close()]);
  await issuer.close();
});

const origin = (s: TestServer) => new URL(s.url).origin;

describe('HTTP surface', () => {
  it('should answer GET queries that carry a preflight-forcing header', async () => {
    const res = await fetch(`${server.url}?query=${encodeURIComponent('{ hello }')}`, {
      headers: { ...bearer(token), 'apollo-require-preflight': 'true' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { hello: 'Hello World!' } });
  });

  it('should refuse a GET query without one (CSRF prevention)', async () => {
    const res = await fetch(`${server.url}?query=${encodeURIComponent('{ hello }')}`, { headers: bearer(token) });
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/CSRF/);
  });

  it('should answer a body that is not JSON with 400, not 500, and no stack trace', async () => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(token) }, body: '{"query": ' });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ errors: [{ message: 'The request body is not valid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
    expect(text).not.toMatch(/at .*\(|node_modules/);
  });

  it('should answer a syntax error with 400 and no introspection', async () => {
    const before = issuer.introspections;
    const res = await server.post('{ hello ', bearer(await issuer.mintToken()));
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(issuer.introspections).toBe(before);
  });

  it('should refuse headers too large for Node with 431, not 500', async () => {
    const reply = await rawRequest(server.url, `POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\nContent-Length: 0\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('should report liveness and readiness', async () => {
    const live = await fetch(`${origin(server)}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${origin(server)}/readyz`)).status).toBe(200);
  });

  it('should answer unknown paths with 404 JSON', async () => {
    const res = await fetch(`${origin(server)}/nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code).toBe('NOT_FOUND');
  });

  it('should allow cross-origin calls from Apollo Studio and Sandbox', async () => {
    const res = await fetch(server.url, {
      method: 'OPTIONS',
      headers: { origin: 'https://studio.apollographql.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const post = (headers: Record<string, string>) =>
      fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ __typename }' }) });
    const crossOrigin = await post({ origin: 'https://studio.apollographql.com' });
    expect(crossOrigin.status).toBe(200);
    expect(crossOrigin.headers.get('access-control-allow-origin')).toBe('*');
    // So that a web front end can read why it was refused and when to retry.
    expect(crossOrigin.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate,Retry-After,X-Request-Id');
    const refused = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://studio.apollographql.com' }, body: JSON.stringify({ query: '{ hello }' }) });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-expose-headers')).toMatch(/WWW-Authenticate/);
    // Without Origin (curl, a router, another server) there is no browser to tell.
    const direct = await post({});
    expect(direct.status).toBe(200);
    expect(direct.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('should let only loopback origins and Apollo Sandbox read answers in development, where the Sandbox page holds a token', async () => {
    const development = await startTestServer({ issuer, corsOrigins: 'development' });
    try {
      const from = async (origin: string) =>
        (await fetch(development.url, { method: 'POST', headers: { 'content-type': 'application/json', origin }, body: JSON.stringify({ query: '{ __typename }' }) })).headers.get(
          'access-control-allow-origin',
        );
      for (const allowed of ['http://localhost:5173', 'http://127.0.0.1:3000', 'http://[::1]:8080', 'https://localhost:8443', 'https://sandbox.embed.apollographql.com', 'https://studio.apollographql.com']) {
        expect(await from(allowed)).toBe(allowed);
      }
      for (const refused of ['https://evil.example', 'http://localhost.evil.example', 'http://10.0.0.5:3000', 'null', 'http://localhost:3000/path']) expect(await from(refused)).toBeNull();
      // The pages (GraphiQL, and Apollo Sandbox with the development token in it): no other origin reads them, allowed or not.
      for (const origin of ['https://evil.example', 'http://localhost:5173', 'https://studio.apollographql.com']) {
        for (const page of ['', '?sandbox']) {
          const res = await fetch(`${development.url}${page}`, { headers: { accept: 'text/html', origin } });
          expect(res.status).toBe(200);
          expect(res.headers.get('access-control-allow-origin')).toBeNull();
        }
      }
    } finally {
      await development.close();
    }
  });

  it('should answer only requests addressed to a loopback host in development, so DNS rebinding cannot reach it', async () => {
    const development = await startTestServer({ issuer, loopbackHostOnly: true });
    try {
      const { port } = new URL(development.url);
      const status = async (host: string) => (await rawRequest(development.url, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).split(' ')[1];
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost']) expect(await status(host)).toBe('200');
      for (const host of [`evil.example:${port}`, `localhost.evil.example:${port}`, `10.0.0.5:${port}`]) expect(await status(host)).toBe('403');
      const refused = await rawRequest(development.url, `POST /graphql HTTP/1.1\r\nHost: evil.example:${port}\r\nContent-Type: application/json\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{"query":"{ hello }"}`);
      expect(refused).toMatch(/^HTTP\/1\.1 403 [^]*"code":"HOST_NOT_ALLOWED"/);
    } finally {
      await development.close();
    }
  });

  it('should serve GraphiQL to a browser outside production, from this server under a strict CSP, and Apollo Sandbox at ?sandbox', async () => {
    const res = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    const html = await res.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map(([, source]) => source!).filter((source) => !source.startsWith('data:'));
    expect(sources.length).toBeGreaterThanOrEqual(6);
    for (const source of sources) {
      expect(source).toMatch(/^\/playground\//);
      const asset = await fetch(new URL(source, server.url));
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/^text\/(javascript|css); charset=utf-8$/);
      // Revalidated, not downloaded again.
      const again = await fetch(new URL(source, server.url), { headers: { 'if-none-match': asset.headers.get('etag')! } });
      expect(again.status).toBe(304);
    }
    // Only the assets it names: no path reaches another file.
    const traversal = await rawRequest(server.url, 'GET /playground/../package.json HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(traversal).toMatch(/^HTTP\/1\.1 404/);
    for (const name of ['nothing.js', 'constructor', '__proto__', 'toString']) expect((await fetch(new URL(`/playground/${name}`, server.url))).status).toBe(404);
    // A GraphQL client asking for JSON still gets GraphQL.
    const get = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json', 'apollo-require-preflight': '1' } });
    expect(await get.json()).toEqual({ data: { __typename: 'Query' } });
    const sandbox = await fetch(`${server.url}?sandbox`, { headers: { accept: 'text/html' } });
    expect(await sandbox.text()).toContain('embeddable-sandbox');
  });

  it('should open Apollo Sandbox by default with GRAPHQL_PLAYGROUND=sandbox, GraphiQL at ?graphiql', async () => {
    const sandboxFirst = await startTestServer({ issuer, playground: { default: 'sandbox' } });
    try {
      expect(await (await fetch(sandboxFirst.url, { headers: { accept: 'text/html' } })).text()).toContain('embeddable-sandbox');
      expect(await (await fetch(`${sandboxFirst.url}?graphiql`, { headers: { accept: 'text/html' } })).text()).toContain('/playground/graphiql.js');
    } finally {
      await sandboxFirst.close();
    }
  });

  it('should answer with Basic client authentication as well', async () => {
    const basic = await startTestServer({ issuer, credentials: { method: 'client_secret_basic', ...issuer.basicClient } });
    try {
      const res = await basic.post('{ me { id } }', bearer(token));
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ me: { id: issuer.demoUser.sub } });
      const wrong = await startTestServer({ issuer, credentials: { method: 'client_secret_basic', clientId: issuer.basicClient.clientId, clientSecret: 'wrong' } });
      try {
        expect((await wrong.post('{ hello }', bearer(token))).status).toBe(503);
      } finally {
        await wrong.close();
      }
    } finally {
      await basic.close();
    }
  });
});

describe('in production', () => {
  it('should disable GraphQL introspection, GraphiQL and the Sandbox', async () => {
    const res = await production.post('{ __schema { types { name } } }', bearer(token));
    expect(res.status).toBe(400);
    expect(res.body.errors?.[0]?.message).toMatch(/introspection is not allowed/i);
    for (const query of ['', '?sandbox', '?graphiql']) {
      const page = await fetch(`${production.url}${query}`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toMatch(/sandbox|graphiql/i);
    }
    expect((await fetch(new URL('/playground/graphiql.js', production.url))).status).toBe(404);
  });

  it('should still answer authenticated queries', async () => {
    expect((await production.post('{ hello }', bearer(token))).body.data).toEqual({ hello: 'Hello World!' });
  });
});
