import { describe, expect, it } from '@jest/globals';
import { KEY_PREFIX, redisKeyPrefix } from '../../src/auth/cache/redisCache.js';

const scope = { issuer: 'https://acme.zitadel.cloud/', clientId: '2345@acme', projectId: '2134', mode: 'introspection' } as const;

describe('redisKeyPrefix', () => {
  it('should be zitadel-graphql:token:<scope>: and the same for every replica of a deployment', () => {
    expect(redisKeyPrefix(scope)).toMatch(new RegExp(`^${KEY_PREFIX}[A-Za-z0-9_-]{16}:$`));
    expect(redisKeyPrefix({ ...scope })).toBe(redisKeyPrefix(scope));
  });

  it.each([
    ['another issuer', { ...scope, issuer: 'https://other.zitadel.cloud/' }],
    ['another client', { ...scope, clientId: '9999@acme' }],
    ['another project', { ...scope, projectId: '9999' }],
    ['no project', { ...scope, projectId: undefined }],
    // An auto replica's locally validated JWT saw no revocation and read its roles from the token.
    ['another validation mode', { ...scope, mode: 'auto' as const }],
  ])('should differ for %s, whose verdicts may differ', (_name, other) => {
    expect(redisKeyPrefix(other)).not.toBe(redisKeyPrefix(scope));
  });
});
