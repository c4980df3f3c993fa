import { describe, expect, it } from '@jest/globals';
import { IntrospectionBudget } from '../../src/auth/introspectionBudget.js';

function clocked(ratePerSecond: number, concurrency: number) {
  const clock = { now: 1_000_000 };
  return { clock, budget: new IntrospectionBudget({ ratePerSecond, concurrency, now: () => clock.now }) };
}

describe('IntrospectionBudget', () => {
  it('should allow a burst of one second, then refuse with a Retry-After', () => {
    const { budget } = clocked(40, 1000);
    const permits = Array.from({ length: 45 }, () => budget.tryAcquire());
    expect(permits.filter(Boolean)).toHaveLength(40);
    expect(budget.retryAfterSeconds()).toBe(1);
  });

  it('should refill at the configured rate and never beyond one second of burst', () => {
    const { budget, clock } = clocked(10, 1000);
    for (let i = 0; i < 10; i += 1) budget.tryAcquire()?.release();
    expect(budget.tryAcquire()).toBeUndefined();
    clock.now += 300; // 3 calls' worth
    expect([budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire()].filter(Boolean)).toHaveLength(3);
    clock.now += 60_000; // a long quiet spell still allows only one second's worth
    expect(Array.from({ length: 20 }, () => budget.tryAcquire()).filter(Boolean)).toHaveLength(10);
  });

  it('should cap calls in flight and free a slot on release, once', () => {
    const { budget } = clocked(100, 2);
    const a = budget.tryAcquire()!;
    const b = budget.tryAcquire()!;
    expect(budget.tryAcquire()).toBeUndefined();
    a.release();
    a.release(); // a second release must not free a slot it does not hold
    expect(budget.inFlight).toBe(1);
    expect(budget.tryAcquire()).toBeDefined();
    expect(budget.tryAcquire()).toBeUndefined();
    b.release();
  });

  it('should hold a slow rate to its average: 1 per second means 60 in a minute', () => {
    const { budget, clock } = clocked(1, 10);
    let granted = 0;
    for (let ms = 0; ms < 60_000; ms += 100) {
      clock.now += 100;
      const permit = budget.tryAcquire();
      if (permit) {
        granted += 1;
        permit.release();
      }
    }
    expect(granted).toBeGreaterThanOrEqual(60);
    expect(granted).toBeLessThanOrEqual(61); // the initial burst of one
  });
});
