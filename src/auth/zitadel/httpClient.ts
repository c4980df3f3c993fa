import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** The outbound HTTP seam: discovery and introspection take one, so tests and benchmarks can swap it. */
export interface HttpClient {
  send(request: HttpRequest): Promise<HttpResponse>;
  close(): void;
}

/** No answer within the request's timeout. */
export class HttpTimeoutError extends Error {
  readonly code = 'HTTP_TIMEOUT';
  override name = 'HttpTimeoutError';
}

/** The answer was larger than we are willing to buffer. */
export class HttpResponseTooLargeError extends Error {
  readonly code = 'HTTP_RESPONSE_TOO_LARGE';
  override name = 'HttpResponseTooLargeError';
}

const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * node:http with keep-alive agents: per call it costs a fraction of the CPU of the global
 * fetch, and reusing connections to ZITADEL spares a TCP + TLS handshake per introspection.
 * The timeout covers the whole exchange, from connect to the last body byte.
 */
export function createHttpClient(options: { maxSockets?: number } = {}): HttpClient {
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, scheduling: 'lifo' as const };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };

  return {
    send(request) {
      return new Promise<HttpResponse>((resolve, reject) => {
        const isHttps = request.url.protocol === 'https:';
        const transport = isHttps ? https : http;
        const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
        if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));

        const req = transport.request(request.url, {
          method: request.method,
          headers,
          agent: isHttps ? agents['https:'] : agents['http:'],
        });
        // A promise settles once, so the first failure wins (ours before the socket's echo of it).
        const fail = (error: Error) => {
          clearTimeout(timer);
          reject(error);
          req.destroy();
        };
        const timer = setTimeout(
          () => fail(new HttpTimeoutError(`no answer from ${request.url.origin} within ${request.timeoutMs} ms`)),
          request.timeoutMs,
        );
        req.on('error', fail);
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              fail(new HttpResponseTooLargeError(`response from ${request.url.origin} exceeds ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('error', fail);
          res.on('end', () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
          });
        });
        req.end(request.body);
      });
    },
    close() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
