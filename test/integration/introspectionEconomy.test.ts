import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { bearer, startTestServer, type TestServer } from '../helpers/server.js';

let issuer: TestIssuer;
let cached: TestServer;
let uncached: TestServer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  cached = await startTestServer({ issuer });
  uncached = await startTestServer({ issuer, cache: { maxEntries: 0 } });
});

afterAll(async () => {
  await Promise.all([cached.close(), uncached.close()]);
  await issuer.close();
});

const MANY_PROTECTED_FIELDS = '{ a: hello b: hello me { id username roles } again: me { email scopes expiresAt } }';

describe('introspection economy', () => {
  it('should introspect once per request however many protected fields resolve, even without the cache', async () => {
    const token = await issuer.mintToken();
    const calls = await issuer.introspectionsDuring(async () => {
      const res = await uncached.post(MANY_PROTECTED_FIELDS, bearer(token));
      expect(res.status).toBe(200);
      expect(res.body.data).toMatchObject({ a: 'Hello World!', b: 'Hello World!', me: { id: issuer.demoUser.sub } });
    });
    expect(calls).toBe(1);
    // Without the cross-request cache, the next request asks again: the per-request memo is per request.
    expect(await issuer.introspectionsDuring(() => uncached.post(MANY_PROTECTED_FIELDS, bearer(token)))).toBe(1);
  });

  it('should cost no introspection when no protected field is asked for', async () => {
    const token = await issuer.mintToken();
    const calls = await issuer.introspectionsDuring(async () => {
      const res = await uncached.post('{ __typename }', bearer(token));
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ __typename: 'Query' });
    });
    expect(calls).toBe(0);
  });

  it('should reuse the verdict across requests while the token is cached', async () => {
    const token = await issuer.mintToken();
    const calls = await issuer.introspectionsDuring(async () => {
      for (let i = 0; i < 5; i += 1) expect((await cached.post('{ hello }', bearer(token))).status).toBe(200);
    });
    expect(calls).toBe(1);
  });

  it('should remember an inactive token briefly instead of asking again', async () => {
    const calls = await issuer.introspectionsDuring(async () => {
      for (let i = 0; i < 3; i += 1) expect((await cached.post('{ hello }', bearer('no-such-token'))).status).toBe(401);
    });
    expect(calls).toBe(1);
  });

  it('should share one introspection among concurrent cold requests for one token', async () => {
    const token = await issuer.mintToken();
    const calls = await issuer.introspectionsDuring(async () => {
      const responses = await Promise.all(Array.from({ length: 50 }, () => cached.post('{ hello me { id } }', bearer(token))));
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    });
    expect(calls).toBe(1);
  });

  it('should judge every request by its own token when one keep-alive connection carries several', async () => {
    const alice = await issuer.mintToken();
    const bob = await issuer.mintToken({ user: { sub: '200000000000000099', username: 'bob@demo.localhost' } });
    const revoked = await issuer.mintToken();
    await issuer.revokeToken(revoked);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const post = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: { data?: { me?: { id: string } | null } | null } }>((resolve, reject) => {
        const req = http.request(cached.url, { method: 'POST', agent, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as never }));
        });
        req.once('socket', (socket) => sockets.add(socket));
        req.once('error', reject);
        req.end(JSON.stringify({ query: '{ me { id } }' }));
      });
    try {
      const answers = [];
      for (const headers of [bearer(alice), bearer(alice), bearer('made-up'), bearer(bob), {}, bearer(revoked), bearer(alice), { authorization: 'Basic x' }, bearer(alice)]) {
        answers.push(await post(headers));
      }
      expect(sockets.size).toBe(1);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 401, 200, 401, 401, 200, 401, 200]);
      expect(answers.map((a) => a.body.data?.me?.id ?? null)).toEqual([
        issuer.demoUser.sub, issuer.demoUser.sub, null, '200000000000000099', null, null, issuer.demoUser.sub, null, issuer.demoUser.sub,
      ]);
    } finally {
      agent.destroy();
    }
  });
});
