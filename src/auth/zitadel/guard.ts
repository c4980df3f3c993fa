import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { OutageLog } from '../../observability/outageLog.js';
import { IntrospectionBudgetError, ProviderUnavailableError, logProviderOutage } from '../errors.js';
import type { TokenCheck, Verdict } from '../verdict.js';
import type { IntrospectionBudget } from './budget.js';

export interface IntrospectionGuardOptions {
  /** The introspection client: fails only with ProviderUnavailableError. */
  readonly introspection: TokenCheck;
  readonly budget: IntrospectionBudget;
  readonly logger: Logger;
  /** Failed calls in a row that open the circuit. */
  readonly failureThreshold?: number;
  /** Retries of a transient failure (connection error, 5xx), with jittered exponential backoff. */
  readonly retries?: number;
  readonly retryBaseDelayMs?: number;
  /** A retry starts only this soon after the first attempt, well inside a request's deadline. */
  readonly retryWindowMs?: number;
  /** Pause before the first background probe while open, doubling up to `maxMs`. */
  readonly probe?: { readonly initialMs: number; readonly maxMs: number };
  readonly now?: () => number;
  readonly random?: () => number;
}

/**
 * Protects ZITADEL from us, and our callers from a failing ZITADEL. In front of introspection:
 * - the budget (rate and concurrency) is asked before every call, retries and probes included;
 *   a refusal fails the request at once (IntrospectionBudgetError, a 429), nothing queues;
 * - transient failures are retried once or twice with jittered backoff;
 * - a 429 from ZITADEL stops all calls, probes included, until its Retry-After (a minute without
 *   one, at most two minutes: see transport.ts);
 * - after `failureThreshold` failures in a row the circuit opens: requests fail fast (503 with
 *   Retry-After) while probes in the background, not traffic, find out when ZITADEL is back,
 *   so even a replica that gets no requests recovers.
 * An outage is logged once per kind, and its end once, whatever the number of requests.
 */
export class IntrospectionGuard implements TokenCheck {
  readonly #options: IntrospectionGuardOptions;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #outage: OutageLog;
  #failures = 0;
  #open = false;
  #rateLimitedUntil = 0;
  #probeDelayMs: number;
  #nextProbeAt = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Requests refused because the budget was spent, for the metrics. */
  readonly stats = { budgetRejections: 0 };

  constructor(options: IntrospectionGuardOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#probeDelayMs = this.#probeSettings.initialMs;
    this.#outage = new OutageLog(options.logger, 'token introspection');
  }

  /** True while requests fail fast and probes run: the replica is not ready. */
  get open(): boolean {
    return this.#open;
  }

