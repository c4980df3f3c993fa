import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, redisUrlForLog } from '../../src/config.js';
import { ConfigError } from '../../src/config.js';
import { thrown } from '../helpers/errors.js';
import { applicationKey } from '../helpers/keys.js';

const key = applicationKey();
let dir: string;
let keyFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'config-test-'));
  keyFile = join(dir, 'key.json');
  writeFileSync(keyFile, key.json);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ISSUER = 'https://acme.zitadel.cloud';

const configError = (env: Record<string, string>) => thrown(() => loadConfig(env), ConfigError);

describe('loadConfig', () => {
  it('should default to the development issuer and port 4000 when nothing is set', () => {
    const config = loadConfig({});
    // Loopback only, and browser origins of this machine and Apollo's: the development issuer hands out admin tokens.
    expect(config).toMatchObject({ production: false, port: 4000, host: '127.0.0.1', zitadel: undefined, zitadelTimeoutMs: 3000, tokenValidation: 'introspection', corsOrigins: 'development', trustProxyHops: 0, logLevel: 'info', federation: false, federationAuthLink: 'security', playground: 'graphiql', devIssuerPort: 4001 });
    expect(config.cache).toEqual({ maxEntries: 100_000, maxTtlMs: 300_000, negativeTtlMs: 10_000 });
    expect(config.introspectionBudget).toEqual({ ratePerSecond: 40, concurrency: 16 });
    expect(config.graphql).toEqual({
      limits: { maxAliases: 15, maxDepth: 6, maxCost: 5000, maxDirectives: 50, maxTokens: 1000, maxQueryLength: 10_000 },
      maxBodyBytes: 1_048_576,
      requestTimeoutMs: 10_000,
      batching: false,
      maxBatch: 10,
      introspection: true,
    });
  });

  it('should turn introspection off in production unless GRAPHQL_INTROSPECTION=1', () => {
    const production = { NODE_ENV: 'production', ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_FILE: keyFile };
    expect(loadConfig(production).graphql.introspection).toBe(false);
    expect(loadConfig({ ...production, GRAPHQL_INTROSPECTION: '1' }).graphql.introspection).toBe(true);
    expect(loadConfig({ GRAPHQL_INTROSPECTION: 'false' }).graphql.introspection).toBe(false);
  });

  it('should read a ZITADEL key file', () => {
    const config = loadConfig({ ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_FILE: keyFile, ZITADEL_PROJECT_ID: '2134' });
    expect(config.zitadel?.issuer.href).toBe(`${ISSUER}/`);
    expect(config.zitadel?.projectId).toBe('2134');
    expect(config.zitadel?.timeoutMs).toBe(3000);
    const credentials = config.zitadel?.credentials;
    expect(credentials?.method).toBe('private_key_jwt');
    if (credentials?.method !== 'private_key_jwt') throw new Error('unreachable');
    expect(credentials.key).toMatchObject({ keyId: '81693565968962154', clientId: '78366401571920522@acme', appId: '78366403256846242' });
    expect(credentials.key.privateKey.asymmetricKeyType).toBe('rsa');
  });

  it('should read the key JSON inline', () => {
    const config = loadConfig({ ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: key.json });
    expect(config.zitadel?.credentials?.method).toBe('private_key_jwt');
  });

  it('should accept a PKCS#8 key as well as ZITADEL’s PKCS#1', () => {
    const pkcs8 = applicationKey();
    const json = JSON.stringify({ ...JSON.parse(pkcs8.json), key: pkcs8.privateKey.export({ type: 'pkcs8', format: 'pem' }) });
    expect(loadConfig({ ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: json }).zitadel?.credentials?.method).toBe('private_key_jwt');
  });

  it('should take client id and secret for Basic authentication', () => {
    const config = loadConfig({ ZITADEL_ISSUER: ISSUER, ZITADEL_CLIENT_ID: 'api@acme', ZITADEL_CLIENT_SECRET: 's3cret' });
    expect(config.zitadel?.credentials).toEqual({ method: 'client_secret_basic', clientId: 'api@acme', clientSecret: 's3cret' });
  });

  it('should refuse a cleartext issuer in production, naming ZITADEL_ISSUER, unless it is loopback or ZITADEL_ALLOW_HTTP=1', () => {
    const production = { NODE_ENV: 'production', ZITADEL_KEY_JSON: key.json };
    const error = configError({ ...production, ZITADEL_ISSUER: 'http://zitadel.internal:8080' });
    expect(error.variable).toBe('ZITADEL_ISSUER');
    expect(error.message).toMatch(/must be https:\/\/ in production unless its host is loopback, got http:\/\/zitadel\.internal:8080[^]*ZITADEL_ALLOW_HTTP=1/);
    for (const loopback of ['http://localhost:8080', 'http://127.0.0.1:8080', 'http://[::1]:8080']) {
      expect(loadConfig({ ...production, ZITADEL_ISSUER: loopback }).zitadel?.issuer.href).toBe(`${loopback}/`);
    }
    expect(loadConfig({ ...production, ZITADEL_ISSUER: 'http://zitadel.internal:8080', ZITADEL_ALLOW_HTTP: '1' }).zitadel?.issuer.protocol).toBe('http:');
    // Outside production (a ZITADEL in docker compose), http is accepted.
    expect(loadConfig({ ZITADEL_KEY_JSON: key.json, ZITADEL_ISSUER: 'http://zitadel.internal:8080' }).zitadel?.issuer.protocol).toBe('http:');
  });

  it('should listen everywhere and allow any origin by default once ZITADEL_ISSUER is set', () => {
    expect(loadConfig({ ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: key.json })).toMatchObject({ host: undefined, corsOrigins: '*' });
  });

  it.each(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1'])('should take the loopback HOST %s without an issuer', (host) => {
    expect(loadConfig({ HOST: host }).host).toBe(host);
  });

  it.each(['0.0.0.0', '::', '10.0.0.5', 'api.internal', '::ffff:10.0.0.5'])('should refuse HOST %s without an issuer, naming ZITADEL_ISSUER', (host) => {
    const error = configError({ HOST: host });
    expect(error.variable).toBe('ZITADEL_ISSUER');
    expect(error.message).toMatch(/not a loopback address[^]*DANGEROUSLY_EXPOSE_DEV_ISSUER=1/);
  });

  it('should expose the development issuer on a non-loopback HOST only when told to, explicitly', () => {
    expect(loadConfig({ HOST: '0.0.0.0', DANGEROUSLY_EXPOSE_DEV_ISSUER: '1' }).host).toBe('0.0.0.0');
    expect(configError({ HOST: '0.0.0.0', DANGEROUSLY_EXPOSE_DEV_ISSUER: '0' }).variable).toBe('ZITADEL_ISSUER');
    expect(configError({ HOST: '0.0.0.0', DANGEROUSLY_EXPOSE_DEV_ISSUER: 'yes' }).variable).toBe('DANGEROUSLY_EXPOSE_DEV_ISSUER');
  });

  it('should read every tunable', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      ZITADEL_ISSUER: ISSUER,
      ZITADEL_KEY_FILE: keyFile,
      ZITADEL_TIMEOUT_MS: '1500',
      PORT: '8080',
      HOST: '127.0.0.1',
      AUTH_CACHE_MAX_ENTRIES: '0',
      AUTH_CACHE_MAX_TTL_SECONDS: '60',
      AUTH_CACHE_NEGATIVE_TTL_SECONDS: '0',
      ZITADEL_INTROSPECTION_RATE_LIMIT: '50',
      ZITADEL_INTROSPECTION_CONCURRENCY: '4',
      CORS_ORIGINS: 'https://app.example.com, https://studio.apollographql.com',
      LOG_LEVEL: 'warn',
      GRAPHQL_FEDERATION: '1',
      GRAPHQL_MAX_ALIASES: '0',
      GRAPHQL_MAX_DEPTH: '3',
      GRAPHQL_MAX_COST: '100',
      GRAPHQL_MAX_DIRECTIVES: '4',
      GRAPHQL_MAX_TOKENS: '500',
      GRAPHQL_MAX_QUERY_LENGTH: '2000',
      GRAPHQL_MAX_BODY_BYTES: '65536',
      GRAPHQL_REQUEST_TIMEOUT_MS: '2000',
      GRAPHQL_BATCHING: '1',
      GRAPHQL_MAX_BATCH: '25',
      GRAPHQL_INTROSPECTION: 'true',
    });
    expect(config.graphql).toEqual({
      limits: { maxAliases: 0, maxDepth: 3, maxCost: 100, maxDirectives: 4, maxTokens: 500, maxQueryLength: 2000 },
      maxBodyBytes: 65_536,
      requestTimeoutMs: 2000,
      batching: true,
      maxBatch: 25,
      introspection: true,
    });
    expect(config).toMatchObject({
      production: true,
      port: 8080,
      host: '127.0.0.1',
      cache: { maxEntries: 0, maxTtlMs: 60_000, negativeTtlMs: 0 },
      introspectionBudget: { ratePerSecond: 50, concurrency: 4 },
      corsOrigins: ['https://app.example.com', 'https://studio.apollographql.com'],
      logLevel: 'warn',
      federation: true,
    });
    expect(config.zitadel?.timeoutMs).toBe(1500);
  });

  it('should validate JWTs locally without client credentials when ZITADEL_TOKEN_VALIDATION=jwt', () => {
    const config = loadConfig({ ZITADEL_ISSUER: ISSUER, ZITADEL_PROJECT_ID: '2134', ZITADEL_TOKEN_VALIDATION: 'jwt' });
    expect(config.tokenValidation).toBe('jwt');
    expect(config.zitadel).toMatchObject({ projectId: '2134', credentials: undefined });
  });

  it('should still take credentials in jwt mode, and need them in auto mode', () => {
    const jwt = loadConfig({ ZITADEL_ISSUER: ISSUER, ZITADEL_PROJECT_ID: '2134', ZITADEL_TOKEN_VALIDATION: 'jwt', ZITADEL_KEY_FILE: keyFile });
    expect(jwt.zitadel?.credentials?.method).toBe('private_key_jwt');
    const auto = loadConfig({ ZITADEL_ISSUER: ISSUER, ZITADEL_PROJECT_ID: '2134', ZITADEL_TOKEN_VALIDATION: 'auto', ZITADEL_KEY_FILE: keyFile });
    expect(auto.tokenValidation).toBe('auto');
    expect(auto.zitadel?.credentials?.method).toBe('private_key_jwt');
  });

  it.each(['jwt', 'auto'])('should take ZITADEL_TOKEN_VALIDATION=%s without an issuer (the development issuer supplies the project)', (mode) => {
    expect(loadConfig({ ZITADEL_TOKEN_VALIDATION: mode })).toMatchObject({ tokenValidation: mode, zitadel: undefined });
  });

  const wrongKey = (fields: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(key.json), ...fields });
  const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' });

  it.each<[string, Record<string, string>, string, RegExp]>([
    ['production without an issuer', { NODE_ENV: 'production' }, 'ZITADEL_ISSUER', /required when NODE_ENV=production/],
    ['an issuer that is not a URL', { ZITADEL_ISSUER: 'acme.zitadel.cloud', ZITADEL_KEY_FILE: 'x' }, 'ZITADEL_ISSUER', /not a URL: "acme.zitadel.cloud"/],
    ['an issuer without credentials', { ZITADEL_ISSUER: ISSUER }, 'ZITADEL_KEY_FILE', /required with ZITADEL_ISSUER/],
    ['credentials without an issuer', { ZITADEL_KEY_JSON: '{}' }, 'ZITADEL_KEY_JSON', /"type"/],
    ['a missing key file', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_FILE: '/nonexistent/key.json' }, 'ZITADEL_KEY_FILE', /no such file: "\/nonexistent\/key.json"/],
    ['a key file that is a directory', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_FILE: '/' }, 'ZITADEL_KEY_FILE', /cannot be read/],
    ['key JSON that is not JSON', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: '-----BEGIN RSA PRIVATE KEY-----' }, 'ZITADEL_KEY_JSON', /not JSON/],
    ['key JSON that is an array', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: '[]' }, 'ZITADEL_KEY_JSON', /not a JSON object/],
    ['a machine user key', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: wrongKey({ type: 'serviceaccount', userId: '1' }) }, 'ZITADEL_KEY_JSON', /machine user/],
    ['a key of another type', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: wrongKey({ type: 'user' }) }, 'ZITADEL_KEY_JSON', /"type" "user", expected "application"/],
    ['a key without keyId', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: wrongKey({ keyId: undefined }) }, 'ZITADEL_KEY_JSON', /"keyId"/],
    ['a key without clientId', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: wrongKey({ clientId: '' }) }, 'ZITADEL_KEY_JSON', /"clientId"/],
    ['an unreadable PEM', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: wrongKey({ key: '-----BEGIN RSA PRIVATE KEY-----\nnope\n-----END RSA PRIVATE KEY-----' }) }, 'ZITADEL_KEY_JSON', /not a readable PEM/],
    ['an EC key', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: wrongKey({ key: ecKey }) }, 'ZITADEL_KEY_JSON', /ec key/],
    ['two credential sources', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_FILE: 'a', ZITADEL_KEY_JSON: 'b' }, 'ZITADEL_KEY_FILE', /conflicts with ZITADEL_KEY_JSON/],
    ['a secret without a client id', { ZITADEL_ISSUER: ISSUER, ZITADEL_CLIENT_SECRET: 's' }, 'ZITADEL_CLIENT_ID', /required/],
    ['a client id without a secret', { ZITADEL_ISSUER: ISSUER, ZITADEL_CLIENT_ID: 'c' }, 'ZITADEL_CLIENT_SECRET', /required/],
    ['a non-numeric project id', { ZITADEL_PROJECT_ID: 'my-project' }, 'ZITADEL_PROJECT_ID', /numeric/],
    ['a port out of range', { PORT: '70000' }, 'PORT', /0 to 65535, got "70000"/],
    ['a port that is not a number', { PORT: '4k' }, 'PORT', /whole number/],
    ['a negative cache size', { AUTH_CACHE_MAX_ENTRIES: '-1' }, 'AUTH_CACHE_MAX_ENTRIES', /whole number/],
    ['a zero introspection rate', { ZITADEL_INTROSPECTION_RATE_LIMIT: '0' }, 'ZITADEL_INTROSPECTION_RATE_LIMIT', /1 to 100000, got "0"/],
    ['a fractional concurrency', { ZITADEL_INTROSPECTION_CONCURRENCY: '2.5' }, 'ZITADEL_INTROSPECTION_CONCURRENCY', /whole number/],
    ['a zero max TTL', { AUTH_CACHE_MAX_TTL_SECONDS: '0' }, 'AUTH_CACHE_MAX_TTL_SECONDS', /1 to 86400/],
    ['a fractional timeout', { ZITADEL_TIMEOUT_MS: '1.5' }, 'ZITADEL_TIMEOUT_MS', /whole number/],
    ['a bad CORS origin', { CORS_ORIGINS: 'https://app.example.com/path' }, 'CORS_ORIGINS', /not an origin/],
    ['an unknown log level', { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', /one of/],
    ['a federation switch that is not 1 or 0', { GRAPHQL_FEDERATION: 'yes' }, 'GRAPHQL_FEDERATION', /must be 1 or 0 \(true or false\), got "yes"/],
    ['an unknown token validation', { ZITADEL_TOKEN_VALIDATION: 'jwks' }, 'ZITADEL_TOKEN_VALIDATION', /one of introspection, jwt, auto, got "jwks"/],
    ['a shared cache with nothing to seal it (jwt mode, no credentials)', { ZITADEL_ISSUER: ISSUER, ZITADEL_PROJECT_ID: '2134', ZITADEL_TOKEN_VALIDATION: 'jwt', REDIS_URL: 'redis://redis:6379' }, 'REDIS_URL', /needs the API application's credentials/],
    ['an issuer with a path', { ZITADEL_ISSUER: 'https://acme.zitadel.cloud/oauth', ZITADEL_KEY_JSON: key.json }, 'ZITADEL_ISSUER', /without a path/],
    ['an http opt-in as a word, even outside production', { ZITADEL_ALLOW_HTTP: 'yes' }, 'ZITADEL_ALLOW_HTTP', /1 or 0/],
    ['an unknown federation auth link', { GRAPHQL_FEDERATION_AUTH_LINK: 'gateway' }, 'GRAPHQL_FEDERATION_AUTH_LINK', /one of security, composed, got "gateway"/],
    ['a token validation in capitals', { ZITADEL_TOKEN_VALIDATION: 'JWT' }, 'ZITADEL_TOKEN_VALIDATION', /one of/],
    ['jwt validation without a project id', { ZITADEL_ISSUER: ISSUER, ZITADEL_TOKEN_VALIDATION: 'jwt' }, 'ZITADEL_PROJECT_ID', /required with ZITADEL_TOKEN_VALIDATION=jwt/],
    ['auto validation without a project id', { ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: key.json, ZITADEL_TOKEN_VALIDATION: 'auto' }, 'ZITADEL_PROJECT_ID', /required with ZITADEL_TOKEN_VALIDATION=auto/],
    ['auto validation without credentials', { ZITADEL_ISSUER: ISSUER, ZITADEL_PROJECT_ID: '2134', ZITADEL_TOKEN_VALIDATION: 'auto' }, 'ZITADEL_KEY_FILE', /required with ZITADEL_ISSUER when tokens are introspected/],
    ['a negative alias limit', { GRAPHQL_MAX_ALIASES: '-1' }, 'GRAPHQL_MAX_ALIASES', /whole number from 0 to 1000/],
    ['a zero depth limit', { GRAPHQL_MAX_DEPTH: '0' }, 'GRAPHQL_MAX_DEPTH', /1 to 100, got "0"/],
    ['a fractional cost limit', { GRAPHQL_MAX_COST: '10.5' }, 'GRAPHQL_MAX_COST', /whole number/],
    ['a directive limit that is not a number', { GRAPHQL_MAX_DIRECTIVES: 'many' }, 'GRAPHQL_MAX_DIRECTIVES', /whole number/],
    ['a zero token limit', { GRAPHQL_MAX_TOKENS: '0' }, 'GRAPHQL_MAX_TOKENS', /1 to 100000/],
    ['a query length limit out of range', { GRAPHQL_MAX_QUERY_LENGTH: '2000000' }, 'GRAPHQL_MAX_QUERY_LENGTH', /1 to 1000000/],
    ['a body limit below 1 KiB', { GRAPHQL_MAX_BODY_BYTES: '100' }, 'GRAPHQL_MAX_BODY_BYTES', /1024 to 67108864/],
    ['a body limit with a unit', { GRAPHQL_MAX_BODY_BYTES: '1mb' }, 'GRAPHQL_MAX_BODY_BYTES', /whole number/],
    ['a zero request timeout', { GRAPHQL_REQUEST_TIMEOUT_MS: '0' }, 'GRAPHQL_REQUEST_TIMEOUT_MS', /1 to 300000/],
    ['a request timeout not above ZITADEL_TIMEOUT_MS', { GRAPHQL_REQUEST_TIMEOUT_MS: '3000' }, 'GRAPHQL_REQUEST_TIMEOUT_MS', /longer than ZITADEL_TIMEOUT_MS \(3000\)/],
    ['batching as a word', { GRAPHQL_BATCHING: 'yes' }, 'GRAPHQL_BATCHING', /1 or 0 \(true or false\), got "yes"/],
    ['a trusted proxy count out of range', { TRUST_PROXY_HOPS: '11' }, 'TRUST_PROXY_HOPS', /0 to 10, got "11"/],
    ['an empty batch limit', { GRAPHQL_MAX_BATCH: '0' }, 'GRAPHQL_MAX_BATCH', /1 to 1000, got "0"/],
    ['introspection as a word', { GRAPHQL_INTROSPECTION: 'on' }, 'GRAPHQL_INTROSPECTION', /1 or 0/],
  ])('should name the variable when given %s', (_name, env, variable, message) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toMatch(message);
  });

  it.each(['acme.zitadel.cloud', 'ftp://acme.zitadel.cloud', 'https://acme.zitadel.cloud/?x=1', 'https://user:pw@acme.zitadel.cloud'])(
    'should refuse the issuer %j, naming ZITADEL_ISSUER',
    (issuer) => {
      const error = configError({ ZITADEL_ISSUER: issuer, ZITADEL_KEY_FILE: keyFile });
      expect(error.variable).toBe('ZITADEL_ISSUER');
    },
  );

  it('should offer the playground outside production only, naming GRAPHQL_PLAYGROUND', () => {
    const production = { NODE_ENV: 'production', ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_FILE: keyFile };
    expect(loadConfig(production).playground).toBe('off');
    expect(loadConfig({ ...production, GRAPHQL_PLAYGROUND: 'off' }).playground).toBe('off');
    for (const kind of ['graphiql', 'sandbox']) {
      expect(loadConfig({ GRAPHQL_PLAYGROUND: kind }).playground).toBe(kind);
      const error = configError({ ...production, GRAPHQL_PLAYGROUND: kind });
      expect(error.variable).toBe('GRAPHQL_PLAYGROUND');
      expect(error.message).toContain('NODE_ENV=production');
    }
    expect(loadConfig({ GRAPHQL_PLAYGROUND: 'off' }).playground).toBe('off');
    expect(configError({ GRAPHQL_PLAYGROUND: 'graphql-playground' }).message).toContain('must be one of graphiql, sandbox, off');
  });

  it('should read DEV_ISSUER_PORT for the development issuer only, and refuse the API\'s port', () => {
    expect(loadConfig({ DEV_ISSUER_PORT: '9010' }).devIssuerPort).toBe(9010);
    expect(loadConfig({ DEV_ISSUER_PORT: '0', PORT: '0' }).devIssuerPort).toBe(0);
    expect(configError({ DEV_ISSUER_PORT: '4000' }).message).toContain('must differ from PORT (4000)');
    expect(configError({ DEV_ISSUER_PORT: '65536' }).variable).toBe('DEV_ISSUER_PORT');
    const withIssuer = configError({ ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_FILE: keyFile, DEV_ISSUER_PORT: '4001' });
    expect(withIssuer.variable).toBe('DEV_ISSUER_PORT');
    expect(withIssuer.message).toContain('ZITADEL_ISSUER is set');
  });

  it('should never echo the key or the secret in an error', () => {
    const badPem = '-----BEGIN RSA PRIVATE KEY-----\nSECRETMATERIAL\n-----END RSA PRIVATE KEY-----';
    const error = configError({ ZITADEL_ISSUER: ISSUER, ZITADEL_KEY_JSON: wrongKey({ key: badPem }) });
    expect(error.message).not.toContain('SECRETMATERIAL');
  });
});

