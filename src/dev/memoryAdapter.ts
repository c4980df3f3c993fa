import { LRUCache } from 'lru-cache';

/**
 * Entries the issuer keeps at most, per kind of record. Bounded because any web page can make
 * it store an interaction (a GET of the authorization endpoint): a flood evicts the oldest
 * records instead of growing the process.
 */
const MAX_ENTRIES = 100_000;

/**
 * oidc-provider storage for the development issuer: LRU caches per issuer, entries expiring with
 * their tokens, looked up by id, by session uid, by user code, and by grant (revoked together).
 * Client-assertion replay records (ReplayDetection) are not kept, because ZITADEL accepts a
 * reused assertion and the server relies on that.
 */
export function createMemoryAdapter({ maxEntries = MAX_ENTRIES, now }: { readonly maxEntries?: number; readonly now?: () => number } = {}) {
  // `now`: tests move the clock that expiries are measured on.
  const options = { max: maxEntries, ...(now ? { perf: { now }, ttlResolution: 0 } : {}) };
  const store = new LRUCache<string, Record<string, unknown>>(options);
  /** Secondary keys (`uid:…`, `userCode:…`) to primary ones. */
  const aliases = new LRUCache<string, string>(options);
  /** Grant ids to the keys stored under them. */
  const byGrant = new LRUCache<string, Set<string>>(options);

  return class MemoryAdapter {
    constructor(readonly model: string) {}

    #key(id: string) {
      return `${this.model}:${id}`;
    }

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      if (this.model === 'ReplayDetection') return;
      const key = this.#key(id);
      const ttl = expiresIn ? { ttl: expiresIn * 1000 } : {};
      store.set(key, payload, ttl);
      if (typeof payload.uid === 'string') aliases.set(`uid:${payload.uid}`, key, ttl);
      if (typeof payload.userCode === 'string') aliases.set(`userCode:${payload.userCode}`, key, ttl);
      if (typeof payload.grantId === 'string') {
        const keys = byGrant.get(payload.grantId) ?? new Set<string>();
        keys.add(key);
        byGrant.set(payload.grantId, keys);
      }
    }

    async find(id: string) {
      return store.get(this.#key(id));
    }

    async findByUid(uid: string) {
      const key = aliases.get(`uid:${uid}`);
      return key === undefined ? undefined : store.get(key);
    }

    async findByUserCode(userCode: string) {
      const key = aliases.get(`userCode:${userCode}`);
      return key === undefined ? undefined : store.get(key);
    }

    async consume(id: string) {
      const payload = store.get(this.#key(id));
      if (payload) payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string) {
      store.delete(this.#key(id));
    }

    async revokeByGrantId(grantId: string) {
      for (const key of byGrant.get(grantId) ?? []) store.delete(key);
      byGrant.delete(grantId);
    }
  };
}
