import { HeaderMap, type ApolloServer, type HTTPGraphQLRequest } from '@apollo/server';
import bodyParser from 'body-parser';
import { parse as parseContentType } from 'content-type';
import cors from 'cors';
import http, { type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CorsOrigins, GraphQLConfig } from '../config.js';
import type { GraphQLContext } from '../graphql/context.js';
import { Deadlines, type Deadline } from './deadline.js';
import { ErrorCode, RequestTimeoutError } from '../graphql/errors.js';
import { addressedToLoopback, isLoopbackOrigin } from './loopback.js';
import type { Metrics } from '../observability/metrics.js';
import { requestShapeError } from '../graphql/queryLimits.js';
import { requestLineWriter } from '../observability/requestLine.js';
import { RequestRecord, requestIdFrom } from './requestRecord.js';

export interface HttpEdgeOptions {
  readonly apollo: ApolloServer<GraphQLContext>;
  /** `peer`: the client's address as the request arrived. */
  readonly context: (req: IncomingMessage, deadline: Deadline, record: RequestRecord, peer: string | undefined) => GraphQLContext;
  /** Readiness: true once the issuer's metadata is known; `detail` goes into the body. */
  readonly ready: () => { readonly ready: boolean; readonly detail?: Readonly<Record<string, unknown>> };
  readonly corsOrigins: CorsOrigins;
  readonly graphql: Pick<GraphQLConfig, 'limits' | 'maxBodyBytes' | 'requestTimeoutMs' | 'maxBatch'>;
  readonly logger: Logger;
  /** Served at GET /metrics, and told of every GraphQL request that ends. */
  readonly metrics?: Metrics;
  /**
   * Answer only requests addressed to a loopback host (`Host: localhost:4000`, `127.0.0.1`,
   * `[::1]`): the development issuer's server. A web page whose own host name was made to
   * resolve to 127.0.0.1 (DNS rebinding) is then refused, and cannot read the Sandbox's token.
   */
  readonly loopbackHostOnly?: boolean;
  /** The in-browser IDE (outside production): answers its own requests, returns false for others. */
  readonly playground?: (req: IncomingMessage, res: ServerResponse) => boolean;
}

export const GRAPHQL_PATH = '/graphql';

/** Retry-After of a request that missed its deadline. */
const TIMEOUT_RETRY_AFTER_SECONDS = 1;

type Next = (error?: unknown) => void;

/**
 * The node:http edge: turns a Node request into Apollo's HTTPGraphQLRequest and back (as
 * Apollo's standalone server does), with each request's id, deadline, log line and metrics, plus
 * the health and metrics endpoints. Nothing about auth here.
 */
