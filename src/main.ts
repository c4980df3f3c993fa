import { createApp } from './app.js';
import { loadConfig, privateKeyJwtCredentials, type ZitadelConfig } from './config.js';
import { ConfigError } from './errors.js';
import { createLogger } from './logger.js';
import type { DevIssuer } from './dev/issuer.js';

/** Entry point: configuration, start, signals. The only place that exits the process. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);

  let zitadel: ZitadelConfig | undefined = config.zitadel;
  let devIssuer: DevIssuer | undefined;
  let devToken: string | undefined;
  if (!zitadel) {
    // Development only (loadConfig refuses a missing ZITADEL_ISSUER in production).
    const { startDevIssuer } = await import('./dev/issuer.js').catch((cause: unknown) => {
      throw new Error('ZITADEL_ISSUER is not set and the development issuer is not installed (npm ci installs it)', { cause });
    });
    devIssuer = await startDevIssuer();
    devToken = await devIssuer.mintToken();
    zitadel = {
      issuer: new URL(devIssuer.issuer),
      credentials: privateKeyJwtCredentials(devIssuer.keyJson, 'development key'),
      projectId: devIssuer.projectId,
      timeoutMs: 3000,
    };
  }

  const app = createApp({
    zitadel,
    cache: config.cache,
    production: config.production,
    corsOrigins: config.corsOrigins,
    logger,
    ...(devToken ? { sandboxHeaders: { Authorization: `Bearer ${devToken}` } } : {}),
  });
  const url = await app.listen(config.port, config.host).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const where = code === 'EADDRNOTAVAIL' ? `HOST: ${config.host} is not an address of this machine` : `PORT: ${config.port} is ${code === 'EADDRINUSE' ? 'already in use' : 'not allowed for this user'}`;
      process.stderr.write(`Configuration error: ${where}\n`);
      process.exit(78);
    }
    throw error;
  });
  const { credentials } = zitadel;
  logger.info(
    {
      url,
      issuer: zitadel.issuer.href,
      clientAuth: credentials.method,
      clientId: credentials.method === 'private_key_jwt' ? credentials.key.clientId : credentials.clientId,
      projectId: zitadel.projectId,
      cache: config.cache,
      production: config.production,
    },
    'GraphQL API listening',
  );

  if (devIssuer && devToken) {
    process.stdout.write(
      [
        '',
        `No ZITADEL_ISSUER set: using the embedded development issuer at ${devIssuer.issuer} (never in production).`,
        `GraphQL endpoint and Apollo Sandbox: ${url}`,
        'Try it (the token is valid for 12 hours):',
        '',
        `  curl -s ${url} -H 'content-type: application/json' -H 'authorization: Bearer ${devToken}' -d '{"query":"{ hello me { id username roles } }"}'`,
        '',
        '',
      ].join('\n'),
    );
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
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
