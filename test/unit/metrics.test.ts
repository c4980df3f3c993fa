import { describe, expect, it } from '@jest/globals';
import { Metrics } from '../../src/observability/metrics.js';

async function requestCounts(metrics: Metrics): Promise<Record<string, number>> {
  const metric = await metrics.registry.getSingleMetric('graphql_requests_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [`${v.labels.status} ${v.labels.outcome}`, v.value]));
}

describe('Metrics', () => {
  it('should count every ended request once, by status and outcome, across scrapes', async () => {
    const metrics = new Metrics();
    const startedAt = performance.now();
    metrics.requestEnded({ startedAt, outcome: 'OK' }, 200);
    metrics.requestEnded({ startedAt, outcome: 'OK' }, 200);
    metrics.requestEnded({ startedAt, outcome: 'UNAUTHENTICATED' }, 401);
    expect(await requestCounts(metrics)).toEqual({ '200 OK': 2, '401 UNAUTHENTICATED': 1 });
    // A scrape with nothing new changes nothing; the next request adds one.
    expect(await requestCounts(metrics)).toEqual({ '200 OK': 2, '401 UNAUTHENTICATED': 1 });
    metrics.requestEnded({ startedAt, outcome: 'OK' }, 200);
    expect(await requestCounts(metrics)).toEqual({ '200 OK': 3, '401 UNAUTHENTICATED': 1 });
    expect(await metrics.registry.metrics()).toMatch(/^graphql_request_duration_seconds_count 4$/m);
  });
});
