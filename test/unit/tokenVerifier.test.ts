import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { AuthError, IntrospectionBudgetError, ProviderUnavailableError } from '../../src/auth/errors.js';
import type { Introspector } from '../../src/auth/introspection.js';
import { TokenCache } from '../../src/auth/tokenCache.js';
import { chooseTokenCheck } from '../../src/auth/tokenValidation.js';
import { createTokenVerifier, introspectionCheck, type TokenCheck, type TokenCheckResult } from '../../src/auth/tokenVerifier.js';
import { createLogger } from '../../src/logger.js';

function memoryLogger() {
  const lines: { level: number; msg: string; code?: string; reason?: string }[] = [];
  const logger = createLogger('debug', new Writable({ write: (chunk, _enc, done) => (lines.push(JSON.parse(String(chunk))), done()) }));
  return { logger, lines };
}

/** A check that answers `results` in turn (the last one repeatedly) and counts its calls. */
function scripted(...results: (TokenCheckResult | Error)[]): TokenCheck & { calls: number } {
  const check = {
    calls: 0,
    async check() {
      const result = results[Math.min(check.calls, results.length - 1)]!;
      check.calls += 1;
      if (result instanceof Error) throw result;
      return result;
    },
  };
  return check;
}

function verifierFor(check: TokenCheck) {
  const { logger, lines } = memoryLogger();
  const cache = new TokenCache({ maxEntries: 100, maxTtlMs: 300_000, negativeTtlMs: 10_000 });
  return { verifier: createTokenVerifier({ checkFor: () => check, cache, logger }), lines };
}

const ACTIVE: TokenCheckResult = { active: true, claims: { sub: '7', exp: Math.floor(Date.now() / 1000) + 600 } };
const error = (promise: Promise<unknown>) => promise.then(() => undefined, (e: unknown) => e);

describe('createTokenVerifier', () => {
  it('should map an active result to an identity and remember it', async () => {
    const check = scripted(ACTIVE);
    const { verifier } = verifierFor(check);
    expect((await verifier.verify('t')).id).toBe('7');
    expect((await verifier.verify('t')).id).toBe('7');
    expect(check.calls).toBe(1);
  });

  it('should remember a refusal, and log its reason but not the token', async () => {
    const check = scripted({ active: false, reason: 'wrong_audience' });
    const { verifier, lines } = verifierFor(check);
    expect(await error(verifier.verify('secret-token'))).toBeInstanceOf(AuthError);
    expect(await error(verifier.verify('secret-token'))).toBeInstanceOf(AuthError);
    expect(check.calls).toBe(1);
    expect(lines.find((l) => l.msg === 'token rejected')?.reason).toBe('wrong_audience');
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });

  it('should refuse an uncacheable result without remembering it, so the same token can pass later', async () => {
    const check = scripted({ active: false, reason: 'unknown_key', uncacheable: true }, ACTIVE);
    const { verifier } = verifierFor(check);
    expect(await error(verifier.verify('t'))).toEqual(new AuthError('invalid_token'));
    expect((await verifier.verify('t')).id).toBe('7');
    expect(check.calls).toBe(2);
  });

  it('should refuse active claims that name no caller', async () => {
    const { verifier } = verifierFor(scripted({ active: true, claims: { exp: 1 } }));
    expect(await error(verifier.verify('t'))).toBeInstanceOf(AuthError);
  });

  it('should turn an unexpected failure into a provider fault (503, never 401), logged once, and not remember it', async () => {
    const check = scripted(new TypeError('RS256 requires key modulusLength to be 2048 bits or larger'), ACTIVE);
    const { verifier, lines } = verifierFor(check);
    const failure = await error(verifier.verify('a'));
    expect(failure).toBeInstanceOf(ProviderUnavailableError);
    expect((failure as ProviderUnavailableError).code).toBe('PROVIDER_ERROR');
    expect((failure as Error).cause).toBeInstanceOf(TypeError);
    expect((await verifier.verify('a')).id).toBe('7');
    const check2 = scripted(new TypeError('boom'));
    const again = verifierFor(check2);
    await error(again.verifier.verify('x'));
    await error(again.verifier.verify('y'));
    expect(again.lines.filter((l) => l.msg.startsWith('cannot verify tokens')).length).toBe(1);
  });

  it('should let our own introspection budget refusal through as it is (a 429, not an outage), and not remember it', async () => {
    const check = scripted(new IntrospectionBudgetError(2), ACTIVE);
    const { verifier, lines } = verifierFor(check);
    expect(await error(verifier.verify('t'))).toBeInstanceOf(IntrospectionBudgetError);
    expect((await verifier.verify('t')).id).toBe('7');
    expect(lines.filter((l) => l.msg.startsWith('cannot verify tokens'))).toEqual([]);
  });
});

