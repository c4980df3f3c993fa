import { LRUCache } from 'lru-cache';

/**
 * One instance of each value that many cached identities repeat: the same scope list, role
 * grants, organization, client and locale recur across thousands of users, and a separate copy
 * per cache entry would multiply the cache's memory. Bounded (LRU); values are frozen, since
 * every identity holding one shares it.
 */
export class SharedValues {
  readonly #pool: LRUCache<string, object | string>;

  constructor(max = 10_000) {
    this.#pool = new LRUCache({ max });
  }

  string(value: string): string;
  string(value: string | null): string | null;
  string(value: string | null): string | null {
    if (value === null) return null;
    return this.#shared(`s${value}`, () => value) as string;
  }

  list(values: readonly string[]): readonly string[] {
    return this.#shared(`l${JSON.stringify(values)}`, () => Object.freeze(values.map((v) => this.string(v)))) as readonly string[];
  }

  /** Role -> organization ids; prototype-less, so a role named `__proto__` stays a plain key. */
  grants(grants: Readonly<Record<string, readonly string[]>>): Readonly<Record<string, readonly string[]>> {
    return this.#shared(`g${JSON.stringify(grants)}`, () => {
      const copy: Record<string, readonly string[]> = Object.create(null);
      for (const [role, orgIds] of Object.entries(grants)) copy[this.string(role)] = this.list(orgIds);
      return Object.freeze(copy);
    }) as Readonly<Record<string, readonly string[]>>;
  }

  #shared<T extends object | string>(key: string, make: () => T): T {
    const found = this.#pool.get(key);
    if (found !== undefined) return found as T;
    const value = make();
    this.#pool.set(key, value);
    return value;
  }
}
