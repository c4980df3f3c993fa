import { describe, expect, it } from '@jest/globals';
import { Histogram, Registry } from 'prom-client';
import { TallyHistogram } from '../../src/observability/tallyHistogram.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.1, 1, 10];

/** The same observations through prom-client's Histogram and through ours, as Prometheus reads them. */
async function both(observations: readonly number[]): Promise<[theirs: string, ours: string]> {
  const theirs = new Registry();
  const ours = new Registry();
  const reference = new Histogram({ name: 'd_seconds', help: 'Durations.', buckets: BUCKETS, registers: [theirs] });
  const tally = new TallyHistogram('d_seconds', 'Durations.', BUCKETS, ours);
  for (const value of observations) {
    reference.observe(value);
    tally.observe(value);
  }
  return [await theirs.metrics(), await ours.metrics()];
}

describe('TallyHistogram', () => {
  it('should be scraped exactly as prom-client scrapes its own histogram', async () => {
    // On a bound, between bounds, below the first, above the last.
    const [theirs, ours] = await both([0.001, 0.0003, 0.004, 0.004, 0.05, 0.999, 1, 7, 12, 300]);
    expect(ours).toBe(theirs);
    expect(ours).toContain('d_seconds_bucket{le="0.001"} 2');
    expect(ours).toContain('d_seconds_bucket{le="10"} 8');
    expect(ours).toContain('d_seconds_bucket{le="+Inf"} 10');
    expect(ours).toContain('d_seconds_count 10');
  });

  it('should be scraped as prom-client scrapes it before any observation, and after a reset', async () => {
    const [theirs, ours] = await both([]);
    expect(ours).toBe(theirs);
    const registry = new Registry();
    const tally = new TallyHistogram('d_seconds', 'Durations.', BUCKETS, registry);
    tally.observe(0.5);
    registry.resetMetrics();
    expect(await registry.metrics()).toBe(ours);
  });
});
