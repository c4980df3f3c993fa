/** A slot for one call to ZITADEL; release it when the call ends, however it ends. */
export interface Permit {
  release(): void;
}

export interface IntrospectionBudgetOptions {
  /** Calls started per second, on average; also the burst (one second's worth). */
  readonly ratePerSecond: number;
  /** Calls in flight at once. */
  readonly concurrency: number;
  readonly now?: () => number;
}

/**
 * How many calls we allow ourselves to make to ZITADEL: a token bucket (ZITADEL Cloud limits
 * introspection per IP) and a cap on calls in flight. It never queues: a caller that gets no
 * permit fails fast, so a flood of tokens cannot pile up work or memory. Pure but for the clock.
 */
export class IntrospectionBudget {
  readonly #rate: number;
  readonly #concurrency: number;
  readonly #now: () => number;
  /** In thousandths of a call, so millisecond refills add up exactly. */
  #milliTokens: number;
  #refilledAt: number;
  #inFlight = 0;

  constructor(options: IntrospectionBudgetOptions) {
    this.#rate = options.ratePerSecond;
    this.#concurrency = options.concurrency;
    this.#now = options.now ?? Date.now;
    this.#milliTokens = this.#rate * 1000;
    this.#refilledAt = this.#now();
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** A permit, or undefined when the rate or the concurrency is used up. */
  tryAcquire(): Permit | undefined {
    this.#refill();
    if (this.#inFlight >= this.#concurrency || this.#milliTokens < 1000) return undefined;
    this.#milliTokens -= 1000;
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

  /** Whole seconds until a refused caller may find a permit (at least 1). */
  retryAfterSeconds(): number {
    this.#refill();
    const waitMs = Math.max(0, 1000 - this.#milliTokens) / this.#rate;
    return Math.max(1, Math.ceil(waitMs / 1000));
  }

  #refill(): void {
    const now = this.#now();
    const elapsedMs = Math.max(0, now - this.#refilledAt);
    this.#milliTokens = Math.min(this.#rate * 1000, this.#milliTokens + elapsedMs * this.#rate);
    this.#refilledAt = now;
  }
}
