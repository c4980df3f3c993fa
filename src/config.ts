import { readFileSync } from 'node:fs';
import { isLoopback } from './http/loopback.js';
import { KeyFileError, parseApplicationKey, type ApplicationKey } from './auth/zitadel/keyFile.js';

/** A bad environment variable: names it and what is wrong; the process exits on it. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  override name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`${variable}: ${problem}`, options);
  }
}

/** ZITADEL_TOKEN_VALIDATION. */
const TOKEN_VALIDATION_MODES = ['introspection', 'jwt', 'auto'] as const;
export type TokenValidationMode = (typeof TOKEN_VALIDATION_MODES)[number];

/** GRAPHQL_FEDERATION_AUTH_LINK: how the subgraph links its auth directives. */
const FEDERATION_AUTH_LINKS = ['security', 'composed'] as const;
export type FederationAuthLink = (typeof FEDERATION_AUTH_LINKS)[number];

/** GRAPHQL_PLAYGROUND's IDEs. */
export type PlaygroundKind = 'graphiql' | 'sandbox';

/** How this server authenticates itself at ZITADEL's introspection endpoint. */
export type ClientCredentials =
  | { readonly method: 'private_key_jwt'; readonly key: ApplicationKey }
  | { readonly method: 'client_secret_basic'; readonly clientId: string; readonly clientSecret: string };

/** The API application's client id, whichever way it authenticates. */
export function clientIdOf(credentials: ClientCredentials | undefined): string | undefined {
  return credentials?.method === 'private_key_jwt' ? credentials.key.clientId : credentials?.clientId;
}

export interface ZitadelConfig {
  /** The instance URL as configured; discovery's `issuer` is what goes into assertions. */
  readonly issuer: URL;
  /** Undefined only with ZITADEL_TOKEN_VALIDATION=jwt, which never calls introspection. */
  readonly credentials: ClientCredentials | undefined;
  readonly projectId: string | undefined;
  readonly timeoutMs: number;
}

/**
 * Which browser origins may call the API (CORS): any, a list, or in development (no
 * ZITADEL_ISSUER) loopback origins and Apollo's Sandbox and Studio only, so that no other web
 * page a developer visits can read the development token from the Sandbox page.
 */
export type CorsOrigins = '*' | 'development' | readonly string[];

export interface Config {
  readonly production: boolean;
  readonly port: number;
  /** Undefined: every interface. Without ZITADEL_ISSUER, loopback unless told otherwise. */
  readonly host: string | undefined;
  /** DANGEROUSLY_EXPOSE_DEV_ISSUER: the development issuer's server may be reached by any host name. */
  readonly exposeDevIssuer: boolean;
  /** Undefined: start the embedded development issuer (only outside production). */
  readonly zitadel: ZitadelConfig | undefined;
  /** ZITADEL_TIMEOUT_MS, for the development issuer too. */
  readonly zitadelTimeoutMs: number;
  readonly cache: CacheConfig;
  /** Our own limit on calls to ZITADEL's introspection endpoint (ZITADEL Cloud rate-limits per IP). */
  readonly introspectionBudget: IntrospectionBudgetConfig;
  /** How bearer tokens are checked: introspection at ZITADEL, local JWT validation, or by shape. */
  readonly tokenValidation: TokenValidationMode;
  /** Undefined: verdicts are cached in this process only. */
  readonly redis: RedisConfig | undefined;
  readonly corsOrigins: CorsOrigins;
  /** Proxies in front whose X-Forwarded-For is trusted to name the client (0: none, the header is ignored). */
  readonly trustProxyHops: number;
  readonly logLevel: string;
  /** Serve the schema as an Apollo Federation 2 subgraph. */
  readonly federation: boolean;
  /** How that subgraph links its auth directives (Apollo Router or the JavaScript gateway). */
  readonly federationAuthLink: FederationAuthLink;
  readonly graphql: GraphQLConfig;
  /** GRAPHQL_PLAYGROUND: the IDE a browser gets at GET /graphql (the other one a query parameter away), or none. */
  readonly playground: PlaygroundKind | 'off';
  /** DEV_ISSUER_PORT: the development issuer's port, fixed so that a front end's settings survive restarts. */
  readonly devIssuerPort: number;
}

