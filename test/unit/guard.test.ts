import { afterEach, describe, expect, it } from '@jest/globals';
import { IntrospectionBudgetError, ProviderUnavailableError, type ProviderFailure } from '../../src/auth/errors.js';
import { IntrospectionBudget } from '../../src/auth/zitadel/budget.js';
import { IntrospectionGuard, type IntrospectionGuardOptions } from '../../src/auth/zitadel/guard.js';
import type { TokenCheck, Verdict } from '../../src/auth/verdict.js';
import { rejected } from '../helpers/errors.js';
import { identity } from '../helpers/identity.js';
import { entries, memoryLog, type LogEntry } from '../helpers/logs.js';
import { until } from '../helpers/until.js';

const INACTIVE: Verdict = { active: false, reason: 'inactive' };
const failure = (code: ProviderFailure, transient = false, retryAfterSeconds = 5) => new ProviderUnavailableError(code, code, retryAfterSeconds, { transient });

/** An introspector that answers from a script (then from `otherwise`) and records each token. */
function scripted(script: (Verdict | Error)[], otherwise: Verdict | Error = INACTIVE) {
  const tokens: string[] = [];
  const introspector: TokenCheck = {
    async check(token) {
      tokens.push(token);
      const next = script.length > 0 ? script.shift()! : otherwise;
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return { introspector, tokens, set otherwise(value: Verdict | Error) { otherwise = value; } };
}

const guards: IntrospectionGuard[] = [];
afterEach(() => guards.splice(0).forEach((g) => g.stop()));

function guard(introspector: TokenCheck, options: Partial<IntrospectionGuardOptions> = {}) {
  const log = memoryLog();
  const g = new IntrospectionGuard({
    introspection: introspector,
    budget: new IntrospectionBudget({ ratePerSecond: 1000, concurrency: 100 }),
    logger: log.logger,
    retryBaseDelayMs: 1,
    probe: { initialMs: 5, maxMs: 20 },
    ...options,
  });
  guards.push(g);
  /** `logged`: what it has logged so far. */
  return { g, logged: () => entries(log.lines) };
}

describe('IntrospectionGuard: budget', () => {
  it('should refuse at once, without calling ZITADEL, when the budget is spent', async () => {
    const fake = scripted([]);
    const { g } = guard(fake.introspector, { budget: new IntrospectionBudget({ ratePerSecond: 2, concurrency: 10 }) });
    await g.check('a');
    await g.check('b');
    const error = await rejected(() => g.check('c'), IntrospectionBudgetError);
    expect(error.retryAfterSeconds).toBe(1);
    expect(fake.tokens).toEqual(['a', 'b']);
  });

  it('should count retries against the budget', async () => {
    const fake = scripted([], failure('PROVIDER_UNREACHABLE', true));
    const { g } = guard(fake.introspector, { budget: new IntrospectionBudget({ ratePerSecond: 2, concurrency: 10 }), retries: 5 });
    const error = await rejected(() => g.check('a'), ProviderUnavailableError);
    expect(error.code).toBe('PROVIDER_UNREACHABLE');
    expect(fake.tokens).toHaveLength(2);
  });
});

describe('IntrospectionGuard: retries', () => {
  it('should retry transient failures and return the answer that follows', async () => {
    const fake = scripted([failure('PROVIDER_UNREACHABLE', true), failure('PROVIDER_ERROR', true), { active: true, identity: identity() }]);
    const { g } = guard(fake.introspector);
    await expect(g.check('t')).resolves.toEqual({ active: true, identity: identity() });
    expect(fake.tokens).toEqual(['t', 't', 't']);
  });

  it('should give up after two retries', async () => {
    const fake = scripted([], failure('PROVIDER_ERROR', true));
    const { g } = guard(fake.introspector);
    await rejected(() => g.check('t'), ProviderUnavailableError);
    expect(fake.tokens).toHaveLength(3);
  });

  it.each<ProviderFailure>(['PROVIDER_TIMEOUT', 'CLIENT_AUTH_REJECTED', 'PROVIDER_NOT_READY'])('should not retry %s', async (code) => {
    const fake = scripted([failure(code)]);
    const { g } = guard(fake.introspector);
    expect((await rejected(() => g.check('t'), ProviderUnavailableError)).code).toBe(code);
    expect(fake.tokens).toHaveLength(1);
  });

  it('should not retry once the retry window has passed', async () => {
    const clock = { now: 0 };
    const fake = scripted([], failure('PROVIDER_UNREACHABLE', true));
    fake.introspector.check = ((original) => async (token: string) => {
      clock.now += 5000; // each attempt "takes" 5 s
      return original(token);
    })(fake.introspector.check.bind(fake.introspector));
    const { g } = guard(fake.introspector, { now: () => clock.now, retryWindowMs: 2000 });
    await rejected(() => g.check('t'), ProviderUnavailableError);
    expect(fake.tokens).toHaveLength(1);
  });
});

describe("IntrospectionGuard: ZITADEL's 429", () => {
  it('should make no call before the Retry-After has passed', async () => {
    const clock = { now: 0 };
    const fake = scripted([failure('PROVIDER_RATE_LIMITED', false, 30)]);
    const { g } = guard(fake.introspector, { now: () => clock.now });
    await rejected(() => g.check('a'), ProviderUnavailableError);
    clock.now += 10_000;
    const error = await rejected(() => g.check('b'), ProviderUnavailableError);
    expect(error).toMatchObject({ code: 'PROVIDER_RATE_LIMITED', retryAfterSeconds: 20 });
    expect(fake.tokens).toEqual(['a']);
    clock.now += 20_000;
    await expect(g.check('c')).resolves.toEqual(INACTIVE);
    expect(fake.tokens).toEqual(['a', 'c']);
  });

  it('should schedule no probe before the Retry-After has passed', async () => {
    const clock = { now: 0 };
    const fake = scripted([...Array(5).fill(failure('PROVIDER_UNREACHABLE')), failure('PROVIDER_RATE_LIMITED', false, 120)], failure('PROVIDER_UNREACHABLE'));
    const { g } = guard(fake.introspector, { now: () => clock.now, retries: 0 });
    for (let i = 0; i < 5; i += 1) await rejected(() => g.check('t'), ProviderUnavailableError);
    await until(() => fake.tokens.length === 6, 'the probe that meets the 429');
    // The next probe (and with it the end of CIRCUIT_OPEN) is due when the two minutes are over,
    // not after the probe backoff of 10 ms.
    await until(async () => (await rejected(() => g.check('t'), ProviderUnavailableError)).retryAfterSeconds === 120, 'the next probe due after the Retry-After');
    expect(fake.tokens).toHaveLength(6);
  });
});

describe('IntrospectionGuard: circuit breaker', () => {
  it('should open after five failures in a row, fail fast, and log it once', async () => {
    const fake = scripted([], failure('PROVIDER_TIMEOUT'));
    const { g, logged } = guard(fake.introspector, { probe: { initialMs: 60_000, maxMs: 60_000 } });
    for (let i = 0; i < 5; i += 1) await rejected(() => g.check('t'), ProviderUnavailableError);
    expect(g.open).toBe(true);
    const error = await rejected(() => g.check('t'), ProviderUnavailableError);
    expect(error.code).toBe('CIRCUIT_OPEN');
    expect(error.retryAfterSeconds).toBe(60);
    expect(fake.tokens).toHaveLength(5);
    await rejected(() => g.check('t'), ProviderUnavailableError);
    expect(logged().filter((l) => /circuit open/.test(String(l.msg)))).toHaveLength(1);
  });

  it('should not open when failures are interrupted by a success', async () => {
    const fake = scripted([...Array(4).fill(failure('PROVIDER_TIMEOUT')), INACTIVE, ...Array(4).fill(failure('PROVIDER_TIMEOUT'))]);
    const { g } = guard(fake.introspector);
    for (let i = 0; i < 9; i += 1) await g.check('t').catch(() => undefined);
    expect(g.open).toBe(false);
  });

  it('should close after a background probe succeeds, with no traffic, and log the recovery', async () => {
    const fake = scripted([], failure('PROVIDER_UNREACHABLE'));
    const { g, logged } = guard(fake.introspector, { retries: 0 });
    for (let i = 0; i < 5; i += 1) await rejected(() => g.check('user-token'), ProviderUnavailableError);
    expect(g.open).toBe(true);
    await until(() => fake.tokens.length >= 7, 'two failed probes');
    expect(g.open).toBe(true);
    fake.otherwise = INACTIVE;
    await until(() => !g.open, 'the circuit closed');
    // Probes use made-up tokens, never a caller's.
    expect(fake.tokens.slice(5).every((t) => t.startsWith('probe.'))).toBe(true);
    expect(logged().filter((l) => /circuit closed/.test(String(l.msg)))).toHaveLength(1);
    await expect(g.check('user-token')).resolves.toEqual(INACTIVE);
  });

  it('should count probes against the budget', async () => {
    const fake = scripted([], failure('PROVIDER_UNREACHABLE'));
    const clock = { now: 0 };
    const budget = new IntrospectionBudget({ ratePerSecond: 5, concurrency: 10, now: () => clock.now });
    let asked = 0;
    const tryAcquire = budget.tryAcquire.bind(budget);
    budget.tryAcquire = (client) => ((asked += 1), tryAcquire(client));
    const { g } = guard(fake.introspector, { retries: 0, budget });
    for (let i = 0; i < 5; i += 1) await rejected(() => g.check('t'), ProviderUnavailableError);
    // The burst of 5 went to the requests: probes ask the budget, and are refused while nothing refills.
    await until(() => asked >= 8, 'three probes asking the budget');
    expect(fake.tokens).toHaveLength(5);
    // A fifth of a second refills one call: one probe gets it.
    clock.now += 200;
    await until(() => fake.tokens.length === 6, 'a probe once the budget refilled');
    expect(fake.tokens[5]).toMatch(/^probe\./);
  });

  it('should stop probing when a request closes the circuit while a probe is out', async () => {
    // Each call waits for the test to settle it, in call order.
    const calls: { token: string; settle: (outcome: Verdict | Error) => void }[] = [];
    const introspector: TokenCheck = {
      check: (token) =>
        new Promise((resolve, reject) => {
          calls.push({ token, settle: (outcome) => (outcome instanceof Error ? reject(outcome) : resolve(outcome)) });
        }),
    };
    const { g } = guard(introspector, { failureThreshold: 1, retries: 0 });
    const early = g.check('early');
    const failing = g.check('failing');
    calls[1]!.settle(failure('PROVIDER_ERROR'));
    await rejected(() => failing, ProviderUnavailableError);
    expect(g.open).toBe(true);
    await until(() => calls.length === 3, 'a probe');
    expect(calls[2]!.token).toMatch(/^probe\./);
    // The request that started before the outage succeeds: the circuit closes.
    calls[0]!.settle(INACTIVE);
    await early;
    expect(g.open).toBe(false);
    // The probe that was out fails afterwards: no further probe may follow.
    calls[2]!.settle(failure('PROVIDER_ERROR'));
    // An absence has no event: wait three probe periods (at most 20 ms each here).
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(calls).toHaveLength(3);
    expect(g.open).toBe(false);
  });

  it.each([
    ['the circuit opened', failure('PROVIDER_ERROR'), 'CIRCUIT_OPEN'],
    ['ZITADEL answered 429', failure('PROVIDER_RATE_LIMITED', false, 30), 'PROVIDER_RATE_LIMITED'],
  ])('should not retry once %s during the backoff', async (_what, othersFailure, code) => {
    const fake = scripted([failure('PROVIDER_UNREACHABLE', true), othersFailure]);
    // A 40 ms backoff before the retry; no probe within the test.
    const { g } = guard(fake.introspector, { failureThreshold: 1, retryBaseDelayMs: 40, random: () => 1, probe: { initialMs: 60_000, maxMs: 60_000 } });
    const retrying = rejected(() => g.check('retrying'), ProviderUnavailableError);
    await rejected(() => g.check('other'), ProviderUnavailableError);
    const error = await retrying;
    expect(error.code).toBe(code);
    expect(fake.tokens).toEqual(['retrying', 'other']);
  });
});

describe('IntrospectionGuard: outage log', () => {
  const cannotVerify = (logs: LogEntry[]) => logs.filter((l) => String(l.msg).startsWith('cannot verify tokens'));

  it('should log an outage once per kind, and its end once, however many requests fail', async () => {
    const fake = scripted([failure('CLIENT_AUTH_REJECTED'), failure('CLIENT_AUTH_REJECTED'), failure('CLIENT_AUTH_REJECTED')]);
    const { g, logged } = guard(fake.introspector);
    for (let i = 0; i < 3; i += 1) await rejected(() => g.check('t'), ProviderUnavailableError);
    await g.check('t');
    await g.check('t');
    // A rejected key needs an operator: error level (50).
    expect(cannotVerify(logged()).map((l) => [l.level, l.code])).toEqual([[50, 'CLIENT_AUTH_REJECTED']]);
    expect(logged().filter((l) => l.msg === 'token introspection recovered')).toEqual([expect.objectContaining({ after: 'CLIENT_AUTH_REJECTED' })]);
  });

  it('should log a budget refusal as no outage: it is not one', async () => {
    const fake = scripted([]);
    const { g, logged } = guard(fake.introspector, { budget: new IntrospectionBudget({ ratePerSecond: 1, concurrency: 10 }) });
    await g.check('a');
    await rejected(() => g.check('b'), IntrospectionBudgetError);
    expect(logged()).toEqual([]);
  });

  it('should let a failure that is no provider outage (a bug) through unchanged, unretried and uncounted', async () => {
    const bug = new TypeError('a bug');
    const fake = scripted([bug, bug, bug, bug, bug, bug]);
    const { g, logged } = guard(fake.introspector, { failureThreshold: 1 });
    expect(await rejected(() => g.check('t'), TypeError)).toBe(bug);
    expect(fake.tokens).toHaveLength(1);
    expect(g.open).toBe(false);
    expect(cannotVerify(logged())).toEqual([]);
  });
});

