import { createLocalJWKSet, errors, type JSONWebKeySet, type JWK } from 'jose';
import type { Logger } from 'pino';
import type { Discovery } from './discovery.js';
import { DEFAULT_RETRY_AFTER_SECONDS, ProviderUnavailableError, asProviderError, logProviderOutage } from '../errors.js';
import type { HttpClient, HttpResponse } from './httpClient.js';
import type { CheckedJwtHeader } from './jwtClaims.js';
import { OutageLog } from '../../observability/outageLog.js';
import { providerErrorForStatus, sendToIssuer } from './transport.js';

/** The public key jose verifies with. */
export type VerificationKey = Awaited<ReturnType<ReturnType<typeof createLocalJWKSet>>>;

/** Key types of asymmetric signatures; an `oct` (shared secret) member is never a verification key. */
const SIGNING_KEY_TYPES = new Set(['RSA', 'EC', 'OKP']);

/**
 * Validates a JWKS response (RFC 7517 §5) and keeps the members that can verify signatures.
 * Pure. Every failure is a provider fault, never the caller's: a 429 passes on Retry-After.
 */
export function parseJwksResponse(response: HttpResponse): JSONWebKeySet {
  if (response.status !== 200) throw providerErrorForStatus(response, 'the key set');
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    throw new ProviderUnavailableError('PROVIDER_ERROR', 'the key set is not JSON', DEFAULT_RETRY_AFTER_SECONDS);
  }
  const keys = (body as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new ProviderUnavailableError('PROVIDER_ERROR', 'the key set lacks a "keys" array', DEFAULT_RETRY_AFTER_SECONDS);
  const usable = keys.filter(
    (key): key is JWK =>
      typeof key === 'object' && key !== null && SIGNING_KEY_TYPES.has((key as JWK).kty ?? '') && ((key as JWK).use === undefined || (key as JWK).use === 'sig'),
  );
  return { keys: usable };
}

export interface JwksStoreOptions {
  readonly discovery: Pick<Discovery, 'get' | 'invalidate'>;
  readonly http: HttpClient;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** At most one fetch per this interval, however many unknown `kid`s arrive. Default 5 s. */
  readonly cooldownMs?: number;
  /** Keys older than this are refreshed in the background (so removed keys stop working). Default 10 min. */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

export const DEFAULT_JWKS_COOLDOWN_MS = 5000;
export const DEFAULT_JWKS_MAX_AGE_MS = 10 * 60_000;

interface KeySet {
  readonly find: ReturnType<typeof createLocalJWKSet>;
  readonly fetchedAtMs: number;
}

/**
 * The issuer's signing keys, fetched through our own HTTP client (its timeout and size cap)
 * and looked up by `kid` with jose's createLocalJWKSet.
 *
 * - An unknown `kid` refetches the set, at most once per cooldown: a flood of made-up `kid`s
 *   costs ZITADEL one request per cooldown, and a rotated key is found within one cooldown.
 * - A failed fetch never evicts known keys: tokens signed with them keep validating while
 *   ZITADEL is down. Only a successful fetch replaces the set (and so drops removed keys).
 * - An unknown `kid` we could not look up is a provider outage (503), not the caller's fault;
 *   within the cooldown after a failed fetch (or its Retry-After, when longer) the same failure
 *   is answered without a new fetch.
 *
 * jose's createRemoteJWKSet has a cooldown too, but fetches with the global fetch (no size
 * cap), and once its cache age passes it must refetch before answering, so known keys stop
 * working when ZITADEL is down exactly when they are needed most.
 */
export class JwksStore {
  #keys: KeySet | undefined;
  #inflight: Promise<KeySet> | undefined;
  #lastAttemptMs = -Infinity;
  #lastFailure: ProviderUnavailableError | undefined;
  readonly #options: JwksStoreOptions;
  readonly #cooldownMs: number;
  readonly #maxAgeMs: number;
  readonly #now: () => number;
  readonly #outage: OutageLog;