export interface IntrospectionBudgetConfig {
  /** Calls per second, on average; the burst is one second's worth. */
  readonly ratePerSecond: number;
  /** Calls in flight at once. */
  readonly concurrency: number;
}

/** A verdict cache shared by replicas, consulted after the in-process one. */
export interface RedisConfig {
  /** redis:// or rediss:// (TLS); may carry credentials, so it is never logged as is. */
  readonly url: string;
  /** Longest a request waits for Redis before going on without it. */
  readonly timeoutMs: number;
}

export interface CacheConfig {
  /** 0 turns the cross-request cache off (every request introspects). */
  readonly maxEntries: number;
  readonly maxTtlMs: number;
  /** How long an inactive verdict is remembered, so a repeated bad token costs one call. */
  readonly negativeTtlMs: number;
}

/** What one GraphQL request may ask of the server; refused with 400 before parsing or execution. */
export interface QueryLimits {
  readonly maxAliases: number;
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxDirectives: number;
  /** Lexical tokens in the document (checked by the parser, which stops there). */
  readonly maxTokens: number;
  /** Characters of the query text (checked before parsing). */
  readonly maxQueryLength: number;
}

export interface GraphQLConfig {
  readonly limits: QueryLimits;
  readonly maxBodyBytes: number;
  /** Deadline of one HTTP request, from its arrival to the response. */
  readonly requestTimeoutMs: number;
  /** JSON array bodies (several operations in one request). */
  readonly batching: boolean;
  /** Operations in one batch. */
  readonly maxBatch: number;
  /** Introspection and "Did you mean ...?" suggestions. */
  readonly introspection: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** Reads and validates the whole environment once; every problem names its variable. */
export function loadConfig(env: Env): Config {
  const production = env.NODE_ENV === 'production';
  const issuerText = nonEmpty(env, 'ZITADEL_ISSUER');
  const allowHttp = flag(env, 'ZITADEL_ALLOW_HTTP', false);
  const issuer = issuerText === undefined ? undefined : parseIssuer(issuerText, production && !allowHttp);
  const credentials = loadCredentials(env);
  const timeoutMs = integer(env, 'ZITADEL_TIMEOUT_MS', 3000, 1, 60_000);
  const projectId = nonEmpty(env, 'ZITADEL_PROJECT_ID');
  if (projectId !== undefined && !/^\d+$/.test(projectId)) {
    throw new ConfigError('ZITADEL_PROJECT_ID', 'must be the numeric project id shown in ZITADEL\'s console');
  }

  const tokenValidation = parseTokenValidation(env);

  let zitadel: ZitadelConfig | undefined;
  if (issuer !== undefined) {
    if (tokenValidation !== 'introspection' && projectId === undefined) {
      throw new ConfigError('ZITADEL_PROJECT_ID', `is required with ZITADEL_TOKEN_VALIDATION=${tokenValidation}: a JWT is accepted only when its aud contains the project id`);
    }
    if (!credentials && tokenValidation !== 'jwt') {
      throw new ConfigError(
        'ZITADEL_KEY_FILE',
        `is required with ZITADEL_ISSUER when tokens are introspected (ZITADEL_TOKEN_VALIDATION=${tokenValidation}); or set ZITADEL_KEY_JSON, or ZITADEL_CLIENT_ID and ZITADEL_CLIENT_SECRET`,
      );
    }
    zitadel = { issuer, credentials, projectId, timeoutMs };
  } else if (production) {
    throw new ConfigError('ZITADEL_ISSUER', 'is required when NODE_ENV=production (e.g. https://my-instance.zitadel.cloud)');
  } else if (credentials) {
    throw new ConfigError('ZITADEL_ISSUER', 'is required when client credentials are configured');
  }
  const exposeDevIssuer = flag(env, 'DANGEROUSLY_EXPOSE_DEV_ISSUER', false);
  const host = listenHost(env, zitadel !== undefined, exposeDevIssuer);

  const logLevel = nonEmpty(env, 'LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const redis = loadRedis(env);
  // Replicas seal what they share with a secret derived from the credentials (redisCache.ts).
  if (redis && !credentials && tokenValidation === 'jwt') {
    throw new ConfigError(
      'REDIS_URL',
      'needs the API application\'s credentials (ZITADEL_KEY_FILE, ZITADEL_KEY_JSON, or ZITADEL_CLIENT_ID and ZITADEL_CLIENT_SECRET), which seal what replicas share; with ZITADEL_TOKEN_VALIDATION=jwt sharing saves little: unset REDIS_URL, or configure the credentials',
    );
  }

  const graphql = loadGraphQLConfig(env, production);
  if (graphql.requestTimeoutMs <= timeoutMs) {
    throw new ConfigError(
      'GRAPHQL_REQUEST_TIMEOUT_MS',
      `must be longer than ZITADEL_TIMEOUT_MS (${timeoutMs}), so that a slow ZITADEL is reported as such rather than as a timeout`,
    );
  }

  const port = integer(env, 'PORT', 4000, 0, 65_535);
  const devIssuerPort = integer(env, 'DEV_ISSUER_PORT', DEFAULT_DEV_ISSUER_PORT, 0, 65_535);
  if (zitadel && nonEmpty(env, 'DEV_ISSUER_PORT') !== undefined) {
    throw new ConfigError('DEV_ISSUER_PORT', 'is the embedded development issuer\'s port, which does not run when ZITADEL_ISSUER is set: unset one of them');
  }
  if (!zitadel && devIssuerPort !== 0 && devIssuerPort === port) {
    throw new ConfigError('DEV_ISSUER_PORT', `must differ from PORT (${port}): the development issuer and the API each need a port`);
  }

  return {
    production,
    port,
    devIssuerPort,
    playground: parsePlayground(env, production),
    host,
    exposeDevIssuer,
    zitadel,
    zitadelTimeoutMs: timeoutMs,
    tokenValidation,
    cache: {
      maxEntries: integer(env, 'AUTH_CACHE_MAX_ENTRIES', 100_000, 0, 10_000_000),
      maxTtlMs: integer(env, 'AUTH_CACHE_MAX_TTL_SECONDS', 300, 1, 86_400) * 1000,
      negativeTtlMs: integer(env, 'AUTH_CACHE_NEGATIVE_TTL_SECONDS', 10, 0, 3600) * 1000,
    },
    introspectionBudget: {
      ratePerSecond: integer(env, 'ZITADEL_INTROSPECTION_RATE_LIMIT', 40, 1, 100_000),
      concurrency: integer(env, 'ZITADEL_INTROSPECTION_CONCURRENCY', 16, 1, 10_000),
    },
    redis,
    corsOrigins: parseOrigins(env, zitadel === undefined),
    trustProxyHops: integer(env, 'TRUST_PROXY_HOPS', 0, 0, 10),
    logLevel,
    federation: flag(env, 'GRAPHQL_FEDERATION', false),
    federationAuthLink: oneOf(env, 'GRAPHQL_FEDERATION_AUTH_LINK', FEDERATION_AUTH_LINKS, 'security'),
    graphql,
  };
}

/** The GraphQL_* variables; introspection defaults to on outside production only. */
export function loadGraphQLConfig(env: Env, production: boolean): GraphQLConfig {
  return {
    limits: {
      maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', 15, 0, 1000),
      maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 6, 1, 100),
      maxCost: integer(env, 'GRAPHQL_MAX_COST', 5000, 1, 1_000_000),
      maxDirectives: integer(env, 'GRAPHQL_MAX_DIRECTIVES', 50, 0, 1000),
      maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', 1000, 1, 100_000),
      maxQueryLength: integer(env, 'GRAPHQL_MAX_QUERY_LENGTH', 10_000, 1, 1_000_000),
    },
    maxBodyBytes: integer(env, 'GRAPHQL_MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    requestTimeoutMs: integer(env, 'GRAPHQL_REQUEST_TIMEOUT_MS', 10_000, 1, 300_000),
    batching: flag(env, 'GRAPHQL_BATCHING', false),
    maxBatch: integer(env, 'GRAPHQL_MAX_BATCH', 10, 1, 1000),
    introspection: flag(env, 'GRAPHQL_INTROSPECTION', !production),
  };
}

/** Where `npm start` runs the development issuer unless told otherwise (beside the API's 4000). */
const DEFAULT_DEV_ISSUER_PORT = 4001;

/** An in-browser IDE holds tokens and explores the schema: never in production. */
function parsePlayground(env: Env, production: boolean): PlaygroundKind | 'off' {
  const kind = oneOf(env, 'GRAPHQL_PLAYGROUND', ['graphiql', 'sandbox', 'off'] as const, production ? 'off' : 'graphiql');
  if (production && kind !== 'off') {
    throw new ConfigError('GRAPHQL_PLAYGROUND', `must be off when NODE_ENV=production, got ${shown(kind)}: the in-browser IDE is for development`);
  }
  return kind;
}

function parseTokenValidation(env: Env): TokenValidationMode {
  return oneOf(env, 'ZITADEL_TOKEN_VALIDATION', TOKEN_VALIDATION_MODES, 'introspection');
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const text = nonEmpty(env, name) ?? fallback;
  const value = values.find((v) => v === text);
  if (!value) throw new ConfigError(name, `must be one of ${values.join(', ')}, got ${shown(text)}`);
  return value;
}

function loadCredentials(env: Env): ClientCredentials | undefined {
  const keyFile = nonEmpty(env, 'ZITADEL_KEY_FILE');
  const keyJson = nonEmpty(env, 'ZITADEL_KEY_JSON');
  const clientId = nonEmpty(env, 'ZITADEL_CLIENT_ID');
  const clientSecret = nonEmpty(env, 'ZITADEL_CLIENT_SECRET');

  const chosen = [keyFile && 'ZITADEL_KEY_FILE', keyJson && 'ZITADEL_KEY_JSON', (clientId || clientSecret) && 'ZITADEL_CLIENT_ID/ZITADEL_CLIENT_SECRET'].filter(Boolean);
  if (chosen.length > 1) {
    throw new ConfigError(String(chosen[0]), `conflicts with ${chosen.slice(1).join(' and ')}: configure one way to authenticate`);
  }

  if (keyFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(keyFile, 'utf8');
    } catch (cause) {
      const why = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'cannot be read';
      throw new ConfigError('ZITADEL_KEY_FILE', `${why}: ${shown(keyFile, 1024)}`, { cause });
    }
    return privateKeyJwtCredentials(text, 'ZITADEL_KEY_FILE');
  }
  if (keyJson !== undefined) return privateKeyJwtCredentials(keyJson, 'ZITADEL_KEY_JSON');
  if (clientId !== undefined || clientSecret !== undefined) {
    if (clientId === undefined) throw new ConfigError('ZITADEL_CLIENT_ID', 'is required with ZITADEL_CLIENT_SECRET');
    if (clientSecret === undefined) throw new ConfigError('ZITADEL_CLIENT_SECRET', 'is required with ZITADEL_CLIENT_ID');
    return { method: 'client_secret_basic', clientId, clientSecret };
  }
  return undefined;
}

/** Credentials from an API application key JSON; errors name `variable`. */
export function privateKeyJwtCredentials(text: string, variable: string): ClientCredentials {
  try {
    return { method: 'private_key_jwt', key: parseApplicationKey(text) };
  } catch (cause) {
    if (cause instanceof KeyFileError) throw new ConfigError(variable, cause.message, { cause });
    throw cause;
  }
}

/**
 * ZITADEL's issuer is `scheme://host[:port]`: no path, query or fragment. With `httpsOnly`
 * (production), `http://` only to loopback: the client assertion or secret and every token
 * travel to it, and whoever can rewrite its answers can call any token active.
 */
function parseIssuer(text: string, httpsOnly: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('ZITADEL_ISSUER', `is not a URL: ${shown(text)} (e.g. https://my-instance.zitadel.cloud)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError('ZITADEL_ISSUER', `must be an http(s) URL, got ${url.protocol}`);
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError('ZITADEL_ISSUER', 'must not carry credentials, a query or a fragment');
  }
  if (url.pathname !== '/') {
    throw new ConfigError('ZITADEL_ISSUER', `must be the instance URL without a path (ZITADEL's issuer has none), got ${shown(url.href)}`);
  }
  if (httpsOnly && url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new ConfigError(
      'ZITADEL_ISSUER',
      `must be https:// in production unless its host is loopback, got ${url.origin}: credentials and tokens would travel in cleartext. A cluster that reaches ZITADEL over plain HTTP on purpose may set ZITADEL_ALLOW_HTTP=1`,
    );
  }
  return url;
}

function loadRedis(env: Env): RedisConfig | undefined {
  const timeoutMs = integer(env, 'REDIS_TIMEOUT_MS', 250, 1, 60_000);
  const text = nonEmpty(env, 'REDIS_URL');
  if (text === undefined) return undefined;
  // The URL may hold a password: messages describe it, never repeat it.
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError('REDIS_URL', 'is not a URL (e.g. redis://redis:6379 or rediss://user:password@redis.example.com:6380/0)');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError('REDIS_URL', `must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  if (!url.hostname) throw new ConfigError('REDIS_URL', 'must name a host (e.g. redis://redis:6379)');
  if (!/^\/?\d*$/.test(url.pathname)) {
    throw new ConfigError('REDIS_URL', 'may only have a database number as its path (e.g. redis://redis:6379/0)');
  }
  return { url: text, timeoutMs };
}

/** The Redis URL without credentials (user, password, or a `?password=` ioredis would read), for logs. */
export function redisUrlForLog(text: string): string {
  const url = new URL(text);
  url.username = '';
  url.password = '';
  url.search = '';
  return url.href;
}

/**
 * Where to listen. Without ZITADEL_ISSUER the embedded development issuer hands out `admin`
 * tokens to whoever asks, so the server listens on loopback, and a non-loopback HOST is refused
 * unless DANGEROUSLY_EXPOSE_DEV_ISSUER=1 says that is meant (a development container that
 * publishes its port).
 */
function listenHost(env: Env, hasIssuer: boolean, exposeDevIssuer: boolean): string | undefined {
  const host = nonEmpty(env, 'HOST');
  if (hasIssuer) return host;
  if (host === undefined) return '127.0.0.1';
  if (!isLoopback(host) && !exposeDevIssuer) {
    throw new ConfigError(
      'ZITADEL_ISSUER',
      `is required when HOST (${shown(host)}) is not a loopback address: without it the development issuer gives admin tokens to anyone who can reach the server. Set ZITADEL_ISSUER, or leave HOST unset; a development container that publishes its port may set DANGEROUSLY_EXPOSE_DEV_ISSUER=1`,
    );
  }
  return host;
}

function parseOrigins(env: Env, development: boolean): CorsOrigins {
  const text = nonEmpty(env, 'CORS_ORIGINS');
  if (text === undefined) return development ? 'development' : '*';
  if (text === '*') return '*';
  const origins = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const origin of origins) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(origin);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.origin !== origin) {
      throw new ConfigError('CORS_ORIGINS', `${shown(origin)} is not an origin like https://app.example.com`);
    }
  }
  return origins;
}

/**
 * A bad value, quoted so the operator sees it, unless it may be a secret pasted into the wrong
 * variable (long, multi-line, or key material): then only its length.
 */
function shown(text: string, maxLength = 64): string {
  return text.length > maxLength || /[\r\n]|PRIVATE KEY|"key"/.test(text) ? `a value of ${text.length} characters (not shown)` : JSON.stringify(text);
}

function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const text = nonEmpty(env, name);
  if (text === undefined) return fallback;
  if (text === '1' || text === 'true') return true;
  if (text === '0' || text === 'false') return false;
  throw new ConfigError(name, `must be 1 or 0 (true or false), got ${shown(text)}`);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const text = nonEmpty(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got ${shown(text)}`);
  }
  return value;
}
