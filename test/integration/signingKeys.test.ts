import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Discovery } from '../../src/auth/zitadel/discovery.js';
import { ProviderUnavailableError } from '../../src/auth/errors.js';
import { createHttpClient, type HttpClient } from '../../src/auth/zitadel/httpClient.js';
import { JwksStore } from '../../src/auth/zitadel/jwks.js';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { memoryLog, withMessage } from '../helpers/logs.js';
import { until } from '../helpers/until.js';

/**
 * The key store against the real development issuer's /oauth/v2/keys over HTTP. Only the
 * store's clock is ours to move, so cooldowns and ages are tested without waiting.
 */
const COOLDOWN_MS = 5000;
const MAX_AGE_MS = 60_000;

let issuer: TestIssuer;
let http: HttpClient;
let discovery: Discovery;
let clock: number;
let store: JwksStore;
let logs: string[];

beforeAll(async () => {
  issuer = await startTestIssuer();
});

beforeEach(() => {
  const { logger, lines } = memoryLog();
  logs = lines;
  http = createHttpClient();
  discovery = new Discovery({ issuer: new URL(issuer.issuer), http, timeoutMs: 1000, logger });
  clock = 1_000_000;
  store = new JwksStore({ discovery, http, timeoutMs: 1000, logger, cooldownMs: COOLDOWN_MS, maxAgeMs: MAX_AGE_MS, now: () => clock });
});

afterEach(() => {
  issuer.jwksFault = undefined;
  discovery.stop();
  http.close();
});

afterAll(() => issuer.close());

const header = (kid: string) => ({ alg: 'RS256', kid });
const current = () => issuer.signingKeyIds.at(-1)!;

async function fetchesDuring(action: () => Promise<unknown>): Promise<number> {
  const before = issuer.jwksFetches;
  await action();
  return issuer.jwksFetches - before;
}

/** The ProviderUnavailableError `lookup` rejects with. */
async function outage(lookup: Promise<unknown>): Promise<ProviderUnavailableError> {
  const error = await lookup.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof ProviderUnavailableError) return error;
  throw new Error(`expected a ProviderUnavailableError, got ${String(error)}`);
}

