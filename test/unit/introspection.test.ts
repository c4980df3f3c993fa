import { describe, expect, it } from '@jest/globals';
import { ProviderUnavailableError } from '../../src/auth/errors.js';
import type { HttpResponse } from '../../src/auth/zitadel/httpClient.js';
import { identityFromClaims } from '../../src/auth/identity.js';
import { createIntrospectionClient, processIntrospectionResponse } from '../../src/auth/zitadel/introspection.js';
import { MAX_RETRY_AFTER_SECONDS, RATE_LIMIT_RETRY_AFTER_SECONDS, retryAfter } from '../../src/auth/zitadel/transport.js';
import { rejected, thrown } from '../helpers/errors.js';
import { fullResponse, inactiveResponse } from '../fixtures/zitadel.js';

const NOW = (fullResponse.iat + 60) * 1000;

function response(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

const providerError = (res: HttpResponse) => thrown(() => processIntrospectionResponse(res, NOW), ProviderUnavailableError);

describe('processIntrospectionResponse', () => {
  it('should map the claims of an active token to the caller', () => {
    expect(processIntrospectionResponse(response(200, fullResponse), NOW)).toEqual({ active: true, identity: identityFromClaims(fullResponse) });
  });

  it('should read roles from the project claim when the project is known', () => {
    const claims = { active: true, sub: '7', scope: 'openid', 'urn:zitadel:iam:org:project:roles': { a: {} }, 'urn:zitadel:iam:org:project:5:roles': { b: {} } };
    const verdict = processIntrospectionResponse(response(200, claims), NOW, { projectId: '5' });
    expect(verdict.active && Object.keys(verdict.identity.roleGrants)).toEqual(['b']);
    expect(verdict.active && verdict.identity.scopes).toEqual(['openid']);
    const generic = processIntrospectionResponse(response(200, claims), NOW);
    expect(generic.active && Object.keys(generic.identity.roleGrants)).toEqual(['a']);
  });

  it('should refuse an active token whose claims name no caller', () => {
    expect(processIntrospectionResponse(response(200, { active: true, exp: NOW / 1000 + 60 }), NOW)).toEqual({ active: false, reason: 'no_subject' });
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
    expect(providerError(response(500, '')).retryAfterSeconds).toBe(5);
  });

  it('should wait about a minute after a 429 without a usable Retry-After (ZITADEL Cloud bans for one)', () => {
    expect(providerError(response(429, '')).retryAfterSeconds).toBe(RATE_LIMIT_RETRY_AFTER_SECONDS);
    expect(providerError(response(429, '', { 'retry-after': 'soon' })).retryAfterSeconds).toBe(60);
  });

  it('should honour at most 120 s of any Retry-After', () => {
    expect(providerError(response(429, '', { 'retry-after': '3600' })).retryAfterSeconds).toBe(MAX_RETRY_AFTER_SECONDS);
    expect(providerError(response(503, '', { 'retry-after': '86400' })).retryAfterSeconds).toBe(120);
  });
});

describe('retryAfter', () => {
  const nowMs = Date.parse('2026-12-01T12:00:00Z');
  it('should read delay-seconds and HTTP-dates, at most 120 s', () => {
    const header = (value: string) => response(429, '', { 'retry-after': value });
    expect(retryAfter(header('7'), 60, nowMs)).toBe(7);
    expect(retryAfter(header('Tue, 01 Dec 2026 12:00:30 GMT'), 60, nowMs)).toBe(30);
    // No wait at all would make the 429 pointless: as if there were no header.
    expect(retryAfter(header('0'), 60, nowMs)).toBe(60);
    expect(retryAfter(header('Tue, 01 Dec 2026 11:00:00 GMT'), 60, nowMs)).toBe(60);
    expect(retryAfter(header('Wed, 02 Dec 2026 12:00:00 GMT'), 60, nowMs)).toBe(120);
    expect(retryAfter(header('-5'), 60, nowMs)).toBe(60);
    expect(retryAfter(response(429, ''), 60, nowMs)).toBe(60);
  });

  it('should name the OAuth error of a rejected client authentication but not echo odd bodies', () => {
    expect(providerError(response(400, { error: 'unauthorized_client' })).message).toContain('unauthorized_client');
    expect(providerError(response(400, { error: '<script>' })).message).not.toContain('<script>');
  });
});

describe('createIntrospectionClient', () => {
  it('should turn any failure on its way to ZITADEL into a provider fault, and report the call as failed', async () => {
    const calls: (boolean | undefined)[] = [];
    const discovery = { get: async () => ({ issuer: 'http://127.0.0.1:1', introspectionEndpoint: new URL('http://127.0.0.1:1/oauth/v2/introspect'), jwksUri: undefined }), invalidate() {} };
    const client = createIntrospectionClient({
      discovery,
      clientAuth: { apply: () => Promise.reject(new Error('signing the client assertion failed')) },
      http: { send: () => Promise.reject(new Error('never called')), close() {} },
      timeoutMs: 100,
      observe: (_ms, verdict) => calls.push(verdict?.active),
    });
    const failure = await rejected(() => client.check('t'), ProviderUnavailableError);
    expect(failure.code).toBe('PROVIDER_ERROR');
    expect((failure.cause as Error).message).toBe('signing the client assertion failed');
    expect(calls).toEqual([undefined]);
  });
});

