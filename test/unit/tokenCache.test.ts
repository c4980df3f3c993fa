import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { TokenCache, tokenKey, verdictTtlMs, type SharedCache } from '../../src/auth/cache/tokenCache.js';
import type { Verdict } from '../../src/auth/verdict.js';
import { identity as makeIdentity } from '../helpers/identity.js';

const identity = (exp: number | null) => makeIdentity({ exp });

function setup(options: Partial<ConstructorParameters<typeof TokenCache>[0]> = {}) {
  const clock = { now: 1_700_000_000_000 };
  const cache = new TokenCache({ maxEntries: 100, maxTtlMs: 300_000, negativeTtlMs: 10_000, now: () => clock.now, ...options });
  let loads = 0;
  const lookup = (token: string, verdict: Verdict) =>
    cache.get(token, async () => {
      loads += 1;
      return verdict;
    });
  return { cache, clock, lookup, loads: () => loads };
}

describe('tokenKey', () => {
  it('should be the SHA-256 of the token, never the token', () => {
    expect(tokenKey('secret-token')).toBe(createHash('sha256').update('secret-token').digest('base64url'));
    expect(tokenKey('secret-token')).not.toContain('secret');
  });
});

describe('TokenCache', () => {
  it('should load once and then answer from memory', async () => {
    const { lookup, loads } = setup();
    const active: Verdict = { active: true, identity: identity(1_700_003_600) };
    expect(await lookup('t', active)).toBe(active);
    expect(await lookup('t', active)).toBe(active);
    expect(loads()).toBe(1);
  });

  it('should refuse an identity at the token’s exp without asking again: expiry is known locally', async () => {
    const { cache, lookup, loads, clock } = setup();
    const active: Verdict = { active: true, identity: identity(clock.now / 1000 + 60) };
    await lookup('t', active);
    clock.now += 59_999;
    expect(await lookup('t', active)).toBe(active);
    clock.now += 1;
    expect(cache.peek('t')).toEqual({ active: false, reason: 'expired' });
    expect(await lookup('t', active)).toEqual({ active: false, reason: 'expired' });
    expect(loads()).toBe(1);
  });

  it('should peek synchronously, and count hits, negative hits and misses', async () => {
    const { cache, lookup } = setup();
    const active: Verdict = { active: true, identity: identity(null) };
    expect(cache.peek('t')).toBeUndefined();
    await lookup('t', active);
    await lookup('bad', { active: false });
    expect(cache.peek('t')).toBe(active);
    expect(cache.peek('bad')).toEqual({ active: false });
    await lookup('t', active);
    expect(cache.stats).toEqual({ hits: 2, negativeHits: 1, misses: 2 });
  });

  it('should forget an identity after the max TTL when exp is later', async () => {
    const { lookup, loads, clock } = setup({ maxTtlMs: 30_000 });
    const active: Verdict = { active: true, identity: identity(clock.now / 1000 + 3600) };
    await lookup('t', active);
    clock.now += 29_999;
    await lookup('t', active);
    expect(loads()).toBe(1);
    clock.now += 1;
    await lookup('t', active);
    expect(loads()).toBe(2);
  });

  it('should not keep an identity whose exp has already passed', async () => {
    const { lookup, loads, clock } = setup();
    const stale: Verdict = { active: true, identity: identity(clock.now / 1000 - 1) };
    await lookup('t', stale);
    await lookup('t', stale);
    expect(loads()).toBe(2);
  });

  it('should remember an inactive verdict for the negative TTL only', async () => {
    const { lookup, loads, clock } = setup({ negativeTtlMs: 10_000 });
    await lookup('bad', { active: false });
    clock.now += 9_999;
    await lookup('bad', { active: false });
    expect(loads()).toBe(1);
    clock.now += 1;
    await lookup('bad', { active: false });
    expect(loads()).toBe(2);
  });

  it('should evict the least recently used entry beyond its bound', async () => {
    const { cache, lookup, loads } = setup({ maxEntries: 2 });
    const v: Verdict = { active: true, identity: identity(null) };
    await lookup('a', v);
    await lookup('b', v);
    await lookup('a', v);
    await lookup('c', v);
    expect(cache.size).toBe(2);
    await lookup('a', v);
    expect(loads()).toBe(3);
    await lookup('b', v);
    expect(loads()).toBe(4);
  });

  it('should share one load among concurrent lookups of a token', async () => {
    const { cache } = setup();
    let loads = 0;
    let release!: (v: Verdict) => void;
    const load = () => {
      loads += 1;
      return new Promise<Verdict>((resolve) => (release = resolve));
    };
    const pending = Array.from({ length: 20 }, () => cache.get('t', load));
    release({ active: false });
    expect(new Set(await Promise.all(pending)).size).toBe(1);
    expect(loads).toBe(1);
  });

  it('should never store a failed load', async () => {
    const { cache } = setup();
    let calls = 0;
    const failing = async (): Promise<Verdict> => {
      calls += 1;
      throw new Error('down');
    };
    await expect(cache.get('t', failing)).rejects.toThrow('down');
    await expect(cache.get('t', failing)).rejects.toThrow('down');
    expect(calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('should keep nothing across lookups when disabled, but still share concurrent loads', async () => {
    const { cache, lookup, loads } = setup({ maxEntries: 0 });
    const v: Verdict = { active: true, identity: identity(null) };
    await Promise.all([lookup('t', v), lookup('t', v)]);
    expect(loads()).toBe(1);
    await lookup('t', v);
    expect(loads()).toBe(2);
    expect(cache.size).toBe(0);
  });
});

describe('TokenCache.peek', () => {
  it('should answer until the entry expires, and refuse the token at its exp', async () => {
    const { cache, lookup, clock } = setup();
    const active: Verdict = { active: true, identity: identity(clock.now / 1000 + 60) };
    await lookup('t', active);
    expect(cache.peek('t')).toBe(active);
    clock.now += 59_999;
    expect(cache.peek('t')).toBe(active);
    clock.now += 1;
    expect(cache.peek('t')).toEqual({ active: false, reason: 'expired' });
    expect(cache.peek('t')).toEqual({ active: false, reason: 'expired' });
  });

  it('should answer with the newer verdict once one replaced the entry', async () => {
    const { cache, lookup } = setup();
    const local: Verdict = { active: true, identity: makeIdentity({ scopes: null }) };
    const introspected: Verdict = { active: true, identity: makeIdentity({ scopes: ['openid'] }) };
    await lookup('t', local);
    expect(cache.peek('t')).toBe(local);
    await cache.get('t', async () => introspected, (verdict) => verdict.active && verdict.identity.scopes !== null);
    expect(cache.peek('t')).toBe(introspected);
  });

  it('should forget a verdict at the max TTL however often it is asked for', async () => {
    const { cache, lookup, clock } = setup({ maxTtlMs: 1_000 });
    const active: Verdict = { active: true, identity: identity(null) };
    await lookup('t', active);
    expect(cache.peek('t')).toBe(active);
    clock.now += 1_000;
    expect(cache.peek('t')).toBeUndefined();
  });
});

describe('TokenCache: refusals apart from identities', () => {
  it('should never evict an identity for a refusal, however many made-up tokens are refused', async () => {
    const { cache, lookup } = setup({ maxEntries: 3 });
    const active: Verdict = { active: true, identity: identity(null) };
    for (const token of ['a', 'b', 'c']) await lookup(token, active);
    for (let i = 0; i < 100; i += 1) await lookup(`made-up-${i}`, { active: false, reason: 'bad_signature', local: true });
    for (const token of ['a', 'b', 'c']) expect(cache.peek(token)).toBe(active);
    // The refusals are bounded too: the latest are remembered, the oldest forgotten.
    expect(cache.peek('made-up-99')).toEqual({ active: false, reason: 'bad_signature', local: true });
    expect(cache.peek('made-up-0')).toBeUndefined();
    expect(cache.size).toBe(6);
  });

  it('should share an introspection refusal with other replicas, but never a local one', async () => {
    const written: string[] = [];
    const shared: SharedCache = { get: async () => undefined, set: (key) => void written.push(key), close: async () => undefined };
    const { lookup } = setup({ shared });
    await lookup('made-up', { active: false, reason: 'bad_signature', local: true });
    await lookup('revoked', { active: false, reason: 'inactive' });
    await lookup('valid', { active: true, identity: identity(null) });
    expect(written).toEqual([tokenKey('revoked'), tokenKey('valid')]);
  });

  it('should move a token from identities to refusals when it expires, keeping one entry', async () => {
    const { cache, lookup, clock } = setup();
    await lookup('t', { active: true, identity: identity(clock.now / 1000 + 1) });
    clock.now += 1000;
    expect(cache.peek('t')).toEqual({ active: false, reason: 'expired' });
    expect(cache.size).toBe(1);
  });
});

describe('TokenCache.get with a verdict that is not enough', () => {
  const local: Verdict = { active: true, identity: makeIdentity({ scopes: null }) };
  const introspected: Verdict = { active: true, identity: makeIdentity({ scopes: ['openid'] }) };
  const enough = (verdict: Verdict) => !verdict.active || verdict.identity.scopes !== null;

  it('should replace it by one load, shared by concurrent callers, and answer plain lookups from the result', async () => {
    const { cache, lookup } = setup();
    await lookup('t', local);
    let loads = 0;
    const load = async () => (loads += 1, introspected);
    const answers = await Promise.all([cache.get('t', load, enough), cache.get('t', load, enough)]);
    expect(answers).toEqual([introspected, introspected]);
    expect(await cache.get('t', load, enough)).toBe(introspected);
    expect(await lookup('t', local)).toBe(introspected);
    expect(loads).toBe(1);
  });

  it('should take an enough verdict from the shared cache instead of loading', async () => {
    const held = new Map<string, Verdict>();
    const shared: SharedCache = { get: async (key) => (held.has(key) ? { verdict: held.get(key)!, ttlMs: 60_000 } : undefined), set: () => undefined, close: async () => undefined };
    const { cache, lookup, loads } = setup({ shared });
    await lookup('t', local);
    // Another replica introspected the token meanwhile.
    held.set(tokenKey('t'), introspected);
    expect(await cache.get('t', async () => local, enough)).toBe(introspected);
    expect(cache.peek('t')).toBe(introspected);
    expect(loads()).toBe(1);
  });
});

describe('verdictTtlMs', () => {
  const now = 1_700_000_000_000;
  const limits = { maxTtlMs: 300_000, negativeTtlMs: 10_000 };

  it.each<[string, Verdict, number]>([
    ['an inactive verdict: the negative TTL', { active: false }, 10_000],
    ['a token without exp: the max TTL', { active: true, identity: identity(null) }, 300_000],
    ['a token expiring after the max TTL: the max TTL', { active: true, identity: identity(now / 1000 + 3600) }, 300_000],
    ['a token expiring sooner: until its exp', { active: true, identity: identity(now / 1000 + 60) }, 60_000],
    ['an expired token: nothing', { active: true, identity: identity(now / 1000 - 1) }, -1000],
  ])('should give %s', (_name, verdict, ttl) => {
    expect(verdictTtlMs(verdict, now, limits)).toBe(ttl);
  });
});

/** An in-memory stand-in for Redis that records what the cache asks of it. */
function memoryShared(clock: { now: number }) {
  const entries = new Map<string, { verdict: Verdict; expiresAtMs: number }>();
  const calls = { gets: 0, sets: [] as { key: string; ttlMs: number }[] };
  const shared: SharedCache = {
    async get(key) {
      calls.gets += 1;
      const entry = entries.get(key);
      return entry && entry.expiresAtMs > clock.now ? { verdict: entry.verdict, ttlMs: entry.expiresAtMs - clock.now } : undefined;
    },
    set(key, { verdict, ttlMs }) {
      calls.sets.push({ key, ttlMs });
      entries.set(key, { verdict, expiresAtMs: clock.now + ttlMs });
    },
    async close() {},
  };
  const put = (token: string, verdict: Verdict, ttlMs: number) => entries.set(tokenKey(token), { verdict, expiresAtMs: clock.now + ttlMs });
  return { shared, calls, put };
}

describe('TokenCache with a shared cache', () => {
  function setupShared(options: Partial<ConstructorParameters<typeof TokenCache>[0]> = {}) {
    const clock = { now: 1_700_000_000_000 };
    const memory = memoryShared(clock);
    const cache = new TokenCache({ maxEntries: 100, maxTtlMs: 300_000, negativeTtlMs: 10_000, now: () => clock.now, shared: memory.shared, ...options });
    let loads = 0;
    const lookup = (token: string, verdict: Verdict = { active: true, identity: identity(null) }) =>
      cache.get(token, async () => {
        loads += 1;
        return verdict;
      });
    return { cache, clock, lookup, loads: () => loads, ...memory };
  }

  it('should take a verdict another replica stored instead of loading it', async () => {
    const { lookup, loads, put } = setupShared();
    const stored: Verdict = { active: true, identity: makeIdentity({ id: 'from-redis' }) };
    put('t', stored, 60_000);
    expect(await lookup('t')).toEqual(stored);
    expect(loads()).toBe(0);
  });

  it('should keep its copy only as long as the shared entry has left, not its own max TTL', async () => {
    const { lookup, loads, put, clock, calls } = setupShared();
    put('t', { active: true, identity: identity(null) }, 5_000);
    await lookup('t');
    clock.now += 4_999;
    await lookup('t');
    expect(calls.gets).toBe(1);
    clock.now += 1;
    await lookup('t');
    expect(calls.gets).toBe(2);
    expect(loads()).toBe(1);
  });

  it('should not keep a shared verdict beyond the token’s exp or its own max TTL', async () => {
    const { lookup, loads, put, clock, calls } = setupShared({ maxTtlMs: 1_000 });
    put('t', { active: true, identity: identity(null) }, 60_000);
    await lookup('t');
    clock.now += 999;
    await lookup('t');
    expect(calls.gets).toBe(1);
    clock.now += 1;
    await lookup('t');
    // The local copy is gone; the shared entry still lives, so it is asked again rather than loaded.
    expect(calls.gets).toBe(2);
    expect(loads()).toBe(0);
    put('expired', { active: true, identity: identity(clock.now / 1000 - 1) }, 60_000);
    await lookup('expired');
    expect(loads()).toBe(1);
  });

  it('should store a loaded verdict in the shared cache for as long as it keeps it', async () => {
    const { lookup, calls, clock } = setupShared();
    await lookup('soon', { active: true, identity: identity(clock.now / 1000 + 60) });
    await lookup('bad', { active: false });
    await lookup('expired', { active: true, identity: identity(clock.now / 1000 - 1) });
    expect(calls.sets).toEqual([
      { key: tokenKey('soon'), ttlMs: 60_000 },
      { key: tokenKey('bad'), ttlMs: 10_000 },
    ]);
  });

  it('should not share an inactive verdict when the negative TTL is 0', async () => {
    const { lookup, calls } = setupShared({ negativeTtlMs: 0 });
    await lookup('bad', { active: false });
    expect(calls.sets).toEqual([]);
  });

  it('should ask the shared cache once and load once for concurrent misses', async () => {
    const { cache, calls } = setupShared();
    let loads = 0;
    const load = async (): Promise<Verdict> => {
      loads += 1;
      return { active: false };
    };
    await Promise.all(Array.from({ length: 20 }, () => cache.get('t', load)));
    expect(calls.gets).toBe(1);
    expect(loads).toBe(1);
    expect(calls.sets).toHaveLength(1);
  });

  it('should load when the shared cache has nothing (or failed), and not store a failed load there', async () => {
    const { cache, calls } = setupShared();
    await expect(cache.get('t', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(calls.gets).toBe(1);
    expect(calls.sets).toEqual([]);
  });

  it('should still use the shared cache when the local one is off', async () => {
    const { lookup, loads, calls } = setupShared({ maxEntries: 0 });
    await lookup('t');
    await lookup('t');
    expect(loads()).toBe(1);
    expect(calls.gets).toBe(2);
  });
});
