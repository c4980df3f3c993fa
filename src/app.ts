import type { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { AddressInfo } from 'node:net';
import type http from 'node:http';
import type { Logger } from 'pino';
import { clientSecretBasic, privateKeyJwt, type ClientAuth } from './auth/zitadel/clientAuth.js';
import { Discovery } from './auth/zitadel/discovery.js';
import { createHttpClient, type HttpClient } from './auth/zitadel/httpClient.js';
import { createIntrospectionClient } from './auth/zitadel/introspection.js';
import { IntrospectionBudget } from './auth/zitadel/budget.js';
import { IntrospectionGuard, type IntrospectionGuardOptions } from './auth/zitadel/guard.js';
import { JwksStore, type JwksStoreOptions } from './auth/zitadel/jwks.js';
import { createJwtValidator } from './auth/zitadel/jwtValidator.js';
import { RedisCache, redisKeyPrefix, sharedCacheSecret } from './auth/cache/redisCache.js';
import { TokenCache } from './auth/cache/tokenCache.js';
import { chooseTokenChecks } from './auth/validationMode.js';
import { createTokenVerifier, introspectionCheck } from './auth/verifier.js';
import { clientIdOf, type FederationAuthLink, type TokenValidationMode, type CacheConfig, type CorsOrigins, type ClientCredentials, type GraphQLConfig, type IntrospectionBudgetConfig, type RedisConfig, type ZitadelConfig } from './config.js';
import { clientAddress } from './http/clientAddress.js';
import { createContextFactory, type GraphQLContext } from './graphql/context.js';
import { GRAPHQL_PATH, createHttpServer } from './http/server.js';
import { buildSchema } from './graphql/schema/index.js';
import { fieldsRequiringScopes } from './graphql/schema/authDirectives.js';

import { Metrics } from './observability/metrics.js';
import { createPlayground, type PlaygroundOptions } from './http/playground.js';
import { createApolloServer } from './graphql/apollo.js';

export interface AppOptions {
  readonly zitadel: ZitadelConfig;
  readonly cache: CacheConfig;
  readonly introspectionBudget: IntrospectionBudgetConfig;
  /** Breaker threshold, retry and probe timings; tests shorten them. */
  readonly guard?: Pick<IntrospectionGuardOptions, 'failureThreshold' | 'retries' | 'retryBaseDelayMs' | 'retryWindowMs' | 'probe' | 'now'>;
  /** A verdict cache shared with other replicas; undefined: this process only. */
  readonly redis?: RedisConfig | undefined;
  readonly corsOrigins: CorsOrigins;
  readonly graphql: GraphQLConfig;
  readonly logger: Logger;
  /** The in-browser IDEs (GraphiQL, Apollo Sandbox); undefined: none (production). */
  readonly playground?: PlaygroundOptions | undefined;
  /** Serve an Apollo Federation 2 subgraph. */
  readonly federation?: boolean;
  /** How the subgraph links its auth directives; default `security`. */
  readonly federationAuthLink?: FederationAuthLink;
  /** Proxies in front whose X-Forwarded-For tells the client's address (TRUST_PROXY_HOPS); default 0. */
  readonly trustProxyHops?: number;
  /** Answer requests to a loopback Host only (the development issuer's server; DNS rebinding). */
  readonly loopbackHostOnly?: boolean;
  /** Discovery retry backoff; tests shorten it. */
  readonly discoveryBackoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly http?: HttpClient;
  /** Default `introspection`. */
  readonly tokenValidation?: TokenValidationMode;
  /** Key-set refetch cooldown, maximum age, and the clock of local JWT validation; tests control them. */
  readonly jwks?: Pick<JwksStoreOptions, 'cooldownMs' | 'maxAgeMs' | 'now'>;
}

export interface App {
  readonly httpServer: http.Server;
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly discovery: Discovery;
  readonly cache: TokenCache;
  /** In front of introspection, when the app introspects. */
  readonly guard: IntrospectionGuard | undefined;
  /** Starts Apollo and listens; discovery runs in the background and never blocks start. */
  listen(port: number, host?: string): Promise<string>;
  /** Drains in-flight requests, then releases timers and sockets. */
  close(): Promise<void>;
}

export function createClientAuth(credentials: ClientCredentials): ClientAuth {
  return credentials.method === 'private_key_jwt'
    ? privateKeyJwt(credentials.key)
    : clientSecretBasic(credentials.clientId, credentials.clientSecret);
}

/** Wires the parts together. The only place that knows them all. */
export function createApp(options: AppOptions): App {
  const { zitadel, logger } = options;
  const httpClient = options.http ?? createHttpClient();
  const discovery = new Discovery({
    issuer: zitadel.issuer,
    http: httpClient,
    timeoutMs: zitadel.timeoutMs,
    logger,
    ...(options.discoveryBackoff ? { backoff: options.discoveryBackoff } : {}),
  });
  const mode = options.tokenValidation ?? 'introspection';
  let shared: RedisCache | undefined;
  if (options.redis) {
    // What replicas share is sealed with a secret Redis does not have (loadConfig checks for it).
    if (!zitadel.credentials) throw new TypeError('a shared cache needs client credentials to seal its values');
    shared = new RedisCache({
      url: options.redis.url,
      timeoutMs: options.redis.timeoutMs,
      keyPrefix: redisKeyPrefix({ issuer: zitadel.issuer.href, clientId: clientIdOf(zitadel.credentials), projectId: zitadel.projectId, mode }),
      secret: sharedCacheSecret(zitadel.credentials),
      logger,
    });
  }
  let guard: IntrospectionGuard | undefined;
  const cache = new TokenCache({ ...options.cache, shared });
  const metrics = new Metrics({ cache, guard: () => guard });
  const checks = chooseTokenChecks(mode, {
    introspection: () => {
      if (!zitadel.credentials) throw new TypeError('introspection needs client credentials');
      guard = new IntrospectionGuard({
        introspector: metrics.timed(
          createIntrospectionClient({
            discovery,
            clientAuth: createClientAuth(zitadel.credentials),
            http: httpClient,
            timeoutMs: zitadel.timeoutMs,
          }),
        ),
        budget: new IntrospectionBudget(options.introspectionBudget),
        logger,
        ...options.guard,
      });
      return introspectionCheck(guard, logger, { projectId: zitadel.projectId });
    },
    jwt: () => {
      if (zitadel.projectId === undefined) throw new TypeError('JWT validation needs the project id (the audience)');
      const keys = new JwksStore({ discovery, http: httpClient, timeoutMs: zitadel.timeoutMs, logger, ...options.jwks });
      return createJwtValidator({ discovery, keys, audience: zitadel.projectId, ...(options.jwks?.now ? { now: options.jwks.now } : {}) });
    },
  });
  const verifier = createTokenVerifier({ checks, cache, logger });
  const schema = buildSchema({ federation: options.federation ?? false, federationAuthLink: options.federationAuthLink });
  const unseeable = mode === 'jwt' ? fieldsRequiringScopes(schema) : [];
  if (unseeable.length > 0) {
    logger.warn(
      { fields: unseeable },
      "@requiresScopes cannot pass with ZITADEL_TOKEN_VALIDATION=jwt: ZITADEL's JWT access tokens carry no scopes, so these fields answer FORBIDDEN; use auto to introspect such callers",
    );
  }
  const apollo = createApolloServer({
    schema,
    logger,
    graphql: options.graphql,
    sandbox: options.playground && { headers: options.playground.headers },
  });
  const contextFor = createContextFactory(verifier);
  const trustProxyHops = options.trustProxyHops ?? 0;
  const httpServer = createHttpServer({
    apollo,
    context: (req, deadline, record, peer) => contextFor(req.headers, deadline, record, req.socket, () => clientAddress(peer, req.headers, trustProxyHops)),
    // Ready once ZITADEL was discovered, whatever the breaker says: every replica shares ZITADEL,
    // so following the breaker would take all of them out at once, cached callers included.
    ready: () => ({ ready: discovery.ready, ...(guard ? { detail: { circuit: guard.open ? 'open' : 'closed' } } : {}) }),
    corsOrigins: options.corsOrigins,
    graphql: options.graphql,
    logger,
    metrics,
    loopbackHostOnly: options.loopbackHostOnly ?? false,
    ...(options.playground ? { playground: createPlayground(options.playground, GRAPHQL_PATH) } : {}),
  });
  apollo.addPlugin(ApolloServerPluginDrainHttpServer({ httpServer }));

  return {
    httpServer,
    apollo,
    discovery,
    cache,
    guard,
    async listen(port, host) {
      await apollo.start();
      void discovery.start();
      await new Promise<void>((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          resolve();
        });
      });
      const { port: actual } = httpServer.address() as AddressInfo;
      return `http://${host && host !== '0.0.0.0' && host !== '::' ? hostForUrl(host) : 'localhost'}:${actual}${GRAPHQL_PATH}`;
    },
    async close() {
      discovery.stop();
      guard?.stop();
      await apollo.stop();
      httpClient.close();
      await shared?.close();
    },
  };
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
