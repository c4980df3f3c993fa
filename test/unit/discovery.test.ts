import { describe, expect, it } from '@jest/globals';
import { Discovery, DiscoveryDocumentError, discoveryUrl, parseDiscoveryResponse } from '../../src/auth/zitadel/discovery.js';
import type { HttpClient } from '../../src/auth/zitadel/httpClient.js';
import { memoryLog, withMessage } from '../helpers/logs.js';
import { until } from '../helpers/until.js';

const ISSUER = new URL('https://acme.zitadel.cloud');
const doc = { issuer: 'https://acme.zitadel.cloud', introspection_endpoint: 'https://acme.zitadel.cloud/oauth/v2/introspect' };
const ok = (body: unknown, status = 200) => ({ status, headers: {}, body: JSON.stringify(body) });

describe('discovery', () => {
  it('should build the well-known URL with or without a trailing slash', () => {
    expect(discoveryUrl(ISSUER).href).toBe('https://acme.zitadel.cloud/.well-known/openid-configuration');
    expect(discoveryUrl(new URL('http://localhost:8080/')).href).toBe('http://localhost:8080/.well-known/openid-configuration');
  });

  it('should keep the issuer exactly as discovery spells it', () => {
    const metadata = parseDiscoveryResponse(ok(doc), new URL('https://acme.zitadel.cloud/'));
    expect(metadata.issuer).toBe('https://acme.zitadel.cloud');
    expect(metadata.introspectionEndpoint.href).toBe(doc.introspection_endpoint);
  });

  it('should read jwks_uri, and leave it undefined when absent or not a URL (only JWT validation needs it)', () => {
    const withKeys = parseDiscoveryResponse(ok({ ...doc, jwks_uri: 'https://acme.zitadel.cloud/oauth/v2/keys' }), ISSUER);
    expect(withKeys.jwksUri?.href).toBe('https://acme.zitadel.cloud/oauth/v2/keys');
    expect(parseDiscoveryResponse(ok(doc), ISSUER).jwksUri).toBeUndefined();
    expect(parseDiscoveryResponse(ok({ ...doc, jwks_uri: '/oauth/v2/keys' }), ISSUER).jwksUri).toBeUndefined();
  });

  it.each<[string, { status: number; headers: Record<string, string>; body: string }]>([
    ['a non-200', ok(doc, 404)],
    ['a body that is not JSON', { status: 200, headers: {}, body: 'nope' }],
    ['no issuer', ok({ introspection_endpoint: doc.introspection_endpoint })],
    ['another issuer', ok({ ...doc, issuer: 'https://evil.example' })],
    ['no introspection endpoint', ok({ issuer: doc.issuer })],
    ['an introspection endpoint that is not a URL', ok({ ...doc, introspection_endpoint: '/oauth/v2/introspect' })],
  ])('should refuse %s', (_name, res) => {
    expect(() => parseDiscoveryResponse(res, ISSUER)).toThrow(DiscoveryDocumentError);
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['an introspection endpoint on another host', { introspection_endpoint: 'https://evil.example/oauth/v2/introspect' }, /introspection_endpoint https:\/\/evil\.example, outside the issuer's origin https:\/\/acme\.zitadel\.cloud/],
    ['an introspection endpoint over http', { introspection_endpoint: 'http://acme.zitadel.cloud/oauth/v2/introspect' }, /introspection_endpoint http:\/\/acme\.zitadel\.cloud, outside/],
    ['an introspection endpoint on another port', { introspection_endpoint: 'https://acme.zitadel.cloud:8443/oauth/v2/introspect' }, /introspection_endpoint/],
    ['a key set on another host', { jwks_uri: 'https://keys.evil.example/oauth/v2/keys' }, /jwks_uri https:\/\/keys\.evil\.example, outside/],
  ])('should refuse %s, naming the endpoint: ZITADEL serves every endpoint on its own origin', (_name, fields, message) => {
    expect(() => parseDiscoveryResponse(ok({ ...doc, ...fields }), ISSUER)).toThrow(message);
  });
});

describe('Discovery retrying in the background', () => {
  it('should log each different failure once, however many retries repeat it, and the recovery once', async () => {
    const answers = [ok(doc, 502), ok(doc, 502), ok(doc, 502), ok({ ...doc, issuer: 'https://evil.example' }), ok({ ...doc, issuer: 'https://evil.example' }), ok(doc)];
    const http: HttpClient = { send: async () => answers.shift() ?? ok(doc), close() {} };
    const log = memoryLog();
    const discovery = new Discovery({ issuer: ISSUER, http, timeoutMs: 100, logger: log.logger, backoff: { initialMs: 1, maxMs: 1 } });
    try {
      void discovery.start();
      await until(() => discovery.ready, 'discovery');
      expect(answers).toEqual([]);
      const failed = withMessage(log.lines, 'issuer discovery failed').map((line) => (line.err as { message: string }).message);
      expect(failed).toEqual(['discovery answered HTTP 502', 'discovery names issuer https://evil.example, but ZITADEL_ISSUER is https://acme.zitadel.cloud/']);
      expect(withMessage(log.lines, 'issuer discovery recovered')).toHaveLength(1);
      expect(withMessage(log.lines, 'issuer discovered')).toHaveLength(1);
    } finally {
      discovery.stop();
    }
  });
});
