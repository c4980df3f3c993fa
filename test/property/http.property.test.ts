import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { rawRequest } from '../helpers/raw.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let issuer: TestIssuer;
let server: TestServer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  server = await startTestServer({ issuer });
});

afterAll(async () => {
  await server.close();
  await issuer.close();
});

/** Header values as bytes on the wire: printable, control characters, Latin-1, scheme-like. */
const headerValue = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary-ascii', maxLength: 100 }),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)), maxLength: 100 }),
  fc.tuple(fc.constantFrom('Bearer ', 'bearer  ', 'Basic ', 'Bearer\t', ''), fc.string({ maxLength: 100 })).map(([a, b]) => a + b),
);

describe('the HTTP edge (property)', () => {
  it('should answer any Authorization header with a 2xx/4xx, never a 5xx, never echoing it', async () => {
    await fc.assert(
      fc.asyncProperty(headerValue, async (value) => {
        const body = '{"query":"{ hello }"}';
        // CR/LF would end the header early: the bytes after them are a header or body of their own.
        const reply = await rawRequest(
          server.url,
          `POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nAuthorization: ${value}\r\nConnection: close\r\n\r\n${body}`,
        );
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1]);
        expect(status).toBeGreaterThanOrEqual(200);
        expect(status).toBeLessThan(500);
        const token = value.replace(/^\s*bearer\s+/i, '').trim();
        if (token.length >= 8) expect(reply.slice(reply.indexOf('\r\n\r\n'))).not.toContain(token);
      }),
      { numRuns: 150 },
    );
  });
});
