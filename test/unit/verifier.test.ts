import { describe, expect, it } from '@jest/globals';
import { AuthError, IntrospectionBudgetError, ProviderUnavailableError } from '../../src/auth/errors.js';
import { TokenCache } from '../../src/auth/cache/tokenCache.js';
import { chooseTokenChecks, type TokenChecks } from '../../src/auth/validationMode.js';
import { createTokenVerifier } from '../../src/auth/verifier.js';
import type { TokenCheck, Verdict } from '../../src/auth/verdict.js';
import { identity } from '../helpers/identity.js';
import { entries, memoryLog } from '../helpers/logs.js';


/** A check that answers `results` in turn (the last one repeatedly) and counts its calls. */
function scripted(...results: (Verdict | Error)[]): TokenCheck & { calls: number } {
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

function verifierFor(check: TokenCheck, introspection?: TokenCheck) {
  const log = memoryLog();
  const cache = new TokenCache({ maxEntries: 100, maxTtlMs: 300_000, negativeTtlMs: 10_000 });
  const checks: TokenChecks = { decide: () => check, introspection };
  return {
    verifier: createTokenVerifier({ checks, cache, logger: log.logger }),
    cache,
    /** What it has logged so far. */
    logged: () => entries(log.lines),
  };
}

const exp = Math.floor(Date.now() / 1000) + 600;
const ACTIVE: Verdict = { active: true, identity: identity({ id: '7', exp }) };
/** What local JWT validation knows: no scopes, no profile. */
const LOCAL: Verdict = { active: true, identity: identity({ id: '7', exp, scopes: null }) };
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
    const { verifier, logged } = verifierFor(check);
    expect(await error(verifier.verify('secret-token'))).toBeInstanceOf(AuthError);
    expect(await error(verifier.verify('secret-token'))).toBeInstanceOf(AuthError);
    expect(check.calls).toBe(1);
    expect(logged().find((l) => l.msg === 'token rejected')?.reason).toBe('wrong_audience');
    expect(JSON.stringify(logged())).not.toContain('secret-token');
  });

  it.each(['unknown_key', 'not_yet_valid'])('should refuse a token that may pass later (%s) without remembering the refusal', async (reason) => {
    const check = scripted({ active: false, reason }, ACTIVE);
    const { verifier } = verifierFor(check);
    expect(await error(verifier.verify('t'))).toEqual(new AuthError('invalid_token', reason));
    expect((await verifier.verify('t')).id).toBe('7');
    expect(check.calls).toBe(2);
  });

  it('should keep why a token was refused, from the check and from the cache', async () => {
    const { verifier } = verifierFor(scripted({ active: false, reason: 'id_token' }));
    expect(await error(verifier.verify('t'))).toMatchObject({ reason: 'invalid_token', detail: 'id_token' });
    expect(verifier.known('t')).toEqual({ active: false, reason: 'id_token' });
  });

  it('should turn an unexpected failure into a provider fault (503, never 401), logged once, and not remember it', async () => {
    const check = scripted(new TypeError('RS256 requires key modulusLength to be 2048 bits or larger'), ACTIVE);
    const { verifier, logged } = verifierFor(check);
    const failure = await error(verifier.verify('a'));
    expect(failure).toBeInstanceOf(ProviderUnavailableError);
    expect((failure as ProviderUnavailableError).code).toBe('PROVIDER_ERROR');
    expect((failure as Error).cause).toBeInstanceOf(TypeError);
    expect((await verifier.verify('a')).id).toBe('7');
    const check2 = scripted(new TypeError('boom'));
    const again = verifierFor(check2);
    await error(again.verifier.verify('x'));
    await error(again.verifier.verify('y'));
    expect(again.logged().filter((l) => l.msg.startsWith('cannot verify tokens')).length).toBe(1);
  });

  it('should let our own introspection budget refusal through as it is (a 429, not an outage), and not remember it', async () => {
    const check = scripted(new IntrospectionBudgetError(2), ACTIVE);
    const { verifier, logged } = verifierFor(check);
    expect(await error(verifier.verify('t'))).toBeInstanceOf(IntrospectionBudgetError);
    expect((await verifier.verify('t')).id).toBe('7');
    expect(logged().filter((l) => l.msg.startsWith('cannot verify tokens'))).toEqual([]);
  });
});

describe('introspect (learning what a locally validated JWT does not carry)', () => {
  it('should introspect once, replace the local verdict, and answer from it afterwards', async () => {
    const introspection = scripted({ active: true, identity: identity({ id: '7', exp, scopes: ['openid', 'profile'], username: 'road.runner' }) });
    const { verifier } = verifierFor(scripted(LOCAL), introspection);
    expect((await verifier.verify('t')).scopes).toBeNull();
    const [a, b] = await Promise.all([verifier.introspect!('t'), verifier.introspect!('t')]);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ scopes: ['openid', 'profile'], username: 'road.runner' });
    expect(await verifier.introspect!('t')).toEqual(a);
    expect(introspection.calls).toBe(1);
    expect(verifier.known('t')).toEqual({ active: true, identity: a });
  });

  it('should refuse, and remember the refusal, when introspection says the token is no longer active', async () => {
    const { verifier } = verifierFor(scripted(LOCAL), scripted({ active: false, reason: 'inactive' }));
    await verifier.verify('t');
    expect(await error(verifier.introspect!('t'))).toMatchObject({ reason: 'invalid_token', detail: 'inactive' });
    expect(await error(verifier.verify('t'))).toBeInstanceOf(AuthError);
  });

  it('should not exist where nothing is introspected', () => {
    expect(verifierFor(scripted(LOCAL)).verifier.introspect).toBeUndefined();
  });
});

describe('chooseTokenChecks', () => {
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
    const checks = chooseTokenChecks('introspection', make);
    expect(checks.decide(JWT)).toBe(introspection);
    expect(checks.decide(OPAQUE)).toBe(introspection);
    expect(built).toEqual(['introspection']);
    expect(checks.introspection).toBe(introspection);
  });

  it('should validate every token locally in jwt mode, opaque ones included, and build no introspection', () => {
    const { make, built, jwt } = factories();
    const checks = chooseTokenChecks('jwt', make);
    expect(checks.decide(JWT)).toBe(jwt);
    expect(checks.decide(OPAQUE)).toBe(jwt);
    expect(built).toEqual(['jwt']);
    expect(checks.introspection).toBeUndefined();
  });

  it('should route by shape in auto mode', () => {
    const { make, jwt, introspection } = factories();
    const checks = chooseTokenChecks('auto', make);
    expect(checks.decide(JWT)).toBe(jwt);
    expect(checks.decide(`${Buffer.from('{"alg":"none"}').toString('base64url')}.e30.`)).toBe(jwt);
    expect(checks.decide(OPAQUE)).toBe(introspection);
    expect(checks.decide('a.b.c')).toBe(introspection);
    // Introspection also serves to learn a JWT's scopes.
    expect(checks.introspection).toBe(introspection);
  });
});
