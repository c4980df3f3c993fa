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

describe('IntrospectionBudget shared between clients', () => {
  /** Permits granted to `client` out of `tries`, each released at once. */
  const grant = (budget: IntrospectionBudget, client: string, tries: number) =>
    Array.from({ length: tries }, () => {
      const permit = budget.tryAcquire(client);
      permit?.release();
      return permit;
    }).filter(Boolean).length;

  it('should give a client alone the whole rate', () => {
    const { budget, clock } = clocked(40, 100);
    let granted = grant(budget, 'a', 100);
    for (let ms = 0; ms < 10_000; ms += 50) {
      clock.now += 50;
      granted += grant(budget, 'a', 10);
    }
    // Half a second's burst, then 40 a second.
    expect(granted).toBeGreaterThanOrEqual(20 + 400 - 2);
    expect(granted).toBeLessThanOrEqual(40 + 400);
  });

  it('should leave the others half the rate however fast one client floods', () => {
    const { budget, clock } = clocked(40, 100);
    const others = { granted: 0, asked: 0 };
    let flood = 0;
    for (let ms = 0; ms < 10_000; ms += 50) {
      clock.now += 50;
      flood += grant(budget, 'flooder', 50);
      // Ten other clients, each with one new token a second: 10 a second in all.
      if (ms % 1000 === 0) {
        for (let c = 0; c < 10; c += 1) {
          others.asked += 1;
          others.granted += grant(budget, `user-${c}`, 1);
        }
      }
    }
    expect(others.granted).toBe(others.asked);
    // The flooder got the rest, and never the whole budget.
    expect(flood).toBeGreaterThan(200);
    expect(flood + others.granted).toBeLessThanOrEqual(40 + 400);
  });

  it('should give one client at most half the calls in flight', () => {
    const { budget } = clocked(1000, 4);
    const held = [budget.tryAcquire('a'), budget.tryAcquire('a'), budget.tryAcquire('a')];
    expect(held.filter(Boolean)).toHaveLength(2);
    expect(budget.tryAcquire('b')).toBeDefined();
  });

  it('should track a bounded number of clients, however many addresses it sees', () => {
    const clock = { now: 0 };
    const budget = new IntrospectionBudget({ ratePerSecond: 1_000_000, concurrency: 1_000_000, maxClients: 100, now: () => clock.now });
    for (let i = 0; i < 5000; i += 1) budget.tryAcquire(`10.0.${i >> 8}.${i & 255}`)?.release();
    expect(budget.clients).toBe(100);
  });

  it("should tell a refused client when its own share comes back", () => {
    const { budget } = clocked(4, 100);
    // Its own two, then nothing above the others' reserve of two.
    expect(grant(budget, 'a', 10)).toBe(2);
    expect(budget.retryAfterSeconds('a')).toBe(1);
    expect(grant(budget, 'b', 10)).toBe(2);
  });
});
