import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { TokenCache, tokenKey, type Verdict } from '../../src/auth/tokenCache.js';
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

  it('should forget an identity at the token’s exp when that comes before the max TTL', async () => {
    const { lookup, loads, clock } = setup();
    const active: Verdict = { active: true, identity: identity(clock.now / 1000 + 60) };
    await lookup('t', active);
    clock.now += 59_999;
    await lookup('t', active);
    expect(loads()).toBe(1);
    clock.now += 1;
    await lookup('t', active);
    expect(loads()).toBe(2);
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
