import { describe, expect, it } from '@jest/globals';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { JWT_BEARER_ASSERTION_TYPE, assertionClaims, clientSecretBasic, privateKeyJwt } from '../../src/auth/zitadel/clientAuth.js';
import { parseApplicationKey } from '../../src/auth/zitadel/keyFile.js';
import { applicationKey } from '../helpers/keys.js';

const fixture = applicationKey();
const key = parseApplicationKey(fixture.json);
const ISSUER = 'https://acme.zitadel.cloud';

async function assertionAt(auth: ReturnType<typeof privateKeyJwt>, audience = ISSUER): Promise<string> {
  const body = new URLSearchParams();
  await auth.apply(audience, body, {});
  expect(body.get('client_assertion_type')).toBe(JWT_BEARER_ASSERTION_TYPE);
  return body.get('client_assertion')!;
}

describe('assertionClaims', () => {
  it('should never date iat ahead of the clock', () => {
    expect(assertionClaims('c', 'a', 1_700_000_000_999, 60, 'j')).toEqual({ iss: 'c', sub: 'c', aud: 'a', iat: 1_700_000_000, exp: 1_700_000_060, jti: 'j' });
  });
});

describe('privateKeyJwt', () => {
  it('should sign an RS256 assertion ZITADEL accepts: kid, iss = sub = clientId, aud = issuer, short exp, jti', async () => {
    const now = Date.now();
    const assertion = await assertionAt(privateKeyJwt(key, { now: () => now }));
    expect(decodeProtectedHeader(assertion)).toEqual({ alg: 'RS256', kid: '81693565968962154' });
    const { payload } = await jwtVerify(assertion, fixture.publicKey, { algorithms: ['RS256'], audience: ISSUER, issuer: key.clientId, subject: key.clientId });
    expect(payload.iat).toBe(Math.floor(now / 1000));
    expect(payload.exp! - payload.iat!).toBe(300);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('should reuse a fresh assertion instead of signing per call', async () => {
    let now = 1_700_000_000_000;
    const auth = privateKeyJwt(key, { now: () => now, lifetimeSeconds: 300, renewBeforeSeconds: 60 });
    const first = await assertionAt(auth);
    now += 239_000;
    expect(await assertionAt(auth)).toBe(first);
  });

  it('should sign a new assertion with a new jti shortly before the old one expires', async () => {
    let now = 1_700_000_000_000;
    const auth = privateKeyJwt(key, { now: () => now, lifetimeSeconds: 300, renewBeforeSeconds: 60 });
    const first = await assertionAt(auth);
    now += 240_000;
    const second = await assertionAt(auth);
    expect(second).not.toBe(first);
    const [a, b] = [first, second].map((jwt) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { jti: string; iat: number });
    expect(a!.jti).not.toBe(b!.jti);
    expect(b!.iat - a!.iat).toBe(240);
  });

  it('should sign anew when the audience changes', async () => {
    const auth = privateKeyJwt(key);
    const first = await assertionAt(auth, ISSUER);
    const other = await assertionAt(auth, 'https://other.zitadel.cloud');
    expect(other).not.toBe(first);
    expect(JSON.parse(Buffer.from(other.split('.')[1]!, 'base64url').toString()).aud).toBe('https://other.zitadel.cloud');
  });

  it('should share one signature among concurrent callers', async () => {
    const auth = privateKeyJwt(key);
    const assertions = await Promise.all(Array.from({ length: 10 }, () => assertionAt(auth)));
    expect(new Set(assertions).size).toBe(1);
  });
});

describe('clientSecretBasic', () => {
  it('should form-encode id and secret before base64 (RFC 6749 §2.3.1)', () => {
    const headers: Record<string, string> = {};
    const body = new URLSearchParams();
    clientSecretBasic('123@my project', 'p:ss/w%rd').apply(ISSUER, body, headers);
    const decoded = Buffer.from(headers.authorization!.replace(/^Basic /, ''), 'base64').toString();
    expect(decoded).toBe('123%40my+project:p%3Ass%2Fw%25rd');
    expect([...body.keys()]).toEqual([]);
  });
});
