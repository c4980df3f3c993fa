import { describe, expect, it } from '@jest/globals';
import type { JWTPayload } from 'jose';
import { JWT_CLOCK_TOLERANCE_SECONDS, checkJwtClaims, checkJwtHeader, joseHeaderOf } from '../../src/auth/zitadel/jwtClaims.js';
import { idTokenPayload, jwtAccessTokenPayload } from '../fixtures/zitadel.js';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const HEADER = { alg: 'RS256', kid: 'k1', typ: 'JWT' };

describe('joseHeaderOf', () => {
  it('should read the header of a compact JWT', () => {
    expect(joseHeaderOf(`${b64(HEADER)}.${b64({ sub: '1' })}.c2ln`)).toEqual(HEADER);
  });

  it('should take a token with an empty signature as JWT-shaped, so alg none is refused as a JWT', () => {
    expect(joseHeaderOf(`${b64({ alg: 'none' })}.${b64({ sub: '1' })}.`)).toEqual({ alg: 'none' });
  });

  it.each([
    ['an opaque token', 'kowToa4zWfQ3Ekjv0yN3a1Qb7lGpFTlnDnzWZVhI2tY'],
    ['two parts', `${b64(HEADER)}.${b64({})}`],
    ['four parts', `${b64(HEADER)}.${b64({})}.c2ln.c2ln`],
    ['five parts (a JWE)', 'a.b.c.d.e'],
    ['a header that is not JSON', `${b64('not json')}.${b64({})}.c2ln`],
    ['a header that is a JSON array', `${b64([1])}.${b64({})}.c2ln`],
    ['characters outside base64url', `${b64(HEADER)}.${b64({})}.c2ln+/=`],
    ['an empty payload part', `${b64(HEADER)}..c2ln`],
  ])('should not take %s for a JWT', (_name, token) => {
    expect(joseHeaderOf(token)).toBeUndefined();
  });
});

describe('checkJwtHeader', () => {
  it.each(['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'Ed25519'])('should accept the asymmetric algorithm %s with a kid', (alg) => {
    expect(checkJwtHeader({ alg, kid: 'k1' })).toEqual({ alg, kid: 'k1' });
  });

  it.each([
    ['alg none', { alg: 'none', kid: 'k1' }, 'algorithm_not_allowed'],
    ['HS256', { alg: 'HS256', kid: 'k1' }, 'algorithm_not_allowed'],
    ['HS512', { alg: 'HS512', kid: 'k1' }, 'algorithm_not_allowed'],
    ['an unknown algorithm', { alg: 'RS1', kid: 'k1' }, 'algorithm_not_allowed'],
    ['no algorithm', { kid: 'k1' }, 'algorithm_not_allowed'],
    ['no kid', { alg: 'RS256' }, 'missing_kid'],
    ['an empty kid', { alg: 'RS256', kid: '' }, 'missing_kid'],
    ['a crit header', { alg: 'RS256', kid: 'k1', crit: ['b64'], b64: false }, 'critical_header'],
    ['an unencoded payload', { alg: 'RS256', kid: 'k1', b64: false }, 'critical_header'],
  ])('should refuse %s', (_name, header, reason) => {
    expect(checkJwtHeader(header)).toBe(reason);
  });
});

describe('checkJwtClaims', () => {
  const now = 1_700_000_000;
  const expected = { issuer: 'https://acme.zitadel.cloud', audience: '2134', now };
  const valid: JWTPayload = { iss: expected.issuer, aud: ['app@acme', '2134'], sub: '7', iat: now, nbf: now, exp: now + 3600, jti: 'V2_1', client_id: 'app@acme' };
  const tolerance = JWT_CLOCK_TOLERANCE_SECONDS;

  it('should accept a token for our project from our issuer within its lifetime', () => {
    expect(checkJwtClaims(valid, expected)).toBeUndefined();
    expect(checkJwtClaims({ ...valid, aud: '2134' }, expected)).toBeUndefined();
  });

  it("should accept ZITADEL's JWT access token and refuse its ID token of the same session", () => {
    const at = { ...expected, issuer: 'https://inst.zitadel.cloud', now: 1700000060 };
    expect(checkJwtClaims(jwtAccessTokenPayload, at)).toBeUndefined();
    expect(checkJwtClaims(idTokenPayload, at)).toBe('id_token');
  });

  it('should tolerate a small clock skew, and no more', () => {
    expect(checkJwtClaims({ ...valid, exp: now - tolerance + 1 }, expected)).toBeUndefined();
    expect(checkJwtClaims({ ...valid, exp: now - tolerance }, expected)).toBe('expired');
    expect(checkJwtClaims({ ...valid, nbf: now + tolerance }, expected)).toBeUndefined();
    expect(checkJwtClaims({ ...valid, nbf: now + tolerance + 1 }, expected)).toBe('not_yet_valid');
    expect(checkJwtClaims({ ...valid, iat: now + tolerance }, expected)).toBeUndefined();
    expect(checkJwtClaims({ ...valid, iat: now + tolerance + 1 }, expected)).toBe('not_yet_valid');
    expect(tolerance).toBeLessThanOrEqual(30);
  });

  it.each<[string, JWTPayload, string]>([
    ['another issuer', { ...valid, iss: 'https://evil.zitadel.cloud' }, 'wrong_issuer'],
    ['the issuer with a trailing slash', { ...valid, iss: `${expected.issuer}/` }, 'wrong_issuer'],
    ['no issuer', { ...valid, iss: undefined }, 'wrong_issuer'],
    ['another project', { ...valid, aud: ['app@acme', '9999'] }, 'wrong_audience'],
    ['no audience', { ...valid, aud: undefined }, 'wrong_audience'],
    ['an audience of another type', { ...valid, aud: 2134 as unknown as string }, 'wrong_audience'],
    ['no exp', { ...valid, exp: undefined }, 'missing_exp'],
    ['an exp that is a string', { ...valid, exp: String(now + 60) as unknown as number }, 'invalid_claims'],
    ['an nbf that is a string', { ...valid, nbf: 'soon' as unknown as number }, 'invalid_claims'],
    ['an iat that is not finite', { ...valid, iat: Number.POSITIVE_INFINITY }, 'invalid_claims'],
    ['an expired token', { ...valid, exp: now - 60 }, 'expired'],
    ['a token not valid yet', { ...valid, nbf: now + 60 }, 'not_yet_valid'],
    ['a token issued in the future', { ...valid, nbf: undefined, iat: now + 60 }, 'not_yet_valid'],
    ['a token without jti', { ...valid, jti: undefined }, 'missing_jti'],
    ['a token with an empty jti', { ...valid, jti: '' }, 'missing_jti'],
    // ZITADEL's ID token: azp, and no jti; each ID-token claim alone suffices.
    ['an ID token', { ...valid, jti: undefined, azp: 'app@acme', nonce: 'n', at_hash: 'h', sid: 's', amr: ['pwd'], auth_time: now }, 'id_token'],
    ...(['azp', 'nonce', 'at_hash', 'sid', 'auth_time', 'amr'] as const).map(
      (claim): [string, JWTPayload, string] => [`a token with ${claim}`, { ...valid, [claim]: claim === 'amr' ? ['pwd'] : claim === 'auth_time' ? now : 'x' }, 'id_token'],
    ),
  ])('should refuse %s', (_name, payload, reason) => {
    expect(checkJwtClaims(payload, expected)).toBe(reason);
  });
});