  async check(token: string, client?: string): Promise<Verdict> {
    try {
      const verdict = await this.#check(token, client);
      this.#outage.succeeded();
      return verdict;
    } catch (error) {
      if (error instanceof ProviderUnavailableError) logProviderOutage(this.#outage, error);
      throw error;
    }
  }

  async #check(token: string, client: string | undefined): Promise<Verdict> {
    const { retries = 2, retryBaseDelayMs = 100, retryWindowMs = 2000 } = this.#options;
    const started = this.#now();
    let previous: ProviderUnavailableError | undefined;
    for (let attempt = 0; ; attempt += 1) {
      // Before every attempt: a retry waking after the circuit opened, or after ZITADEL asked us
      // to wait, must not call.
      const refusal = this.#refusal();
      if (refusal) {
        if (previous) this.#failed(previous);
        throw refusal;
      }
      const permit = this.#options.budget.tryAcquire(client);
      if (!permit) {
        if (!previous) {
          this.stats.budgetRejections += 1;
          throw new IntrospectionBudgetError(this.#options.budget.retryAfterSeconds(client));
        }
        // No budget left for a retry: the failure stands.
        this.#failed(previous);
        throw previous;
      }
      let failure: ProviderUnavailableError;
      try {
        const verdict = await this.#options.introspection.check(token);
        this.#succeeded();
        return verdict;
      } catch (error) {
        // Anything else is a bug, not an outage: it leaves as it came (a failure it interrupted still counts).
        if (!(error instanceof ProviderUnavailableError)) {
          if (previous) this.#failed(previous);
          throw error;
        }
        failure = error;
      } finally {
        permit.release();
      }
      if (failure.code === 'PROVIDER_RATE_LIMITED') {
        this.#noteRateLimit(failure);
        throw failure;
      }
      // Discovery retries by itself; its absence says nothing new about introspection.
      if (failure.code === 'PROVIDER_NOT_READY') throw failure;
      // Full jitter, so replicas retrying after one blip do not arrive together.
      const delay = Math.round(this.#random() * retryBaseDelayMs * 2 ** attempt);
      if (failure.transient && attempt < retries && this.#now() + delay - started <= retryWindowMs) {
        previous = failure;
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      this.#failed(failure);
      throw failure;
    }
  }

  /** Stops background probes (on shutdown). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  get #probeSettings() {
    return this.#options.probe ?? { initialMs: 1000, maxMs: 30_000 };
  }

  #succeeded(): void {
    this.#failures = 0;
    if (!this.#open) return;
    this.#open = false;
    clearTimeout(this.#timer);
    this.#probeDelayMs = this.#probeSettings.initialMs;
    this.#options.logger.info('introspection circuit closed: ZITADEL answers again');
  }

  #failed(failure: ProviderUnavailableError): void {
    this.#failures += 1;
    if (this.#open || this.#failures < (this.#options.failureThreshold ?? 5)) return;
    this.#open = true;
    this.#options.logger.warn(
      { code: failure.code, failures: this.#failures },
      'introspection circuit open: failing fast and probing ZITADEL in the background',
    );
    this.#scheduleProbe();
  }

  #refusal(): ProviderUnavailableError | undefined {
    if (this.#open) {
      return new ProviderUnavailableError('CIRCUIT_OPEN', 'ZITADEL failed repeatedly; waiting for a probe to succeed', this.#secondsUntil(this.#nextProbeAt));
    }
    if (this.#now() < this.#rateLimitedUntil) {
      return new ProviderUnavailableError('PROVIDER_RATE_LIMITED', "honouring ZITADEL's Retry-After", this.#secondsUntil(this.#rateLimitedUntil));
    }
    return undefined;
  }

  #noteRateLimit(failure: ProviderUnavailableError): void {
    this.#rateLimitedUntil = Math.max(this.#rateLimitedUntil, this.#now() + failure.retryAfterSeconds * 1000);
  }

  /**
   * One probe loop at most: a new schedule replaces a pending one. A probe never calls before
   * ZITADEL's Retry-After has passed; probing goes on after it.
   */
  #scheduleProbe(): void {
    clearTimeout(this.#timer);
    if (this.#stopped) return;
    const backoff = this.#probeDelayMs;
    this.#probeDelayMs = Math.min(backoff * 2, this.#probeSettings.maxMs);
    const delay = Math.max(backoff, this.#rateLimitedUntil - this.#now());
    this.#nextProbeAt = this.#now() + delay;
    this.#timer = setTimeout(() => void this.#probe(), delay);
    // A pending probe must not keep a stopping process alive.
    this.#timer.unref();
  }

  async #probe(): Promise<void> {
    // A request's success may have closed the circuit since this probe was scheduled.
    if (!this.#open) return;
    const permit = this.#options.budget.tryAcquire();
    if (!permit) return this.#scheduleProbe();
    try {
      // A token nobody was issued: ZITADEL answers {"active":false}, which proves it works.
      await this.#options.introspection.check(`probe.${randomBytes(16).toString('base64url')}`);
      this.#succeeded();
    } catch (error) {
      if (error instanceof ProviderUnavailableError && error.code === 'PROVIDER_RATE_LIMITED') this.#noteRateLimit(error);
      // The circuit may have closed while this probe was out: then probing is over.
      if (this.#open) this.#scheduleProbe();
    } finally {
      permit.release();
    }
  }

  #secondsUntil(at: number): number {
    return Math.max(1, Math.ceil((at - this.#now()) / 1000));
  }
}
