import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import { HttpResponseTooLargeError, HttpTimeoutError, createHttpClient, type HttpClient } from '../../src/auth/zitadel/httpClient.js';
import { close, listen } from '../helpers/net.js';

let server: http.Server;
let base: string;
let connections = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url === '/slow') {
        // Later than any client waits; cancelled when the client gives up, so no timer outlives the test.
        const late = setTimeout(() => res.end('late'), 1000);
        res.once('close', () => clearTimeout(late));
        return;
      }
      if (req.url === '/huge') return void res.end('x'.repeat(2 * 1024 * 1024));
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, body, contentLength: req.headers['content-length'], accept: req.headers.accept }));
    });
  });
  server.on('connection', () => (connections += 1));
  base = `http://127.0.0.1:${await listen(server)}`;
});

afterAll(() => close(server));

describe('createHttpClient', () => {
  let client: HttpClient;
  beforeEach(() => {
    client = createHttpClient();
  });
  afterEach(() => client.close());

  it('should send a form body and read the answer', async () => {
    const res = await client.send({ method: 'POST', url: new URL(`${base}/echo`), body: 'token=a%20b', headers: { 'content-type': 'application/x-www-form-urlencoded' }, timeoutMs: 1000 });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ method: 'POST', body: 'token=a%20b', contentLength: '11', accept: 'application/json' });
  });

  it('should reuse one connection for sequential calls (keep-alive)', async () => {
    const before = connections;
    for (let i = 0; i < 5; i += 1) await client.send({ method: 'GET', url: new URL(`${base}/echo`), timeoutMs: 1000 });
    expect(connections - before).toBe(1);
  });

  it('should give up after the timeout with HttpTimeoutError', async () => {
    await expect(client.send({ method: 'GET', url: new URL(`${base}/slow`), timeoutMs: 100 })).rejects.toBeInstanceOf(HttpTimeoutError);
  });

  it('should refuse a response over 1 MiB', async () => {
    await expect(client.send({ method: 'GET', url: new URL(`${base}/huge`), timeoutMs: 5000 })).rejects.toBeInstanceOf(HttpResponseTooLargeError);
  });

  it('should report a refused connection', async () => {
    await expect(client.send({ method: 'GET', url: new URL('http://127.0.0.1:1/'), timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
