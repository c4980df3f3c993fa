import type { Identity } from '../../src/auth/identity.js';

/** An Identity with every optional claim absent, and `overrides` on top. */
export function identity(overrides: Partial<Identity> = {}): Identity {
  return {
    id: '1',
    username: null,
    name: null,
    givenName: null,
    familyName: null,
    email: null,
    emailVerified: null,
    locale: null,
    roleGrants: {},
    organizationId: null,
    scopes: [],
    clientId: null,
    exp: null,
    ...overrides,
  };
}
