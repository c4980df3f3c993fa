import { describe, expect, it } from '@jest/globals';
import { IntrospectionBudget } from '../../src/auth/zitadel/budget.js';

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
    // Half a second's burst and its allowance, then 40 a second.
    expect(granted).toBeGreaterThanOrEqual(20 + 5 + 400 - 10);
    expect(granted).toBeLessThanOrEqual(40 + 400);
  });

  /**
   * `flooders` clients asking as fast as they can for ten seconds and, once the flood is on (after
   * its first second, when several addresses starting at once spend their allowances' bursts),
   * ten users a second with a new token each.
   */
  function contest(flooders: number) {
    const { budget, clock } = clocked(40, 16);
    const users = { granted: 0, asked: 0 };
    let flood = 0;
    for (let ms = 0; ms < 10_000; ms += 50) {
      clock.now += 50;
      for (let f = 0; f < flooders; f += 1) flood += grant(budget, `flooder-${f}`, 50);
      if (ms >= 1000 && ms % 1000 === 500) {
        for (let c = 0; c < 10; c += 1) {
          users.asked += 1;
          users.granted += grant(budget, `user-${ms}-${c}`, 1);
        }
      }
    }
    return { users, flood };
  }

  it.each([1, 2, 8])('should leave the others their new tokens however fast %i clients flood', (flooders) => {
    const { users, flood } = contest(flooders);
    expect(users.granted).toBe(users.asked);
    // The flooders got the rest, and never more than the whole budget.
    expect(flood).toBeGreaterThan(200);
    expect(flood + users.granted).toBeLessThanOrEqual(40 + 400);
  });

  it('should keep half the calls in flight for clients within their allowance', () => {
    const { budget } = clocked(1000, 4);
    // A heavy client past its allowance of 125 holds what lies above the reserve of two slots.
    for (let i = 0; i < 125; i += 1) budget.tryAcquire('heavy')?.release();
    const held = [budget.tryAcquire('heavy'), budget.tryAcquire('heavy'), budget.tryAcquire('heavy')];
    expect(held.filter(Boolean)).toHaveLength(2);
    expect(budget.tryAcquire('light-1')).toBeDefined();
    expect(budget.tryAcquire('light-2')).toBeDefined();
    expect(budget.tryAcquire('light-3')).toBeUndefined();
  });

  it('should track a bounded number of clients, however many addresses it sees', () => {
    const clock = { now: 0 };
    const budget = new IntrospectionBudget({ ratePerSecond: 1_000_000, concurrency: 1_000_000, maxClients: 100, now: () => clock.now });
    for (let i = 0; i < 5000; i += 1) budget.tryAcquire(`10.0.${i >> 8}.${i & 255}`)?.release();
    expect(budget.clients).toBe(100);
  });

  it('should tell a refused client when its allowance comes back', () => {
    const { budget } = clocked(16, 100);
    // Its allowance of four, and what lies above the others' reserve of eight: four more.
    expect(grant(budget, 'a', 20)).toBe(8);
    expect(budget.retryAfterSeconds('a')).toBe(1);
    expect(grant(budget, 'b', 20)).toBe(4);
  });
});
