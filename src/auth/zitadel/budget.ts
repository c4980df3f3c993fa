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

/** The part of the rate, and of the calls in flight, kept back for light users. */
const RESERVE = 0.5;
/** A client's own allowance: a sixteenth of the rate, with a burst of an eighth (at least four calls). */
const OWN_RATE = 1 / 16;
const OWN_BURST = 1 / 8;

/** A token bucket in thousandths of a call, so millisecond refills add up exactly. */
class Bucket {
  #milli: number;
  #refilledAt: number;

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
 * Fairness: a legitimate client needs a call now and then (one per new token); a flood needs
 * many. So each client (an address, see clientAddress.ts) has a small allowance of its own
 * (a sixteenth of the rate, with a burst of an eighth, at least four calls) that may use any
 * budget left; beyond it, a client takes only what lies above a reserve of half the rate and
 * half the calls in flight, kept for the others' allowances. A client alone still gets the whole
 * rate. Clients flooding at once leave the reserve to everyone else's allowances as long as
 * their own allowances add up to less than the rate: fewer than sixteen addresses. The
 * per-client state is an LRU of `maxClients`: bounded, whatever the number of addresses seen.
 */
export class IntrospectionBudget {
  readonly #global: Bucket;
  #inFlight = 0;
  readonly #concurrency: number;
  readonly #reservedCalls: number;
  readonly #reservedSlots: number;
  readonly #ownCapacityMilli: number;
  readonly #ownRate: number;
  readonly #clients: LRUCache<string, Bucket>;
  readonly #now: () => number;

  constructor(options: IntrospectionBudgetOptions) {
    const { ratePerSecond: rate, concurrency } = options;
    this.#concurrency = concurrency;
    // Never so much that beyond an allowance nothing could ever be taken.
    this.#reservedCalls = Math.min(rate * RESERVE, rate - 1);
    this.#reservedSlots = Math.min(Math.floor(concurrency * RESERVE), concurrency - 1);
    this.#ownRate = rate * OWN_RATE;
    this.#ownCapacityMilli = Math.max(4, rate * OWN_BURST) * 1000;
    this.#now = options.now ?? Date.now;
    this.#global = new Bucket(rate * 1000, rate, this.#now());
    this.#clients = new LRUCache({ max: options.maxClients ?? 10_000 });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Clients whose allowance is tracked now. */
  get clients(): number {
    return this.#clients.size;
  }

  /**
   * A permit, or undefined when the rate or the concurrency is used up for `client`. Without a
   * client (background probes, one a second at most) only the whole budget counts.
   */
  tryAcquire(client?: string): Permit | undefined {
    const now = this.#now();
    const available = this.#global.held(now);
    if (this.#inFlight >= this.#concurrency || available < 1) return undefined;
    if (client !== undefined) {
      const own = this.#allowanceOf(client, now);
      if (own.held(now) >= 1) own.take();
      // Beyond its allowance, only what lies above the others' reserve.
      else if (available - 1 < this.#reservedCalls || this.#inFlight >= this.#concurrency - this.#reservedSlots) return undefined;
    }
    this.#global.take();
    this.#inFlight += 1;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#inFlight -= 1;
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

  #allowanceOf(client: string, now: number): Bucket {
    let bucket = this.#clients.get(client);
    if (!bucket) {
      bucket = new Bucket(this.#ownCapacityMilli, this.#ownRate, now);
      this.#clients.set(client, bucket);
    }
    return bucket;
  }
}
