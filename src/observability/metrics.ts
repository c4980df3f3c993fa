import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Auth, Verdict } from '../auth/index.js';
import { TallyHistogram } from './tallyHistogram.js';

/** What a finished request tells the metrics. */
export interface RequestSummary {
  /** performance.now() when it arrived. */
  readonly startedAt: number;
  /** `OK`, or the first error's code. */
  readonly outcome: string;
}

/**
 * Prometheus metrics (`GET /metrics`). Counters the auth layer keeps anyway (cache statistics,
 * budget refusals, the breaker's state) are read at scrape time, so the hot path pays nothing
 * for them; requests and introspection calls are observed as they end.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'status' | 'outcome'>;
  /**
   * Requests ended since the last scrape, by status and outcome, handed to the counter when it
   * is collected: its inc() validates and hashes the labels on every call (about 2 µs of a
   * cached request's CPU, profiled under load), two map lookups here.
   */
  readonly #uncounted = new Map<number, Map<string, number>>();
  readonly #requestDuration: TallyHistogram;
  readonly #introspectionDuration: Histogram<'result'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#requests = new Counter({
      name: 'graphql_requests_total',
      help: 'GraphQL HTTP requests by status and outcome (OK or the first error code).',
      labelNames: ['status', 'outcome'],
      registers,
      collect: () => {
        for (const [status, outcomes] of this.#uncounted) {
          for (const [outcome, count] of outcomes) {
            if (count === 0) continue;
            this.#requests.inc({ status, outcome }, count);
            outcomes.set(outcome, 0);
          }
        }
      },
    });
    this.#requestDuration = new TallyHistogram(
      'graphql_request_duration_seconds',
      'Time from a GraphQL request arriving to its response ending.',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      this.registry,
    );
    this.#introspectionDuration = new Histogram({
      name: 'zitadel_introspection_duration_seconds',
      help: "Calls to ZITADEL's introspection endpoint, by result (active, inactive, error).",
      labelNames: ['result'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }

  /** Reports what `auth` counts anyway (cache statistics, budget refusals, the breaker), read at scrape time. */
  watch(auth: Pick<Auth, 'cache' | 'guard'>): void {
    const registers = [this.registry];
    const { cache, guard } = auth;
    countFrom('auth_cache_hits_total', 'Token lookups answered from memory with an identity.', () => cache.stats.hits, registers);
    countFrom('auth_cache_negative_hits_total', 'Token lookups answered from memory with a refusal (inactive or expired).', () => cache.stats.negativeHits, registers);
    countFrom('auth_cache_misses_total', 'Token lookups that had to be checked (Redis, introspection or JWT validation).', () => cache.stats.misses, registers);
    countFrom('zitadel_introspection_budget_rejections_total', 'Requests refused (429) because the introspection budget was spent.', () => guard?.stats.budgetRejections ?? 0, registers);
    new Gauge({
      name: 'auth_cache_entries',
      help: 'Verdicts held in memory.',
      registers,
      collect() {
        this.set(cache.size);
      },
    });
    new Gauge({
      name: 'zitadel_circuit_open',
      help: '1 while the introspection circuit breaker is open (failing fast, probing in the background).',
      registers,
      collect() {
        this.set(guard?.open ? 1 : 0);
      },
    });
  }

  requestEnded(request: RequestSummary, status: number): void {
    let outcomes = this.#uncounted.get(status);
    if (!outcomes) this.#uncounted.set(status, (outcomes = new Map()));
    outcomes.set(request.outcome, (outcomes.get(request.outcome) ?? 0) + 1);
    this.#requestDuration.observe((performance.now() - request.startedAt) / 1000);
  }

  /** An introspection call ended: its duration, and its verdict (undefined when it failed). */
  readonly introspectionEnded = (ms: number, verdict: Verdict | undefined): void => {
    this.#introspectionDuration.observe({ result: verdict === undefined ? 'error' : verdict.active ? 'active' : 'inactive' }, ms / 1000);
  };
}

/** A counter whose value a component keeps; Prometheus sees it grow by what it grew since the last scrape. */
function countFrom(name: string, help: string, read: () => number, registers: Registry[]): void {
  let reported = 0;
  new Counter({
    name,
    help,
    registers,
    collect() {
      const value = read();
      if (value > reported) this.inc(value - reported);
      reported = value;
    },
  });
}
