import { createApp, type App, type AppConfig, type AppDeps } from '../../src/app.js';
import { loadGraphQLConfig, privateKeyJwtCredentials, type CacheConfig, type ClientCredentials, type RedisConfig } from '../../src/config.js';
import { memoryLog } from './logs.js';
import type { TestIssuer } from './issuer.js';

export interface TestServer {
  readonly url: string;
  readonly app: App;
  /** Every log line the server wrote. */
  readonly logs: string[];
  post(query: string, headers?: Record<string, string>): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

export interface GraphQLResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  };
}

export interface TestServerOptions {
  readonly issuer: TestIssuer | { readonly issuer: string; readonly keyJson: string; readonly projectId?: string };
  readonly cache?: Partial<CacheConfig>;
  /** A shared verdict cache; `timeoutMs` defaults to the production 250. */
  readonly redis?: { readonly url: string; readonly timeoutMs?: number };
  readonly timeoutMs?: number;
  /** Default: the issuer's key; null: none (JWT validation needs none). */
  readonly credentials?: ClientCredentials | null;
  readonly tokenValidation?: AppConfig['tokenValidation'];
  readonly production?: boolean;
  readonly federation?: boolean;
  readonly federationAuthLink?: AppConfig['federationAuthLink'];
  /** Default: generous (1000/s, 100 in flight), so only tests about the budget meet it. */
  readonly introspectionBudget?: AppConfig['introspectionBudget'];
  /** The clock of ZITADEL's answers (breaker, key store, JWT validation); default Date.now. */
  readonly now?: AppDeps['now'];
  /** Default: the breaker's threshold and the key store's cooldowns, with short retries, probes and discovery backoff. */
  readonly timings?: AppDeps['timings'];
  /** As without ZITADEL_ISSUER: answer requests to a loopback Host only. */
  readonly loopbackHostOnly?: boolean;
  /** TRUST_PROXY_HOPS; default 0. */
  readonly trustProxyHops?: number;
  /** Default `*`. */
  readonly corsOrigins?: AppConfig['corsOrigins'];
  /** Outside production; default: GraphiQL, no headers, no login. */
  readonly playground?: AppConfig['playground'];
  /** GRAPHQL_* variables, read as loadConfig reads them. */
  readonly env?: Record<string, string>;
}

/** Our real server on a free loopback port, logging into memory. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const { logger, lines: logs } = memoryLog();
  const app = createApp(
    {
      zitadel: {
        issuer: new URL(options.issuer.issuer),
        credentials: options.credentials === null ? undefined : (options.credentials ?? privateKeyJwtCredentials(options.issuer.keyJson, 'test key')),
        projectId: options.issuer.projectId,
        timeoutMs: options.timeoutMs ?? 2000,
      },
      cache: { maxEntries: 1000, maxTtlMs: 300_000, negativeTtlMs: 10_000, ...options.cache },
      redis: options.redis && ({ timeoutMs: 250, ...options.redis } satisfies RedisConfig),
      playground: options.production ? undefined : (options.playground ?? { default: 'graphiql' }),
      corsOrigins: options.corsOrigins ?? '*',
      loopbackHostOnly: options.loopbackHostOnly ?? false,
      trustProxyHops: options.trustProxyHops ?? 0,
      graphql: loadGraphQLConfig(options.env ?? {}, options.production ?? false),
      federation: options.federation ?? false,
      federationAuthLink: options.federationAuthLink ?? 'security',
      introspectionBudget: options.introspectionBudget ?? { ratePerSecond: 1000, concurrency: 100 },
      tokenValidation: options.tokenValidation ?? 'introspection',
    },
    {
      logger,
      ...(options.now ? { now: options.now } : {}),
      timings: {
        discoveryBackoff: { initialMs: 50, maxMs: 200 },
        ...options.timings,
        guard: { retryBaseDelayMs: 5, probe: { initialMs: 50, maxMs: 200 }, ...options.timings?.guard },
      },
    },
  );
  const url = (await app.listen(0, '127.0.0.1'));
  return {
    url,
    app,
    logs,
    async post(query, headers = {}) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query }),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text, body: JSON.parse(text) as GraphQLResponse['body'] };
    },
    close: () => app.close(),
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