describe('JwksStore', () => {
  it('should fetch the key set once and then find known keys without asking again', async () => {
    expect(await fetchesDuring(async () => {
      for (let i = 0; i < 5; i += 1) expect(await store.keyFor(header(current()))).toBeDefined();
    })).toBe(1);
    // Well past the cooldown, a known kid still costs nothing.
    clock += COOLDOWN_MS * 3;
    expect(await fetchesDuring(() => store.keyFor(header(current())))).toBe(0);
  });

  it('should refetch for unknown kids at most once per cooldown, however many arrive', async () => {
    const flood = () => Promise.all(Array.from({ length: 100 }, (_, i) => store.keyFor(header(`made-up-${i}`))));
    // The first flood arrives cold: one fetch, shared by all, finds none of them.
    expect(await fetchesDuring(async () => expect(await flood()).toEqual(Array(100).fill(undefined)))).toBe(1);
    expect(await fetchesDuring(flood)).toBe(0);
    clock += COOLDOWN_MS - 1;
    expect(await fetchesDuring(flood)).toBe(0);
    clock += 1;
    expect(await fetchesDuring(flood)).toBe(1);
    expect(await fetchesDuring(flood)).toBe(0);
  });

  it('should find a rotated key within one cooldown, even right after a flood, and keep the old one', async () => {
    const old = current();
    await store.keyFor(header(old));
    await store.keyFor(header('made-up'));
    const rotated = await issuer.rotateSigningKey();
    // The flood's fetch was just now: the new kid waits for the cooldown to end.
    expect(await store.keyFor(header(rotated))).toBeUndefined();
    clock += COOLDOWN_MS;
    expect(await fetchesDuring(async () => expect(await store.keyFor(header(rotated))).toBeDefined())).toBe(1);
    expect(await store.keyFor(header(old))).toBeDefined();
  });

  it('should not use a key for an algorithm the key does not allow', async () => {
    // The published key says alg RS256; PS256 or ES256 with its kid finds no usable key.
    expect(await store.keyFor({ alg: 'PS256', kid: current() })).toBeUndefined();
    expect(await store.keyFor({ alg: 'ES256', kid: current() })).toBeUndefined();
    expect(await store.keyFor({ alg: 'RS256', kid: current() })).toBeDefined();
  });

  it('should refresh an old key set in the background, so a retired key stops working', async () => {
    const rotated = await issuer.rotateSigningKey();
    const old = issuer.signingKeyIds[0]!;
    expect(await store.keyFor(header(old))).toBeDefined();
    issuer.retireSigningKey(rotated);
    clock += MAX_AGE_MS;
    // Answered from the known set at once; the refresh happens meanwhile.
    expect(await store.keyFor(header(rotated))).toBeDefined();
    await until(async () => (await store.keyFor(header(rotated))) === undefined, 'the retired key dropped');
    expect(await store.keyFor(header(old))).toBeDefined();
  });

  it('should keep known keys while the issuer is down, past the cooldown and the maximum age', async () => {
    const kid = current();
    await store.keyFor(header(kid));
    issuer.jwksFault = { kind: 'reset' };
    clock += MAX_AGE_MS * 2;
    const before = issuer.jwksFetches;
    expect(await store.keyFor(header(kid))).toBeDefined();
    await until(() => issuer.jwksFetches > before, 'a key set fetch');
    clock += COOLDOWN_MS;
    expect(await store.keyFor(header(kid))).toBeDefined();
  });

  it('should call an unknown kid a provider outage while the key set cannot be fetched, without refetching within the cooldown', async () => {
    await store.keyFor(header(current()));
    issuer.jwksFault = { kind: 'status', status: 503, headers: { 'retry-after': '2' } };
    clock += COOLDOWN_MS;
    const first = await outage(store.keyFor(header('rotated-meanwhile')));
    expect(first.code).toBe('PROVIDER_ERROR');
    // No fetch before the cooldown ends, so no earlier retry either.
    expect(first.retryAfterSeconds).toBe(COOLDOWN_MS / 1000);

    clock += 3000;
    let again: ProviderUnavailableError | undefined;
    expect(await fetchesDuring(async () => {
      again = await outage(store.keyFor(header('another-one')));
    })).toBe(0);
    expect(again?.retryAfterSeconds).toBe(2);

    issuer.jwksFault = undefined;
    clock += 2000;
    expect(await store.keyFor(header('rotated-meanwhile'))).toBeUndefined();
  });

  it("should fetch nothing before a 429's Retry-After has passed, however many unknown kids arrive", async () => {
    await store.keyFor(header(current()));
    issuer.jwksFault = { kind: 'status', status: 429, headers: { 'retry-after': '90' } };
    clock += COOLDOWN_MS;
    expect((await outage(store.keyFor(header('made-up-1')))).retryAfterSeconds).toBe(90);
    issuer.jwksFault = undefined;
    // ZITADEL Cloud's ban covers introspection too: the cooldown alone would end it early.
    for (const step of [COOLDOWN_MS, 60_000]) {
      clock += step;
      expect(await fetchesDuring(() => outage(store.keyFor(header('made-up-2'))))).toBe(0);
    }
    clock += 90_000 - COOLDOWN_MS - 60_000;
    expect(await fetchesDuring(() => store.keyFor(header('made-up-3')))).toBe(1);
  });

  it('should call a failed first fetch a provider outage, and recover after the cooldown', async () => {
    issuer.jwksFault = { kind: 'reset' };
    const error = await outage(store.keyFor(header(current())));
    expect(error.code).toBe('PROVIDER_UNREACHABLE');
    issuer.jwksFault = undefined;
    expect(await fetchesDuring(() => outage(store.keyFor(header(current()))))).toBe(0);
    clock += COOLDOWN_MS;
    expect(await store.keyFor(header(current()))).toBeDefined();
  });

  it('should log an outage once and its recovery', async () => {
    await store.keyFor(header(current()));
    issuer.jwksFault = { kind: 'status', status: 500 };
    for (let i = 0; i < 3; i += 1) {
      clock += COOLDOWN_MS;
      await store.keyFor(header(`unknown-${i}`)).catch(() => undefined);
    }
    issuer.jwksFault = undefined;
    clock += COOLDOWN_MS;
    await store.keyFor(header('unknown-after'));
    expect(withMessage(logs, /^cannot verify tokens/)).toHaveLength(1);
    expect(withMessage(logs, "the issuer's signing keys recovered")).toHaveLength(1);
  });
});
