/**
 * Token verification: what the rest of the server may use of src/auth. `createAuth` builds the
 * chosen checks (introspection at ZITADEL behind its guard, local JWT validation, or both) behind
 * the two-level verdict cache; the GraphQL layer reads the caller through the TokenVerifier and
 * decides requirements with `unmet`.
 */
import type { Logger } from 'pino';
import type { CacheConfig, IntrospectionBudgetConfig, RedisConfig, TokenValidationMode, ZitadelConfig } from '../config.js';
import { clientIdOf } from '../config.js';
import { RedisCache, redisKeyPrefix, sharedCacheSecret } from './cache/redisCache.js';
import { TokenCache } from './cache/tokenCache.js';
import { chooseTokenChecks } from './validationMode.js';
import type { Verdict } from './verdict.js';
import { createTokenVerifier, type TokenVerifier } from './verifier.js';
import { IntrospectionBudget } from './zitadel/budget.js';
import { clientSecretBasic, privateKeyJwt } from './zitadel/clientAuth.js';
import { Discovery } from './zitadel/discovery.js';
import { IntrospectionGuard, type IntrospectionGuardOptions } from './zitadel/guard.js';
import { createHttpClient, type HttpClient } from './zitadel/httpClient.js';
import { createIntrospectionClient } from './zitadel/introspection.js';
import { JwksStore, type JwksStoreOptions } from './zitadel/jwks.js';
import { createJwtValidator } from './zitadel/jwtValidator.js';

export { AuthError, IntrospectionBudgetError, ProviderUnavailableError, type AuthFailureReason } from './errors.js';
export { parseAuthorization, type BearerCredential } from './bearer.js';
export { roleNames, type Identity } from './identity.js';
export { describe, unmet, type Requirement } from './requirements.js';
export type { TokenVerifier } from './verifier.js';
export type { Verdict } from './verdict.js';

export interface AuthConfig {
  readonly zitadel: ZitadelConfig;
  readonly tokenValidation: TokenValidationMode;
  readonly cache: CacheConfig;
  readonly introspectionBudget: IntrospectionBudgetConfig;
  /** A verdict cache shared with other replicas; undefined: this process only. */
  readonly redis: RedisConfig | undefined;
}

/** Timings production never changes; tests shorten them. */
export interface AuthTimings {
  readonly guard?: Pick<IntrospectionGuardOptions, 'failureThreshold' | 'retries' | 'retryBaseDelayMs' | 'retryWindowMs' | 'probe'>;
  readonly discoveryBackoff?: { readonly initialMs: number; readonly maxMs: number };
  readonly jwks?: Pick<JwksStoreOptions, 'cooldownMs' | 'maxAgeMs'>;
}

export interface AuthDeps {
  readonly logger: Logger;
  /** Outbound HTTP to ZITADEL; default node:http with keep-alive agents. */
  readonly http?: HttpClient;
  /**
   * The clock of everything that talks to ZITADEL: the budget's refill, the breaker's Retry-After,
   * the key store's cooldowns, and the `exp` and `nbf` checks of introspection and JWT validation
   * (the cache keeps real time).
   */
  readonly now?: () => number;
  readonly timings?: AuthTimings;
  /** Told of every introspection call as it ends: its duration, and its verdict (undefined when it failed). */
  readonly observeIntrospection?: (ms: number, verdict: Verdict | undefined) => void;
}

export interface Auth {
  readonly verifier: TokenVerifier;
  readonly discovery: Discovery;
  readonly cache: TokenCache;
  /** In front of introspection, when this server introspects. */
  readonly guard: IntrospectionGuard | undefined;
  /** `@requiresScopes` can never pass: JWTs validated locally, nothing introspected. */
  readonly scopesUnknowable: boolean;
  /** Discovery runs in the background and never blocks. */
  start(): void;
  /** Stops background work (discovery retries, breaker probes): the first step of a shutdown. */
  stopBackground(): void;
  /** Releases timers, sockets and the Redis connection. */
  close(): Promise<void>;
}

export function createAuth(config: AuthConfig, deps: AuthDeps): Auth {
  const { zitadel, tokenValidation: mode } = config;
  const { logger, now, timings = {} } = deps;
  const http = deps.http ?? createHttpClient();
  const clock = now ? { now } : {};
  const discovery = new Discovery({ issuer: zitadel.issuer, http, timeoutMs: zitadel.timeoutMs, logger, ...(timings.discoveryBackoff ? { backoff: timings.discoveryBackoff } : {}) });

  let shared: RedisCache | undefined;
  if (config.redis) {
    // What replicas share is sealed with a secret Redis does not have (loadConfig checks for it).
    if (!zitadel.credentials) throw new TypeError('a shared cache needs client credentials to seal its values');
    shared = new RedisCache({
      url: config.redis.url,
      timeoutMs: config.redis.timeoutMs,
      keyPrefix: redisKeyPrefix({ issuer: zitadel.issuer.href, clientId: clientIdOf(zitadel.credentials), projectId: zitadel.projectId, mode }),
      secret: sharedCacheSecret(zitadel.credentials),
      logger,
    });
  }
  const cache = new TokenCache({ ...config.cache, shared });

  let guard: IntrospectionGuard | undefined;
  const checks = chooseTokenChecks(mode, {
    introspection: () => {
      const { credentials } = zitadel;
      if (!credentials) throw new TypeError('introspection needs client credentials');
      guard = new IntrospectionGuard({
        introspection: createIntrospectionClient({
          discovery,
          clientAuth: credentials.method === 'private_key_jwt' ? privateKeyJwt(credentials.key) : clientSecretBasic(credentials.clientId, credentials.clientSecret),
          http,
          timeoutMs: zitadel.timeoutMs,
          identity: { projectId: zitadel.projectId },
          ...(deps.observeIntrospection ? { observe: deps.observeIntrospection } : {}),
          ...clock,
        }),
        budget: new IntrospectionBudget({ ...config.introspectionBudget, ...clock }),
        logger,
        ...timings.guard,
        ...clock,
      });
      return guard;
    },
    jwt: () => {
      if (zitadel.projectId === undefined) throw new TypeError('JWT validation needs the project id (the audience)');
      const keys = new JwksStore({ discovery, http, timeoutMs: zitadel.timeoutMs, logger, ...timings.jwks, ...clock });
      return createJwtValidator({ discovery, keys, audience: zitadel.projectId, ...clock });
    },
  });

  return {
    verifier: createTokenVerifier({ checks, cache, logger }),
    discovery,
    cache,
    guard,
    scopesUnknowable: mode === 'jwt',
    start() {
      void discovery.start();
    },
    stopBackground() {
      discovery.stop();
      guard?.stop();
    },
    async close() {
      this.stopBackground();
      http.close();
      await shared?.close();
    },
  };
}
