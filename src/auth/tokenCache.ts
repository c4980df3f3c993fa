import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Identity } from './identity.js';

/** What introspection decided about a token, in the compact form we keep. */
export type Verdict = { readonly active: true; readonly identity: Identity } | { readonly active: false };

export interface TokenCacheOptions {
  /** 0: nothing is kept across requests (concurrent lookups are still shared). */
  readonly maxEntries: number;
  readonly maxTtlMs: number;
  readonly negativeTtlMs: number;
  readonly now?: () => number;
}

interface Entry {
  readonly verdict: Verdict;
  readonly expiresAtMs: number;
}

/** Cache key: SHA-256 of the token, so a heap dump or a shared cache never holds a usable token. */
export function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * Cross-request memory of introspection verdicts, bounded (LRU) and keyed by token hash.
 * An active verdict lives until the earlier of the token's `exp` and `maxTtlMs` (so revocation
 * is seen within `maxTtlMs`), an inactive one for `negativeTtlMs`. Concurrent misses for one
 * token share one load. Failed loads (a provider outage) are never stored.
 */
export class TokenCache {
  readonly #entries: LRUCache<string, Entry> | undefined;
  readonly #inflight = new Map<string, Promise<Verdict>>();
  readonly #options: TokenCacheOptions;
  readonly #now: () => number;

  constructor(options: TokenCacheOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#entries = options.maxEntries > 0 ? new LRUCache({ max: options.maxEntries }) : undefined;
  }

  get size(): number {
    return this.#entries?.size ?? 0;
  }

  /** The cached verdict, or the one `load` produces (shared by concurrent callers for the token). */
  get(token: string, load: () => Promise<Verdict>): Promise<Verdict> {
    const key = tokenKey(token);
    const entry = this.#entries?.get(key);
    if (entry) {
      if (entry.expiresAtMs > this.#now()) return Promise.resolve(entry.verdict);
      this.#entries?.delete(key);
    }
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = load().then(
        (verdict) => {
          this.#inflight.delete(key);
          this.#store(key, verdict);
          return verdict;
        },
        (error: unknown) => {
          this.#inflight.delete(key);
          throw error;
        },
      );
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  #store(key: string, verdict: Verdict): void {
    if (!this.#entries) return;
    const now = this.#now();
    const { maxTtlMs, negativeTtlMs } = this.#options;
    const exp = verdict.active ? verdict.identity.exp : null;
    const ttl = verdict.active ? Math.min(maxTtlMs, exp === null ? maxTtlMs : exp * 1000 - now) : negativeTtlMs;
    if (ttl > 0) this.#entries.set(key, { verdict, expiresAtMs: now + ttl });
  }
}
