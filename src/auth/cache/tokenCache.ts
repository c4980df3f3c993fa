import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Verdict } from '../verdict.js';

/** At most this many refusals are remembered (fewer when the cache is smaller): they never evict an identity. */
const MAX_REFUSALS = 10_000;

export interface TokenCacheOptions {
  /** 0: nothing is kept across requests (concurrent lookups are still shared). */
  readonly maxEntries: number;
  readonly maxTtlMs: number;
  readonly negativeTtlMs: number;
  /** Consulted on a local miss, before `load`; shared between replicas (e.g. Redis). */
  readonly shared?: SharedCache | undefined;
  readonly now?: () => number;
}

/** A verdict held by a shared cache, with the time it has left there. */
export interface SharedEntry {
  readonly verdict: Verdict;
  readonly ttlMs: number;
}

/**
 * A second cache level shared by replicas. It may be down or slow at any time, so it never
 * throws: `get` answers undefined on a miss or any failure (within its own timeout), and
 * `set` is fire-and-forget.
 */
export interface SharedCache {
  get(key: string): Promise<SharedEntry | undefined>;
  set(key: string, entry: SharedEntry): void;
  close(): Promise<void>;
}

export type VerdictTtlOptions = Pick<TokenCacheOptions, 'maxTtlMs' | 'negativeTtlMs'>;

/**
 * How long a verdict may be reused from `nowMs`: an active one until the earlier of the token's
 * `exp` and `maxTtlMs`, an inactive one for `negativeTtlMs`. Zero or less: do not keep it.
 */
export function verdictTtlMs(verdict: Verdict, nowMs: number, { maxTtlMs, negativeTtlMs }: VerdictTtlOptions): number {
  if (!verdict.active) return negativeTtlMs;
  const { exp } = verdict.identity;
  return exp === null ? maxTtlMs : Math.min(maxTtlMs, exp * 1000 - nowMs);
}

const EXPIRED: Verdict = { active: false, reason: 'expired' };

interface Entry {
  readonly verdict: Verdict;
  readonly expiresAtMs: number;
}

/** Cache key: SHA-256 of the token, so a heap dump or a shared cache never holds a usable token. */
export function tokenKey(token: string): string {
  return hash('sha256', token, 'base64url');
}

/**
 * Cross-request memory of introspection verdicts, bounded (LRU) and keyed by token hash.
 * An active verdict lives until the earlier of the token's `exp` and `maxTtlMs` (so revocation
 * is seen within `maxTtlMs`), an inactive one for `negativeTtlMs`. Concurrent misses for one
 * token share one load. Failed loads (a provider outage) are never stored.
 *
 * With a shared cache, a local miss asks it first, inside the same shared load, so concurrent
 * misses cost one shared lookup and at most one `load`. A verdict found there is copied
 * locally with the time it has left there; a loaded one is written there in the background.
 */
export class TokenCache {
  /** Active verdicts: the callers this replica serves from memory. */
  readonly #identities: LRUCache<string, Entry> | undefined;
  /**
   * Refusals, apart: a flood of made-up tokens (locally refused JWTs cost no call, so nothing
   * bounds their rate) churns this one and leaves the identities alone.
   */
  readonly #refusals: LRUCache<string, Entry> | undefined;
  readonly #inflight = new Map<string, Promise<Verdict>>();
  readonly #options: TokenCacheOptions;
  readonly #now: () => number;

  constructor(options: TokenCacheOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#identities = options.maxEntries > 0 ? new LRUCache({ max: options.maxEntries }) : undefined;
    this.#refusals = options.maxEntries > 0 ? new LRUCache({ max: Math.min(options.maxEntries, MAX_REFUSALS) }) : undefined;
  }

  /** Lookups answered from this process's memory, by verdict, and those that were not. */
  readonly stats = { hits: 0, negativeHits: 0, misses: 0 };

  /** Verdicts held, identities and refusals. */
  get size(): number {
    return (this.#identities?.size ?? 0) + (this.#refusals?.size ?? 0);
  }

  /**
   * The verdict this process remembers, synchronously, or undefined. A remembered identity whose
   * token has passed its `exp` turns into an inactive verdict: expiry is known without asking
   * ZITADEL, so such a token is refused (401) even while ZITADEL is down.
   */
  peek(token: string): Verdict | undefined {
    return this.#local(tokenKey(token))?.verdict;
  }

  /**
   * The cached verdict, or the one `load` produces (shared by concurrent callers for the token).
   * With `enough`, a cached verdict that is not enough (a locally validated JWT, when its scopes
   * are wanted) is replaced by what `load` produces.
   */
  get(token: string, load: () => Promise<Verdict>, enough?: (verdict: Verdict) => boolean): Promise<Verdict> {
    const key = tokenKey(token);
    const known = this.#local(key);
    if (known && (!enough || enough(known.verdict))) return Promise.resolve(known.verdict);
    this.stats.misses += 1;
    // A replacing load is not shared with plain lookups, which a cached verdict satisfies.
    const flight = enough ? `+${key}` : key;
    let pending = this.#inflight.get(flight);
    if (!pending) {
      pending = this.#lookup(key, load, enough).finally(() => this.#inflight.delete(flight));
      this.#inflight.set(flight, pending);
    }
    return pending;
  }

  async #lookup(key: string, load: () => Promise<Verdict>, enough?: (verdict: Verdict) => boolean): Promise<Verdict> {
    const shared = this.#options.shared;
    // Without a shared cache, `load` starts synchronously, as callers of get() may rely on.
    const found = shared ? await shared.get(key) : undefined;
    if (found && (!enough || enough(found.verdict))) {
      // Keep the shared entry's expiry (never beyond our own limits), so every replica forgets
      // a verdict when the first one to cache it would have.
      const ttl = Math.min(found.ttlMs, verdictTtlMs(found.verdict, this.#now(), this.#options));
      this.#store(key, found.verdict, ttl);
      if (ttl > 0) return found.verdict;
    }
    const verdict = await load();
    const ttl = verdictTtlMs(verdict, this.#now(), this.#options);
    this.#store(key, verdict, ttl);
    if (ttl > 0 && (verdict.active || !verdict.local)) shared?.set(key, { verdict, ttlMs: ttl });
    return verdict;
  }

  #local(key: string): Entry | undefined {
    const entry = this.#identities?.get(key) ?? this.#refusals?.get(key);
    if (!entry) return undefined;
    const now = this.#now();
    if (entry.expiresAtMs <= now) {
      const { verdict } = entry;
      if (verdict.active && verdict.identity.exp !== null && verdict.identity.exp * 1000 <= now) {
        const expired = this.#store(key, EXPIRED, this.#options.negativeTtlMs) ?? { verdict: EXPIRED, expiresAtMs: now };
        this.stats.negativeHits += 1;
        return expired;
      }
      this.#store(key, entry.verdict, 0);
      return undefined;
    }
    return this.#hit(entry);
  }

  #hit(entry: Entry): Entry {
    if (entry.verdict.active) this.stats.hits += 1;
    else this.stats.negativeHits += 1;
    return entry;
  }

  /** Replaces what is held for `key`; a TTL of 0 or less only forgets. */
  #store(key: string, verdict: Verdict, ttlMs: number): Entry | undefined {
    if (!this.#identities || !this.#refusals) return undefined;
    this.#identities.delete(key);
    this.#refusals.delete(key);
    if (ttlMs <= 0) return undefined;
    const entry: Entry = { verdict, expiresAtMs: this.#now() + ttlMs };
    (verdict.active ? this.#identities : this.#refusals).set(key, entry);
    return entry;
  }
}
