import { describe, expect, it } from '@jest/globals';
import pino from 'pino';
import { JwksStore, parseJwksResponse } from '../../src/auth/zitadel/jwks.js';
import { ProviderUnavailableError } from '../../src/auth/errors.js';
import { createHttpClient } from '../../src/auth/zitadel/httpClient.js';
import { thrown } from '../helpers/errors.js';

const rsa = { kty: 'RSA', kid: 'r1', n: 'AQAB', e: 'AQAB' };
const res = (body: unknown, status = 200, headers: Record<string, string> = {}) => ({
  status,
  headers,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const failure = (response: ReturnType<typeof res>) => thrown(() => parseJwksResponse(response), ProviderUnavailableError);

describe('parseJwksResponse', () => {
  it('should keep signing keys and drop shared secrets and encryption keys', () => {
    const ec = { kty: 'EC', kid: 'e1', crv: 'P-256', x: 'x', y: 'y', use: 'sig' };
    const okp = { kty: 'OKP', kid: 'o1', crv: 'Ed25519', x: 'x' };
    const oct = { kty: 'oct', kid: 'h1', k: 'c2VjcmV0' };
    const enc = { ...rsa, kid: 'r2', use: 'enc' };
    expect(parseJwksResponse(res({ keys: [rsa, ec, okp, oct, enc, null, 'x'] })).keys).toEqual([rsa, ec, okp]);
  });

  it('should accept an empty key set (every kid is then unknown)', () => {
    expect(parseJwksResponse(res({ keys: [] })).keys).toEqual([]);
  });

  it.each<[string, ReturnType<typeof res>, string]>([
    ['a 500', res('oops', 500), 'PROVIDER_ERROR'],
    ['a 404', res('{}', 404), 'PROVIDER_ERROR'],
    ['a body that is not JSON', res('<html>'), 'PROVIDER_ERROR'],
    ['JSON null', res('null'), 'PROVIDER_ERROR'],
    ['no keys array', res({ keys: {} }), 'PROVIDER_ERROR'],
  ])('should call %s a provider fault, never the caller’s', (_name, response, code) => {
    expect(failure(response).code).toBe(code);
  });

  it('should pass on the Retry-After of a 429 and of a 503', () => {
    const limited = failure(res('', 429, { 'retry-after': '30' }));
    expect(limited.code).toBe('PROVIDER_RATE_LIMITED');
    expect(limited.retryAfterSeconds).toBe(30);
    expect(failure(res('', 503, { 'retry-after': '9' })).retryAfterSeconds).toBe(9);
  });
});

describe('JwksStore without a jwks_uri in discovery', () => {
  it('should answer a provider fault naming jwks_uri, and not fetch again within the cooldown', async () => {
    let gets = 0;
    const discovery = {
      get: async () => {
        gets += 1;
        return { issuer: 'https://acme.zitadel.cloud', introspectionEndpoint: new URL('https://acme.zitadel.cloud/oauth/v2/introspect'), jwksUri: undefined };
      },
      invalidate: () => undefined,
    };
    const http = createHttpClient();
    const store = new JwksStore({ discovery, http, timeoutMs: 1000, logger: pino({ level: 'silent' }), cooldownMs: 5000, now: () => 0 });
    try {
      const error = await store.keyFor({ alg: 'RS256', kid: 'k1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ProviderUnavailableError);
      expect((error as ProviderUnavailableError).code).toBe('PROVIDER_ERROR');
      expect((error as Error).message).toMatch(/jwks_uri/);
      expect((error as ProviderUnavailableError).retryAfterSeconds).toBe(5);
      await expect(store.keyFor({ alg: 'RS256', kid: 'k1' })).rejects.toBeInstanceOf(ProviderUnavailableError);
      expect(gets).toBe(1);
    } finally {
      http.close();
    }
  });
});