describe('introspectionCheck', () => {
  it('should let a budget refusal through unchanged and unlogged', async () => {
    const introspector: Introspector = {
      introspect: async () => {
        throw new IntrospectionBudgetError(3);
      },
    };
    const { logger, lines } = memoryLogger();
    const failure = await error(introspectionCheck(introspector, logger).check('t'));
    expect(failure).toBeInstanceOf(IntrospectionBudgetError);
    expect(lines).toEqual([]);
  });

  it('should pass introspection results through', async () => {
    const introspector: Introspector = { introspect: async () => ({ active: false, reason: 'inactive' }) };
    expect(await introspectionCheck(introspector, memoryLogger().logger).check('t')).toEqual({ active: false, reason: 'inactive' });
  });

  it('should call an unexpected introspection failure a provider fault, and log it once until introspection recovers', async () => {
    let fail = true;
    const introspector: Introspector = {
      async introspect() {
        if (fail) throw new Error('signing the client assertion failed');
        return { active: false, reason: 'inactive' };
      },
    };
    const { logger, lines } = memoryLogger();
    const check = introspectionCheck(introspector, logger);
    for (let i = 0; i < 3; i += 1) {
      const failure = await error(check.check('t'));
      expect((failure as ProviderUnavailableError).code).toBe('PROVIDER_ERROR');
    }
    fail = false;
    await check.check('t');
    expect(lines.filter((l) => l.msg.startsWith('cannot verify tokens')).map((l) => l.level)).toEqual([50]);
    expect(lines.filter((l) => l.msg === 'token introspection recovered').length).toBe(1);
  });
});

describe('chooseTokenCheck', () => {
  const JWT = `${Buffer.from('{"alg":"RS256","kid":"k"}').toString('base64url')}.e30.c2ln`;
  const OPAQUE = 'kowToa4zWfQ3Ekjv0yN3a1Qb7lGpFTlnDnzWZVhI2tY';

  function factories() {
    const introspection = scripted(ACTIVE);
    const jwt = scripted(ACTIVE);
    const built: string[] = [];
    return {
      introspection,
      jwt,
      built,
      make: {
        introspection: () => (built.push('introspection'), introspection),
        jwt: () => (built.push('jwt'), jwt),
      },
    };
  }

  it('should introspect every token in introspection mode, and build no JWT validation', () => {
    const { make, built, introspection } = factories();
    const choose = chooseTokenCheck('introspection', make);
    expect(choose(JWT)).toBe(introspection);
    expect(choose(OPAQUE)).toBe(introspection);
    expect(built).toEqual(['introspection']);
  });

  it('should validate every token locally in jwt mode, opaque ones included, and build no introspection', () => {
    const { make, built, jwt } = factories();
    const choose = chooseTokenCheck('jwt', make);
    expect(choose(JWT)).toBe(jwt);
    expect(choose(OPAQUE)).toBe(jwt);
    expect(built).toEqual(['jwt']);
  });

  it('should route by shape in auto mode', () => {
    const { make, jwt, introspection } = factories();
    const choose = chooseTokenCheck('auto', make);
    expect(choose(JWT)).toBe(jwt);
    expect(choose(`${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.`)).toBe(jwt);
    expect(choose(OPAQUE)).toBe(introspection);
    expect(choose('a.b.c')).toBe(introspection);
  });
});
