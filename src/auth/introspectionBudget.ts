import { LRUCache } from 'lru-cache';

/** A slot for one call to ZITADEL; release it when the call ends, however it ends. */
export interface Permit {
  release(): void;
}

export interface IntrospectionBudgetOptions {
  /** Calls started per second, on average; also the burst (one second's worth). */
  readonly ratePerSecond: number;
  /** Calls in flight at once. */
  readonly concurrency: number;
  /** Clients whose share is tracked at once (least recently seen forgotten first). */
  readonly maxClients?: number;
  readonly now?: () => number;
}

/**
 * The part of the budget one client may count on as its own, and the part of the rate kept
 * back for the others whenever a client spends more than that.
 */
const SHARE = 0.5;

/** A token bucket in thousandths of a call, so millisecond refills add up exactly. */
class Bucket {
  #milli: number;
  #refilledAt: number;
  inFlight = 0;

  constructor(
    readonly capacityMilli: number,
    readonly ratePerSecond: number,
    now: number,
  ) {
    this.#milli = capacityMilli;
    this.#refilledAt = now;
  }

  /** Whole calls' worth held now (after refilling to `now`). */
  held(now: number): number {
    const elapsedMs = Math.max(0, now - this.#refilledAt);
    this.#milli = Math.min(this.capacityMilli, this.#milli + elapsedMs * this.ratePerSecond);
    this.#refilledAt = now;
    return this.#milli / 1000;
  }

  take(): void {
    this.#milli -= 1000;
  }

  /** Milliseconds until it holds one call's worth. */
  msUntilOne(): number {
    return Math.max(0, 1000 - this.#milli) / this.ratePerSecond;
  }
}

/**
 * How many calls we allow ourselves to make to ZITADEL: a token bucket (ZITADEL Cloud limits
 * introspection per IP) and a cap on calls in flight, shared fairly between clients. It never
 * queues: a caller that gets no permit fails fast, so a flood of tokens cannot pile up work or
 * memory. Pure but for the clock.
 *
 * Fairness: each client (an address, see clientAddress.ts) has a bucket of its own of half the
 * rate, and may use at most half the calls in flight. Beyond its own bucket a client may only
 * take what lies above a reserve of half the burst, kept for the others. So a client alone gets
 * the whole rate, and a client flooding the server with made-up tokens leaves the others at
 * least half of it (and their own buckets full), however fast it sends. The per-client state is
 * an LRU of `maxClients`: bounded, whatever the number of addresses seen. Many addresses
 * flooding at once are bounded by the whole budget only.
 */
export class IntrospectionBudget {
  readonly #global: Bucket;
  readonly #concurrency: number;
  readonly #clientConcurrency: number;
  readonly #reserve: number;
  readonly #clients: LRUCache<string, Bucket>;
  readonly #rate: number;
  readonly #now: () => number;

  constructor(options: IntrospectionBudgetOptions) {
    this.#rate = options.ratePerSecond;
    this.#concurrency = options.concurrency;
    this.#clientConcurrency = Math.max(1, Math.ceil(options.concurrency * SHARE));
    // A tiny rate keeps no reserve it could never exceed (the burst is the rate).
    this.#reserve = Math.min(options.ratePerSecond * SHARE, options.ratePerSecond - 1);
    this.#now = options.now ?? Date.now;
    this.#global = new Bucket(this.#rate * 1000, this.#rate, this.#now());
    this.#clients = new LRUCache({ max: options.maxClients ?? 10_000 });
  }

  get inFlight(): number {
    return this.#global.inFlight;
  }

  /** Clients whose share is tracked now. */
  get clients(): number {
    return this.#clients.size;
  }

  /**
   * A permit, or undefined when the rate or the concurrency is used up, for everyone or for
   * `client`'s share. Without a client (background probes) only the whole budget counts.
   */
  tryAcquire(client?: string): Permit | undefined {
    const now = this.#now();
    const global = this.#global;
    const available = global.held(now);
    if (global.inFlight >= this.#concurrency || available < 1) return undefined;
    const own = client === undefined ? undefined : this.#bucketOf(client, now);
    if (own) {
      if (own.inFlight >= this.#clientConcurrency) return undefined;
      // Its own share first; beyond it, only what lies above the others' reserve.
      if (own.held(now) >= 1) own.take();
      else if (available - 1 < this.#reserve) return undefined;
      own.inFlight += 1;
    }
    global.take();
    global.inFlight += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        global.inFlight -= 1;
        if (own) own.inFlight -= 1;
      },
    };
  }

  /** Whole seconds until a refused caller (`client`) may find a permit (at least 1). */
  retryAfterSeconds(client?: string): number {
    const now = this.#now();
    this.#global.held(now);
    let waitMs = this.#global.msUntilOne();
    const own = client === undefined ? undefined : this.#clients.get(client);
    if (own) {
      own.held(now);
      waitMs = Math.max(waitMs, own.msUntilOne());
    }
    return Math.max(1, Math.ceil(waitMs / 1000));
  }

  #bucketOf(client: string, now: number): Bucket {
    let bucket = this.#clients.get(client);
    if (!bucket) {
      bucket = new Bucket(Math.max(1000, this.#rate * SHARE * 1000), this.#rate * SHARE, now);
      this.#clients.set(client, bucket);
    }
    return bucket;
  }
}
