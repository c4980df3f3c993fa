import { describe, expect, it } from '@jest/globals';
import { ProviderUnavailableError } from '../../src/auth/errors.js';
import type { HttpResponse } from '../../src/auth/httpClient.js';
import { processIntrospectionResponse } from '../../src/auth/introspection.js';
import { thrown } from '../helpers/errors.js';
import { fullResponse, inactiveResponse } from '../fixtures/zitadel.js';

const NOW = (fullResponse.iat + 60) * 1000;

function response(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

const providerError = (res: HttpResponse) => thrown(() => processIntrospectionResponse(res, NOW), ProviderUnavailableError);

describe('processIntrospectionResponse', () => {
  it('should return the claims of an active token', () => {
    expect(processIntrospectionResponse(response(200, fullResponse), NOW)).toEqual({ active: true, claims: fullResponse });
  });

  it('should report an inactive token', () => {
    expect(processIntrospectionResponse(response(200, inactiveResponse), NOW)).toEqual({ active: false, reason: 'inactive' });
  });

  it('should report a token past exp as expired even if ZITADEL says active', () => {
    expect(processIntrospectionResponse(response(200, fullResponse), fullResponse.exp * 1000)).toEqual({ active: false, reason: 'expired' });
  });

  it('should report a token before nbf as not yet valid, beyond a small skew', () => {
    const early = { ...fullResponse, nbf: fullResponse.iat + 3600 };
    expect(processIntrospectionResponse(response(200, early), NOW)).toEqual({ active: false, reason: 'not_yet_valid' });
    const skewed = { ...fullResponse, nbf: NOW / 1000 + 2 };
    expect(processIntrospectionResponse(response(200, skewed), NOW).active).toBe(true);
  });

  it('should refuse a response whose "active" is not a boolean', () => {
    expect(() => processIntrospectionResponse(response(200, { active: 'true' }), NOW)).toThrow(ProviderUnavailableError);
  });

  it.each<[string, HttpResponse, string]>([
    ['a body that is not JSON', response(200, '<html>'), 'PROVIDER_ERROR'],
    ['a JSON array', response(200, [1]), 'PROVIDER_ERROR'],
    ['a body without "active"', response(200, { sub: '1' }), 'PROVIDER_ERROR'],
    ['ZITADEL’s 400 for bad client authentication', response(400, { error: 'unauthorized_client' }), 'CLIENT_AUTH_REJECTED'],
    ['a documented 401 invalid_client', response(401, { error: 'invalid_client' }), 'CLIENT_AUTH_REJECTED'],
    ['a 403', response(403, ''), 'PROVIDER_ERROR'],
    ['a 404', response(404, ''), 'PROVIDER_ERROR'],
    ['a 500', response(500, ''), 'PROVIDER_ERROR'],
    ['a 503', response(503, '', { 'retry-after': '30' }), 'PROVIDER_ERROR'],
    ['a 429', response(429, ''), 'PROVIDER_RATE_LIMITED'],
  ])('should refuse to judge the token when ZITADEL sends %s', (_name, res, code) => {
    expect(providerError(res).code).toBe(code);
  });

  it('should carry Retry-After from a 429 or 503, and default otherwise', () => {
    expect(providerError(response(429, '', { 'retry-after': '12' })).retryAfterSeconds).toBe(12);
    expect(providerError(response(503, '', { 'retry-after': '30' })).retryAfterSeconds).toBe(30);
    expect(providerError(response(429, '', { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' })).retryAfterSeconds).toBe(5);
    expect(providerError(response(500, '')).retryAfterSeconds).toBe(5);
  });

  it('should name the OAuth error of a rejected client authentication but not echo odd bodies', () => {
    expect(providerError(response(400, { error: 'unauthorized_client' })).message).toContain('unauthorized_client');
    expect(providerError(response(400, { error: '<script>' })).message).not.toContain('<script>');
  });
});