  constructor(options: JwksStoreOptions) {
    this.#options = options;
    this.#cooldownMs = options.cooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_JWKS_MAX_AGE_MS;
    this.#now = options.now ?? Date.now;
    this.#outage = new OutageLog(options.logger, "the issuer's signing keys");
  }

  /**
   * The issuer's key for the header's `kid` and `alg`, or undefined when the issuer does not
   * publish one. Rejects with ProviderUnavailableError when the set could not be fetched.
   */
  async keyFor(header: CheckedJwtHeader): Promise<VerificationKey | undefined> {
    const known = this.#keys ?? (await this.#fetchUnlessCoolingDown());
    if (!known) return undefined;
    if (this.#now() - known.fetchedAtMs >= this.#maxAgeMs) this.#refreshInBackground();
    const key = await lookup(known, header);
    if (key) return key;
    const fresh = await this.#fetchUnlessCoolingDown();
    return fresh ? lookup(fresh, header) : undefined;
  }

  /**
   * A new set; undefined when a fetch succeeded within the cooldown (nothing new to learn);
   * the last failure again, with the wait until the cooldown ends, when that fetch failed.
   */
  #fetchUnlessCoolingDown(): Promise<KeySet | undefined> {
    if (this.#inflight) return this.#inflight;
    const sinceLastMs = this.#now() - this.#lastAttemptMs;
    // After a failure, its Retry-After when longer (a 429: ZITADEL's ban covers introspection too).
    const pauseMs = this.#lastFailure ? this.#lastFailure.retryAfterSeconds * 1000 : this.#cooldownMs;
    if (sinceLastMs < pauseMs) {
      if (!this.#lastFailure) return Promise.resolve(undefined);
      const { code, message } = this.#lastFailure;
      const wait = Math.max(1, Math.ceil((pauseMs - sinceLastMs) / 1000));
      return Promise.reject(new ProviderUnavailableError(code, message, wait, { cause: this.#lastFailure }));
    }
    this.#lastAttemptMs = this.#now();
    this.#inflight = this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  #refreshInBackground(): void {
    // Failures are logged by #fetch; the known keys stay in use.
    this.#fetchUnlessCoolingDown().catch(() => undefined);
  }

  async #fetch(): Promise<KeySet> {
    const { discovery, http, timeoutMs, logger } = this.#options;
    try {
      const { jwksUri } = await discovery.get();
      if (!jwksUri) throw new ProviderUnavailableError('PROVIDER_ERROR', 'discovery names no jwks_uri', DEFAULT_RETRY_AFTER_SECONDS);
      const response = await sendToIssuer(discovery, http, { method: 'GET', url: jwksUri, timeoutMs });
      const jwks = parseJwksResponse(response);
      const keys: KeySet = { find: createLocalJWKSet(jwks), fetchedAtMs: this.#now() };
      this.#keys = keys;
      this.#lastFailure = undefined;
      this.#outage.succeeded();
      logger.debug({ kids: jwks.keys.map((k) => k.kid) }, 'signing keys fetched');
      return keys;
    } catch (error) {
      const failure = asProviderError(error, 'the key set cannot be used');
      // Retry after the cooldown at the earliest: no fetch happens before it ends.
      const wait = Math.max(failure.retryAfterSeconds, Math.ceil(this.#cooldownMs / 1000));
      this.#lastFailure = new ProviderUnavailableError(failure.code, failure.message, wait, { cause: failure.cause, transient: failure.transient });
      logProviderOutage(this.#outage, this.#lastFailure);
      throw this.#lastFailure;
    }
  }
}

async function lookup(keys: KeySet, header: CheckedJwtHeader): Promise<VerificationKey | undefined> {
  try {
    return await keys.find({ alg: header.alg, kid: header.kid });
  } catch (error) {
    // No member with this kid usable for this alg: unknown to us (yet).
    if (error instanceof errors.JWKSNoMatchingKey) return undefined;
    // Two members with one kid, or one jose cannot import: the issuer's fault, not the caller's.
    throw new ProviderUnavailableError('PROVIDER_ERROR', `the issuer's key "${header.kid}" cannot be used`, DEFAULT_RETRY_AFTER_SECONDS, { cause: error });
  }
}