export function createHttpServer(options: HttpEdgeOptions): http.Server {
  const { apollo, context, ready, logger, metrics } = options;
  const writeRequestLine = requestLineWriter(logger);
  const { limits, maxBodyBytes, requestTimeoutMs, maxBatch } = options.graphql;
  const deadlines = new Deadlines(requestTimeoutMs);
  // Requested headers are reflected (Sandbox users add their own); credentials travel in
  // Authorization, never in cookies, so no credentialed CORS is offered.
  // A web front end must be able to read why it was refused and when to retry.
  const corsHandler = cors({
    origin: corsOrigin(options.corsOrigins),
    maxAge: 600,
    exposedHeaders: ['WWW-Authenticate', 'Retry-After', 'X-Request-Id'],
  });
  const jsonHandler = bodyParser.json({ limit: maxBodyBytes, type: isJsonRequest });
  // Fixed messages: a JSON parse error would quote the body back.
  const bodyErrors: Record<number, [code: string, message: string]> = {
    400: ['BAD_REQUEST', 'The request body is not valid JSON.'],
    413: [ErrorCode.BodyTooLarge, `The request body is larger than ${maxBodyBytes} bytes.`],
    415: ['BAD_REQUEST', 'Unsupported request body encoding; send UTF-8 JSON.'],
  };

  function sendError(res: ServerResponse, record: RequestRecord, status: number, code: string, message: string, extra: OutgoingHttpHeaders = {}): void {
    record.outcome = code;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    sendJson(res, status, { errors: [{ message, extensions: { code } }] }, { ...graphqlHeaders(record), ...extra });
  }

  /** The request's one log line (never a header, so never a token) and its metrics. */
  function ended(record: RequestRecord, res: ServerResponse): void {
    // 499 (as nginx logs it): the client went away before the response was finished.
    const status = res.writableFinished ? res.statusCode : 499;
    if (record.outcome === 'OK' && status >= 400) {
      record.outcome = status === 499 ? 'CLIENT_CLOSED_REQUEST' : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST';
    }
    metrics?.requestEnded(record, status);
    if (!logger.isLevelEnabled('info')) return;
    writeRequestLine({
      reqId: record.id,
      operationName: record.operationName,
      outcome: record.outcome,
      status,
      ms: round(performance.now() - record.startedAt),
      auth: record.auth,
      authMs: record.authMs === null ? null : round(record.authMs),
      authFailure: record.authFailure,
    });
  }

  function graphql(req: IncomingMessage, res: ServerResponse): void {
    const record = new RequestRecord(requestIdFrom(req.headers));
    // Read now: once the client has reset its connection its address is gone.
    const peer = req.socket.remoteAddress;
    // The deadline runs from the request's arrival (body upload included) to the response.
    const deadline = deadlines.start(() => {
      if (res.writableEnded) return;
      const error = new RequestTimeoutError(requestTimeoutMs);
      deadline.expire(error);
      logger.warn({ reqId: record.id, timeoutMs: requestTimeoutMs }, 'request exceeded its deadline');
      // Like every 503: when to try again (the slow work goes on, and a verdict it finds is cached).
      sendError(res, record, 503, error.code, error.message, { 'retry-after': String(TIMEOUT_RETRY_AFTER_SECONDS) });
    });
    // 'close' comes once per response: `on` spares once()'s wrapper and its removal.
    res.on('close', () => {
      deadlines.settle(deadline);
      ended(record, res);
    });

    const fail: Next = (error) => {
      if (deadline.expired) return;
      // body-parser's errors carry a client status (400 bad JSON, 413 too large, 415 charset).
      const status = (error as { status?: number } | undefined)?.status;
      if (status && status >= 400 && status < 500) {
        const [code, message] = bodyErrors[status] ?? ['BAD_REQUEST', 'Bad request.'];
        sendError(res, record, status, code, message);
      } else {
        logger.error({ reqId: record.id, err: error }, 'request failed');
        sendError(res, record, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error.');
      }
    };
    const parseBody = () =>
      jsonHandler(req, res, (parseError?: unknown) => {
        // The body arrived after the deadline: the client has its 503, the operation must not run.
        if (deadline.expired) return;
        if (parseError) return fail(parseError);
        const headers = new HeaderMap();
        for (const [key, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
        }
        const target = req.url ?? '/';
        const query = target.indexOf('?');
        const request: HTTPGraphQLRequest = {
          method: (req.method ?? 'GET').toUpperCase(),
          headers,
          // The query string as URL#search has it ('' when absent); Apollo parses it.
          search: query === -1 || query === target.length - 1 ? '' : target.slice(query),
          body: (req as { body?: unknown }).body,
        };
        const refused = requestShapeError(request.method, request.body, request.search, { maxQueryLength: limits.maxQueryLength, maxBatch });
        if (refused) {
          record.outcome = refused.limitCode;
          return sendJson(res, 400, { errors: [refused.toFormatted()] }, graphqlHeaders(record));
        }
        apollo
          .executeHTTPGraphQLRequest({ httpGraphQLRequest: request, context: async () => context(req, deadline, record, peer) })
          .then(async (response) => {
            if (deadline.expired) {
              // The client already has its 503; the request's work has ended, its result is dropped.
              logger.debug({ reqId: record.id }, 'dropped the result of a request past its deadline');
              return;
            }
            // One writeHead with every header: Node then skips its per-setHeader bookkeeping.
            // Headers written up front get no Content-Length from end(): give it, or the answer
            // goes out chunked.
            const headers = graphqlHeaders(record);
            for (const [key, value] of response.headers) headers[key] = value;
            const status = response.status ?? 200;
            if (response.body.kind === 'complete') {
              headers['content-length'] = Buffer.byteLength(response.body.string);
              res.writeHead(status, headers).end(response.body.string);
              return;
            }
            res.writeHead(status, headers);
            for await (const chunk of response.body.asyncIterator) res.write(chunk);
            res.end();
          })
          .catch(fail);
      });
    // CORS headers matter only to browsers, which send Origin on every cross-origin request
    // (and on same-origin POSTs); curl, servers and routers skip the middleware. A page for a
    // browser tab (Apollo Sandbox, which may hold the development token) is never for another
    // origin to read.
    if (req.headers.origin === undefined || (req.method === 'GET' && req.headers.accept?.includes('text/html'))) parseBody();
    else corsHandler(req, res, (corsError?: unknown) => (corsError ? fail(corsError) : parseBody()));
  }

  const server = http.createServer((req, res) => {
    if (options.loopbackHostOnly && !addressedToLoopback(req.headers.host)) {
      return sendJson(res, 403, { errors: [{ message: 'This development server answers requests to localhost only.', extensions: { code: 'HOST_NOT_ALLOWED' } }] });
    }
    if (options.playground?.(req, res)) return;
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    switch (path) {
      case GRAPHQL_PATH:
        return graphql(req, res);
      case '/healthz':
        return sendJson(res, 200, { status: 'ok' });
      case '/readyz': {
        const { ready: isReady, detail } = ready();
        return isReady ? sendJson(res, 200, { status: 'ready', ...detail }) : sendJson(res, 503, { status: 'not ready: waiting for ZITADEL', ...detail });
      }
      case '/metrics':
        return metrics ? serveMetrics(metrics, res) : notFound(res);
      case '/':
        res.writeHead(302, { location: GRAPHQL_PATH }).end();
        return;
      default:
        return notFound(res);
    }
  });
  server.once('close', () => deadlines.stop());
  return server;

  function serveMetrics(metrics: Metrics, res: ServerResponse): void {
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (error: unknown) => {
        logger.error({ err: error }, 'metrics collection failed');
        sendJson(res, 500, { errors: [{ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      },
    );
  }
}

/** Apollo's Sandbox and Studio, which call the API from their own origins. */
const APOLLO_ORIGINS = ['https://sandbox.embed.apollographql.com', 'https://studio.apollographql.com'];

type OriginCheck = (origin: string | undefined, callback: (error: Error | null, allow?: boolean) => void) => void;

function corsOrigin(origins: CorsOrigins): '*' | string[] | OriginCheck {
  if (origins === '*') return '*';
  if (origins !== 'development') return [...origins];
  // Loopback origins, any port (front ends in development), and Apollo's Sandbox and Studio.
  return (origin, callback) => callback(null, origin !== undefined && (isLoopbackOrigin(origin) || APOLLO_ORIGINS.includes(origin)));
}

function notFound(res: ServerResponse): void {
  sendJson(res, 404, { errors: [{ message: `Not found; the GraphQL endpoint is ${GRAPHQL_PATH}`, extensions: { code: 'NOT_FOUND' } }] });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * The body is JSON to parse when its media type is application/json, as body-parser's default
 * decides, read with one parse of the header instead of type-is's general matching.
 */
function isJsonRequest(req: IncomingMessage): boolean {
  const type = req.headers['content-type'];
  if (type === undefined) return false;
  // What nearly every client sends, answered without a parse.
  if (type === 'application/json') return true;
  try {
    return parseContentType(req).type === 'application/json';
  } catch {
    return false;
  }
}

/** Headers of every answer to a GraphQL request, whatever its outcome. */
function graphqlHeaders(record: RequestRecord): OutgoingHttpHeaders {
  // Answers depend on the caller: no shared cache may keep them (Apollo's cache-control plugin,
  // which we leave out, would say the same).
  return { 'x-request-id': record.id, 'cache-control': 'no-store' };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}
