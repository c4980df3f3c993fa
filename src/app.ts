import type { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuth, type Auth, type AuthDeps } from './auth/index.js';
import type { Config, ZitadelConfig } from './config.js';
import { createApolloServer } from './graphql/apollo.js';
import { createContext, type GraphQLContext } from './graphql/context.js';
import { buildSchema } from './graphql/schema/index.js';
import { fieldsRequiringScopes } from './graphql/schema/authDirectives.js';
import { clientAddress } from './http/clientAddress.js';
import { DEMO_DOCUMENT, createPlayground, type PlaygroundOptions } from './http/playground.js';
import { GRAPHQL_PATH, createHttpServer } from './http/server.js';
import { Metrics } from './observability/metrics.js';

/** The settings the app runs with: the configuration, with ZITADEL known (configured, or the development issuer). */
export interface AppConfig
  extends Pick<Config, 'cache' | 'introspectionBudget' | 'tokenValidation' | 'redis' | 'corsOrigins' | 'trustProxyHops' | 'graphql' | 'federation' | 'federationAuthLink'> {
  readonly zitadel: ZitadelConfig;
  /** The in-browser IDEs (GraphiQL, Apollo Sandbox); undefined: none (production, or GRAPHQL_PLAYGROUND=off). */
  readonly playground?: PlaygroundOptions | undefined;
  /** Answer requests to a loopback Host only (the development issuer's server; DNS rebinding). */
  readonly loopbackHostOnly?: boolean;
}

/** What the app is given rather than configured with: the logger, and optionally an HTTP client, a clock and timings for the auth layer. */
export type AppDeps = Omit<AuthDeps, 'observeIntrospection'>;

export interface App {
  readonly httpServer: http.Server;
  readonly apollo: ApolloServer<GraphQLContext>;
  readonly auth: Auth;
  /** Starts Apollo and listens; discovery runs in the background and never blocks start. */
  listen(port: number, host?: string): Promise<string>;
  /** Drains in-flight requests, then releases timers and sockets. */
  close(): Promise<void>;
}

/** Wires the parts together. The only place that knows them all. */
export function createApp(config: AppConfig, deps: AppDeps): App {
  const { logger } = deps;
  const metrics = new Metrics();
  const auth = createAuth(config, { ...deps, observeIntrospection: metrics.introspectionEnded });
  metrics.watch(auth);
  const schema = buildSchema({ federation: config.federation, federationAuthLink: config.federationAuthLink });
  const unseeable = auth.scopesUnknowable ? fieldsRequiringScopes(schema) : [];
  if (unseeable.length > 0) {
    logger.warn(
      { fields: unseeable },
      "@requiresScopes cannot pass with ZITADEL_TOKEN_VALIDATION=jwt: ZITADEL's JWT access tokens carry no scopes, so these fields answer FORBIDDEN; use auto to introspect such callers",
    );
  }
  const apollo = createApolloServer({
    schema,
    logger,
    graphql: config.graphql,
    sandbox: config.playground && { document: DEMO_DOCUMENT, headers: config.playground.headers },
  });
  const { verifier, discovery, guard } = auth;
  const httpServer = createHttpServer({
    apollo,
    context: (req, deadline, record, peer) =>
      createContext(verifier, req.headers, { deadline, observer: record, client: () => clientAddress(peer, req.headers, config.trustProxyHops) }),
    // Ready once ZITADEL was discovered, whatever the breaker says: every replica shares ZITADEL,
    // so following the breaker would take all of them out at once, cached callers included.
    ready: () => ({ ready: discovery.ready, ...(guard ? { detail: { circuit: guard.open ? 'open' : 'closed' } } : {}) }),
    corsOrigins: config.corsOrigins,
    graphql: config.graphql,
    logger,
    metrics,
    loopbackHostOnly: config.loopbackHostOnly ?? false,
    ...(config.playground ? { playground: createPlayground(config.playground, GRAPHQL_PATH) } : {}),
  });
  apollo.addPlugin(ApolloServerPluginDrainHttpServer({ httpServer }));

  return {
    httpServer,
    apollo,
    auth,
    async listen(port, host) {
      await apollo.start();
      auth.start();
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
      auth.stopBackground();
      try {
        await apollo.stop();
      } finally {
        await auth.close();
      }
    },
  };
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
