import { describe, expect, it } from '@jest/globals';
import { identityFromAccessTokenJwt, identityFromClaims, roleNames } from '../../src/auth/identity.js';
import { identity as makeIdentity } from '../helpers/identity.js';
import { ORG_ID, PROJECT_ID, foreignProjectJwtPayload, fullResponse, jwtAccessTokenPayload, machineUserResponse, openidOnlyResponse, unverifiedEmailResponse } from '../fixtures/zitadel.js';

describe('identityFromClaims', () => {
  it('should map every ZITADEL claim of a full response', () => {
    const identity = identityFromClaims(fullResponse, { projectId: PROJECT_ID });
    expect(identity).toEqual({
      id: '77776025198584418',
      username: 'road.runner@acme.zitadel.cloud',
      name: 'Road Runner',
      givenName: 'Road',
      familyName: 'Runner',
      email: 'road.runner@acme.ch',
      emailVerified: true,
      locale: 'en',
      roleGrants: { admin: [ORG_ID], reader: ['100000000000000999'] },
      organizationId: ORG_ID,
      scopes: ['openid', 'profile', 'email', 'urn:zitadel:iam:org:project:id:2134:aud'],
      clientId: '2345@myproject',
      exp: 1700003600,
    });
  });

  it("should take roles only from the project's own claim when the project id is configured, sorted", () => {
    const identity = identityFromClaims(fullResponse, { projectId: PROJECT_ID })!;
    expect(roleNames(identity)).toEqual(['admin', 'reader']);
  });

  it('should not count the generic claim when the project id is configured: it may hold another project’s roles', () => {
    // A JWT obtained by an application of project 8888 for our audience: the generic claim is 8888's.
    expect(roleNames(identityFromAccessTokenJwt(foreignProjectJwtPayload, { projectId: PROJECT_ID })!)).toEqual([]);
    expect(roleNames(identityFromAccessTokenJwt(jwtAccessTokenPayload, { projectId: PROJECT_ID })!)).toEqual(['admin']);
    expect(roleNames(identityFromClaims(fullResponse, { projectId: '9999' })!)).toEqual([]);
  });

  it('should take only the generic roles claim when no project id is configured', () => {
    expect(roleNames(identityFromClaims(fullResponse)!)).toEqual(['admin']);
  });

  it('should keep the organizations that granted a role, ids as exact strings', () => {
    const identity = identityFromClaims(
      {
        sub: '1',
        'urn:zitadel:iam:org:project:7:roles': { admin: { '100000000000000001': 'a.example', '100000000000000003': 'b.example' }, support: { '100000000000000001': 'a.example' } },
      },
      { projectId: '7' },
    );
    expect(identity?.roleGrants).toEqual({ admin: ['100000000000000001', '100000000000000003'], support: ['100000000000000001'] });
  });

  it('should know nothing of profile, email or scopes from a JWT access token, whatever it carries', () => {
    const payload = { ...fullResponse, active: undefined };
    expect(identityFromAccessTokenJwt(payload, { projectId: PROJECT_ID })).toEqual(
      makeIdentity({
        id: '77776025198584418',
        roleGrants: { admin: [ORG_ID], reader: ['100000000000000999'] },
        organizationId: ORG_ID,
        scopes: null,
        clientId: '2345@myproject',
        exp: 1700003600,
      }),
    );
  });

  it('should leave profile fields null when ZITADEL sent none', () => {
    // Every other field absent (null, empty), and nothing added.
    expect(identityFromClaims(openidOnlyResponse)).toEqual(makeIdentity({ id: '77776025198584418', scopes: ['openid'], clientId: '2345@myproject', exp: 1700003600 }));
  });

  it('should read an omitted email_verified as false when an email is present', () => {
    expect(identityFromClaims(unverifiedEmailResponse)).toMatchObject({ email: 'new.user@acme.ch', emailVerified: false });
  });

  it('should fall back to preferred_username when username is absent', () => {
    expect(identityFromClaims({ sub: '1', preferred_username: 'p@x' })?.username).toBe('p@x');
  });

  it('should map a machine user', () => {
    expect(identityFromClaims(machineUserResponse)).toMatchObject({ id: '180000000000000001', clientId: 'machine-user', organizationId: ORG_ID, username: null });
  });

  it('should name a subject-less token by its client and refuse one without either', () => {
    expect(identityFromClaims({ active: true, client_id: 'svc' })?.id).toBe('svc');
    expect(identityFromClaims({ active: true })).toBeUndefined();
  });

  it('should survive claims of the wrong type', () => {
    const identity = identityFromClaims({
      sub: '1',
      scope: 42,
      exp: 'soon',
      email: ['a'],
      'urn:zitadel:iam:org:project:roles': 'admin',
      'urn:zitadel:iam:org:project:5:roles': { viewer: null },
    }, { projectId: '5' });
    expect(identity).toMatchObject({ id: '1', scopes: [], exp: null, email: null, roleGrants: { viewer: [] } });
  });

  it('should share the values users have in common, frozen, and keep what is personal', () => {
    const a = identityFromClaims({ ...fullResponse, sub: '1', email: 'a@acme.ch' }, { projectId: PROJECT_ID })!;
    const b = identityFromClaims({ ...fullResponse, sub: '2', email: 'b@acme.ch' }, { projectId: PROJECT_ID })!;
    expect(a.scopes).toBe(b.scopes);
    expect(a.roleGrants).toBe(b.roleGrants);
    expect(Object.isFrozen(a.scopes) && Object.isFrozen(a.roleGrants)).toBe(true);
    expect([a.id, a.email, b.id, b.email]).toEqual(['1', 'a@acme.ch', '2', 'b@acme.ch']);
    // Different grants are not confused with each other.
    const c = identityFromClaims({ ...fullResponse, 'urn:zitadel:iam:org:project:roles': { writer: { [ORG_ID]: 'x' } } })!;
    expect(roleNames(c)).toEqual(['writer']);
    expect(roleNames(a)).toEqual(['admin', 'reader']);
  });
});
