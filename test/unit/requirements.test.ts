import { describe, expect, it } from '@jest/globals';
import { describe as describeRequirement, unmet, type Requirement } from '../../src/auth/requirements.js';
import { identity } from '../helpers/identity.js';

const ORG_A = '100000000000000001';
// Differs from ORG_A only beyond Number.MAX_SAFE_INTEGER's precision: equal as JS numbers.
const ORG_B = '100000000000000002';

const scopes = (...anyOf: string[][]): Requirement => ({ kind: 'scopes', anyOf });
const role = (roles: string[], organizationId: string | null = null): Requirement => ({ kind: 'role', roles, organizationId });

describe('unmet: @requiresScopes', () => {
  const requirement = scopes(['profile', 'email'], ['urn:zitadel:iam:user:metadata']);

  it.each([
    [['profile', 'email'], true],
    [['email', 'openid', 'profile'], true],
    [['urn:zitadel:iam:user:metadata'], true],
    [['profile'], false],
    [['email'], false],
    [['openid'], false],
    [[], false],
  ])('with scopes %j: passes=%s (outer OR, inner AND)', (held, passes) => {
    expect(unmet(requirement, identity({ scopes: held })) === undefined).toBe(passes);
  });

  it('should match whole scopes, not prefixes or case variants', () => {
    expect(unmet(scopes(['email']), identity({ scopes: ['emails', 'EMAIL', 'e'] }))).toBeDefined();
  });

  it('should name the missing scopes in the message', () => {
    expect(unmet(requirement, identity())).toBe('scopes profile and email, or scope urn:zitadel:iam:user:metadata');
  });
});

describe('unmet: @hasRole', () => {
  it('should pass with any one of the roles', () => {
    const staff = role(['admin', 'support']);
    expect(unmet(staff, identity({ roleGrants: { support: [ORG_A] } }))).toBeUndefined();
    expect(unmet(staff, identity({ roleGrants: { admin: [] } }))).toBeUndefined();
    expect(unmet(staff, identity({ roleGrants: { reader: [ORG_A] } }))).toBe('one of the roles admin, support');
    expect(unmet(staff, identity())).toBe('one of the roles admin, support');
  });

  it('should require the grant from the named organization, comparing ids as exact strings', () => {
    const orgAdmin = role(['admin'], ORG_A);
    expect(Number(ORG_A)).toBe(Number(ORG_B));
    expect(unmet(orgAdmin, identity({ roleGrants: { admin: [ORG_B, ORG_A] } }))).toBeUndefined();
    expect(unmet(orgAdmin, identity({ roleGrants: { admin: [ORG_B] } }))).toBe(`role admin in organization ${ORG_A}`);
    // The role from the right organization, but not the role asked for.
    expect(unmet(orgAdmin, identity({ roleGrants: { support: [ORG_A] } }))).toBeDefined();
  });

  it('should not be fooled by inherited property names', () => {
    expect(unmet(role(['constructor']), identity())).toBe('role constructor');
    expect(unmet(role(['__proto__']), identity())).toBe('role __proto__');
  });
});

describe('unmet: @authenticated', () => {
  it('should ask nothing more of a verified caller', () => {
    expect(unmet({ kind: 'authenticated' }, identity())).toBeUndefined();
    expect(describeRequirement({ kind: 'authenticated' })).toBe('an authenticated caller');
  });
});