describe('loadConfig: the shared cache on Redis', () => {
  it('should use no Redis when REDIS_URL is unset', () => {
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ REDIS_TIMEOUT_MS: '100' }).redis).toBeUndefined();
  });

  it.each(['redis://redis:6379', 'rediss://user:pw@redis.example.com:6380/2', 'redis://[::1]:6379/', 'redis://127.0.0.1'])('should accept %s', (url) => {
    expect(loadConfig({ REDIS_URL: url }).redis).toEqual({ url, timeoutMs: 250 });
  });

  it('should read REDIS_TIMEOUT_MS', () => {
    expect(loadConfig({ REDIS_URL: 'redis://redis:6379', REDIS_TIMEOUT_MS: '100' }).redis?.timeoutMs).toBe(100);
  });

  it.each<[string, Record<string, string>, string, RegExp]>([
    ['another scheme', { REDIS_URL: 'http://redis:6379' }, 'REDIS_URL', /must start with redis:\/\/ or rediss:\/\/, got http:/],
    ['a host without //', { REDIS_URL: 'redis:6379' }, 'REDIS_URL', /must name a host/],
    ['no URL at all', { REDIS_URL: 'not a url' }, 'REDIS_URL', /is not a URL/],
    ['no host', { REDIS_URL: 'redis://' }, 'REDIS_URL', /must name a host/],
    ['a path that is not a database number', { REDIS_URL: 'redis://redis:6379/cache' }, 'REDIS_URL', /database number/],
    ['a zero timeout', { REDIS_URL: 'redis://redis:6379', REDIS_TIMEOUT_MS: '0' }, 'REDIS_TIMEOUT_MS', /1 to 60000/],
    ['a timeout that is not a number', { REDIS_TIMEOUT_MS: 'fast' }, 'REDIS_TIMEOUT_MS', /whole number/],
  ])('should name the variable when given %s', (_name, env, variable, message) => {
    const error = configError(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toMatch(message);
  });

  it.each(['http://user:s3cret@redis:6379', 'redis://user:s3cret@redis:6379/cache', 's3cret'])('should never echo the URL (it may hold a password): %s', (url) => {
    expect(configError({ REDIS_URL: url }).message).not.toContain('s3cret');
  });

  it('should log the URL without user, password or query', () => {
    expect(redisUrlForLog('rediss://user:s3cret@redis.example.com:6380/2?password=s3cret')).toBe('rediss://redis.example.com:6380/2');
  });
});
