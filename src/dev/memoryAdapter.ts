/**
 * oidc-provider storage for the development issuer: one Map per issuer, entries expiring with
 * their tokens, looked up by id, by session uid, by user code, and by grant (revoked together).
 * Client-assertion replay records (ReplayDetection) are not kept, because ZITADEL accepts a
 * reused assertion and the server relies on that.
 */
export function createMemoryAdapter() {
  interface Entry {
    readonly payload: Record<string, unknown>;
    readonly expiresAtMs: number;
  }
  const store = new Map<string, Entry>();
  /** Secondary keys (`uid:…`, `userCode:…`) to primary ones; grant ids to the keys stored under them. */
  const aliases = new Map<string, string>();
  const byGrant = new Map<string, Set<string>>();

  function live(key: string | undefined): Record<string, unknown> | undefined {
    const entry = key === undefined ? undefined : store.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs > Date.now()) return entry.payload;
    store.delete(key!);
    return undefined;
  }

  return class MemoryAdapter {
    constructor(readonly model: string) {}

    #key(id: string) {
      return `${this.model}:${id}`;
    }

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      if (this.model === 'ReplayDetection') return;
      const key = this.#key(id);
      store.set(key, { payload, expiresAtMs: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
      if (typeof payload.uid === 'string') aliases.set(`uid:${payload.uid}`, key);
      if (typeof payload.userCode === 'string') aliases.set(`userCode:${payload.userCode}`, key);
      if (typeof payload.grantId === 'string') {
        const keys = byGrant.get(payload.grantId) ?? new Set<string>();
        keys.add(key);
        byGrant.set(payload.grantId, keys);
      }
    }

    async find(id: string) {
      return live(this.#key(id));
    }

    async findByUid(uid: string) {
      return live(aliases.get(`uid:${uid}`));
    }

    async findByUserCode(userCode: string) {
      return live(aliases.get(`userCode:${userCode}`));
    }

    async consume(id: string) {
      const payload = live(this.#key(id));
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
