/**
 * oidc-provider storage for the development issuer: one Map per issuer, entries expiring with
 * their tokens. Client-assertion replay records (ReplayDetection) are not kept, because
 * ZITADEL accepts a reused assertion and the server relies on that.
 */
export function createMemoryAdapter() {
  const store = new Map<string, { payload: Record<string, unknown>; expiresAtMs: number }>();

  return class MemoryAdapter {
    constructor(readonly model: string) {}

    #key(id: string) {
      return `${this.model}:${id}`;
    }

    async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number) {
      if (this.model === 'ReplayDetection') return;
      store.set(this.#key(id), { payload, expiresAtMs: expiresIn ? Date.now() + expiresIn * 1000 : Infinity });
    }

    async find(id: string) {
      const entry = store.get(this.#key(id));
      if (!entry) return undefined;
      if (entry.expiresAtMs <= Date.now()) {
        store.delete(this.#key(id));
        return undefined;
      }
      return entry.payload;
    }

    async findByUid() {
      return undefined;
    }

    async findByUserCode() {
      return undefined;
    }

    async consume(id: string) {
      const entry = store.get(this.#key(id));
      if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
    }

    async destroy(id: string) {
      store.delete(this.#key(id));
    }

    async revokeByGrantId() {}
  };
}
