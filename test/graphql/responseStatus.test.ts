import { describe, expect, it } from '@jest/globals';
import type { GraphQLFormattedError } from 'graphql';
import { authStatus } from '../../src/graphql/responsePlugin.js';

const unauth = (path: string[]): GraphQLFormattedError => ({ message: 'x', path, extensions: { code: 'UNAUTHENTICATED' } });
const down = (path: string[], retryAfterSeconds = 5): GraphQLFormattedError => ({ message: 'x', path, extensions: { code: 'AUTH_PROVIDER_UNAVAILABLE', retryAfterSeconds } });
const denied = (path: string[]): GraphQLFormattedError => ({ message: 'x', path, extensions: { code: 'FORBIDDEN' } });
const limited = (path: string[], retryAfterSeconds = 1): GraphQLFormattedError => ({ message: 'x', path, extensions: { code: 'RATE_LIMITED', retryAfterSeconds } });
const other = (path: string[]): GraphQLFormattedError => ({ message: 'x', path, extensions: { code: 'INTERNAL_SERVER_ERROR' } });

describe('authStatus', () => {
  it('should be 401 with a bare challenge when data is null and no token was sent', () => {
    expect(authStatus(null, [unauth(['hello'])], false)).toEqual({ status: 401, headers: { 'www-authenticate': 'Bearer realm="graphql"' } });
  });

  it('should add error="invalid_token" when a token was sent and rejected', () => {
    expect(authStatus(null, [unauth(['hello'])], true)?.headers['www-authenticate']).toBe('Bearer realm="graphql", error="invalid_token"');
  });

  it('should be 401 when every root field is null with an auth error at its path', () => {
    expect(authStatus({ me: null, other: null }, [unauth(['me']), unauth(['other', 'id'])], false)?.status).toBe(401);
  });

  it('should stay 200 (undefined) when some root field resolved', () => {
    expect(authStatus({ __typename: 'Query', me: null }, [unauth(['me'])], false)).toBeUndefined();
  });

  it('should stay 200 when a root field is null for a reason other than auth', () => {
    expect(authStatus({ me: null, feed: null }, [unauth(['me'])], false)).toBeUndefined();
  });

  it('should stay 200 when no error is about auth', () => {
    expect(authStatus(null, [other(['hello'])], true)).toBeUndefined();
    expect(authStatus({ hello: 'hi' }, undefined, true)).toBeUndefined();
  });

  it('should be 503 with the longest Retry-After when the provider was unavailable', () => {
    expect(authStatus({ a: null, b: null }, [down(['a'], 5), down(['b'], 30)], true)).toEqual({ status: 503, headers: { 'retry-after': '30' } });
  });

  it('should prefer 503 over 401 when both happened', () => {
    expect(authStatus(null, [unauth(['a']), down(['b'])], true)?.status).toBe(503);
  });

  it('should be 403 with error="insufficient_scope" when a forbidden non-null field nulled data', () => {
    expect(authStatus(null, [denied(['adminGreeting'])], true)).toEqual({
      status: 403,
      headers: { 'www-authenticate': 'Bearer realm="graphql", error="insufficient_scope"' },
    });
  });

  it('should be 403 when every root field is null, forbidden or unauthorized alike', () => {
    expect(authStatus({ a: null, b: null }, [denied(['a']), denied(['b', 'x'])], true)?.status).toBe(403);
  });

  it('should stay 200 with partial data beside a forbidden field', () => {
    expect(authStatus({ hello: 'hi', secret: null }, [denied(['secret'])], true)).toBeUndefined();
  });

  it('should prefer 401 and 503 over 403', () => {
    expect(authStatus(null, [denied(['a']), unauth(['b'])], true)?.status).toBe(401);
    expect(authStatus(null, [denied(['a']), down(['b'])], true)?.status).toBe(503);
  });

  it('should be 429 with Retry-After when our introspection budget refused the request', () => {
    expect(authStatus(null, [limited(['hello'], 2)], true)).toEqual({ status: 429, headers: { 'retry-after': '2' } });
    expect(authStatus({ a: 'x', b: null }, [limited(['b'])], true)).toBeUndefined();
  });
});
