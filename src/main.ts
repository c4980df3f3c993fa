import type { AddressInfo } from 'node:net';
import type { App } from './app.js';
import { ConfigError, clientIdOf, loadConfig, privateKeyJwtCredentials, redisUrlForLog, type Config, type TokenValidationMode, type ZitadelConfig } from './config.js';
import { createLogger } from './observability/logger.js';
import type { DevIssuer } from './dev/issuer.js';
import type { PlaygroundOptions } from './http/playground.js';

/** Entry point: configuration, start, signals. The only place that exits the process. */
async function main(): Promise<void> {
  const config = configOrExit();
  // Loaded once the configuration holds: a mistake in it is reported at once. The development
  // issuer starts meanwhile (its keys are made off the event loop), so a taken DEV_ISSUER_PORT
  // is reported at once too.
  const [{ createApp }, dev] = await Promise.all([import('./app.js'), config.zitadel ? undefined : startDevelopmentIssuer(config)]);
  const logger = createLogger(config.logLevel);
  const zitadel = config.zitadel ?? dev!.zitadel;

  const app = createApp(
    { ...config, zitadel, playground: playgroundOptions(config, dev), loopbackHostOnly: dev !== undefined && !config.exposeDevIssuer },
    { logger },
  );
  const url = await app.listen(config.port, config.host).catch((error: unknown) => exitOnListenError(error, config));
  const { credentials } = zitadel;
  logger.info(
    {
      url,
      address: (app.httpServer.address() as AddressInfo).address,
      issuer: zitadel.issuer.href,
      tokenValidation: config.tokenValidation,
      clientAuth: credentials?.method,
      clientId: clientIdOf(credentials),
      projectId: zitadel.projectId,
      zitadelTimeoutMs: zitadel.timeoutMs,
      cache: config.cache,
      introspectionBudget: config.introspectionBudget,
      trustProxyHops: config.trustProxyHops,
      graphql: config.graphql,
      redis: config.redis && { url: redisUrlForLog(config.redis.url), timeoutMs: config.redis.timeoutMs },
      production: config.production,
      federation: config.federation && config.federationAuthLink,
      playground: config.playground,
    },
    'GraphQL API listening',
  );
  // Logs are buffered; the start is worth seeing at once.
  logger.flush();
  if (dev) printDevelopmentHint(dev.issuer, url, dev.token, config.tokenValidation, config.playground);
  stopOnSignals(app, dev?.issuer, logger);
}

function configOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`Configuration error: ${error.message}\n`);
    process.exit(78); // EX_CONFIG
  }
}

interface DevelopmentIssuer {
  readonly issuer: DevIssuer;
  readonly zitadel: ZitadelConfig;
  /** The printed token, of the demo user. */
  readonly token: string;
}

/** The in-browser IDE; with the development issuer it starts with the printed token and can log in. */
function playgroundOptions(config: Config, dev: DevelopmentIssuer | undefined): PlaygroundOptions | undefined {
  if (config.playground === 'off') return undefined;
  if (!dev) return { default: config.playground };
  const { issuer, token } = dev;
  return {
    default: config.playground,
    headers: { Authorization: `Bearer ${token}` },
    login: { issuer: issuer.issuer, clientId: issuer.frontendClientId, scope: issuer.frontendScope, projectId: issuer.projectId, printedFor: issuer.demoUser.username },
  };
}

/** Development only: loadConfig refuses a missing ZITADEL_ISSUER in production. */
async function startDevelopmentIssuer(config: Config): Promise<DevelopmentIssuer> {
  const mode = config.tokenValidation;
  const { startDevIssuer } = await import('./dev/issuer.js').catch((cause: unknown) => {
    throw new Error('ZITADEL_ISSUER is not set and the development issuer is not installed (npm ci installs it)', { cause });
  });
  // Front ends get what the server is set to check: JWT access tokens unless it only introspects.
  const issuer = await startDevIssuer({ port: config.devIssuerPort, accessTokenType: mode === 'introspection' ? 'bearer' : 'jwt' }).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    process.stderr.write(
      `Configuration error: DEV_ISSUER_PORT: ${config.devIssuerPort} is already in use (is another \`npm start\` running?). Set DEV_ISSUER_PORT to a free port; 0 picks any, but then the issuer URL front ends are configured with changes on every start\n`,
    );
    process.exit(78);
  });
  const zitadel: ZitadelConfig = {
    issuer: new URL(issuer.issuer),
    // Local JWT validation needs no client credentials; run it without, as in production.
    credentials: mode === 'jwt' ? undefined : privateKeyJwtCredentials(issuer.keyJson, 'development key'),
    projectId: issuer.projectId,
    timeoutMs: config.zitadelTimeoutMs,
  };
  return { issuer, zitadel, token: mode === 'introspection' ? await issuer.mintToken() : await issuer.mintJwt() };
}

function exitOnListenError(error: unknown, config: Config): never {
  const code = (error as NodeJS.ErrnoException).code;
  const problems: Record<string, string> = {
    EADDRINUSE: `PORT: ${config.port} is already in use`,
    EACCES: `PORT: ${config.port} is not allowed for this user`,
    EADDRNOTAVAIL: `HOST: ${config.host} is not an address of this machine`,
  };
  if (code === undefined || !(code in problems)) throw error;
  process.stderr.write(`Configuration error: ${problems[code]}\n`);
  process.exit(78);
}

function printDevelopmentHint(issuer: DevIssuer, url: string, token: string, mode: TokenValidationMode, playground: Config['playground']): void {
  const kind = mode === 'introspection' ? 'an opaque token, introspected' : 'a JWT access token, validated locally against the issuer\'s keys';
  const width = Math.max(...issuer.accounts.map(({ user }) => user.username.length));
  process.stdout.write(
    [
      '',
      `No ZITADEL_ISSUER set: using the embedded development issuer (never in production).`,
      '',
      `Try it (${kind}, for ${issuer.demoUser.username}; valid for 12 hours):`,
      '',
      `  curl -s ${url} -H 'content-type: application/json' -H 'authorization: Bearer ${token}' -d '{"query":"{ hello me { id username roles } }"}'`,
      '',
      ...(playground === 'off'
        ? []
        : [`In a browser: ${url} (${playground === 'graphiql' ? 'GraphiQL, with this token and a "Log in" button; Apollo Sandbox at ?sandbox' : 'Apollo Sandbox, with this token; GraphiQL, which works offline, at ?graphiql'})`, '']),
      'Front ends log in as at ZITADEL (authorization code with PKCE):',
      `  issuer (authority)  ${issuer.issuer}`,
      `  client id           ${issuer.frontendClientId}`,
      '  redirect URIs       any http://localhost:<port>/... or http://127.0.0.1:<port>/...',
      `  scope               ${issuer.frontendScope}`,
      '',
      'Demo users (login name, password, project roles):',
      ...issuer.accounts.map(({ user, password, description }) => `  ${user.username.padEnd(width)}  ${password.padEnd(13)}  ${description}`),
      '',
      '',
    ].join('\n'),
  );
}

/** SIGTERM/SIGINT: drain in-flight requests, close the development issuer, exit 0. */
function stopOnSignals(app: App, devIssuer: DevIssuer | undefined, logger: ReturnType<typeof createLogger>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), 10_000).unref();
    app
      .close()
      .then(() => devIssuer?.close())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
