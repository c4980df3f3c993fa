import { expect } from '@jest/globals';
import type { GraphQLResponse } from './server.js';

/**
 * ZITADEL could not be asked (down, slow, refusing us): 503 AUTH_PROVIDER_UNAVAILABLE with a
 * Retry-After (`retryAfter` exactly when given, else at least a second), never a challenge that
 * blames the caller's token, no data, and nothing of the failure's internals.
 */
export function expectUnavailable(res: GraphQLResponse, retryAfter?: string): void {
  expect(res.status).toBe(503);
  if (retryAfter === undefined) expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  else expect(res.headers.get('retry-after')).toBe(retryAfter);
  expect(res.headers.get('www-authenticate')).toBeNull();
  expect(res.body.data).toBeNull();
  expect(res.body.errors?.[0]?.extensions?.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
  expect(res.text).not.toMatch(/stack|ECONN|at .*\.ts/);
}
