import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { JWT_BEARER_ASSERTION_TYPE } from '../../src/auth/zitadel/clientAuth.js';
import { parseApplicationKey } from '../../src/auth/zitadel/keyFile.js';
import { DEV_ORG_ID, OTHER_PROJECT_ID, startDevIssuer, type DevIssuer } from '../../src/dev/issuer.js';
import { OTHER_PROJECT_ADMIN } from '../fixtures/devUsers.js';
import { devIssuerKeys } from '../helpers/issuer.js';

/**
 * The development issuer must hold the server to ZITADEL's rules (see ../shared/ZITADEL.md),
 * or the server could pass here and fail against ZITADEL.
 */
let issuer: DevIssuer;
let introspectionEndpoint: string;

beforeAll(async () => {
  issuer = await startDevIssuer(devIssuerKeys());
  const discovery = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  introspectionEndpoint = discovery.introspection_endpoint as string;
});

afterAll(() => issuer.close());

async function assertion(claims: { aud?: string; iatOffset?: number; expOffset?: number; sub?: string } = {}): Promise<string> {
  const key = parseApplicationKey(issuer.keyJson);
  const now = Math.floor(Date.now() / 1000);
  const iat = now + (claims.iatOffset ?? 0);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: key.keyId })
    .setIssuer(key.clientId)
    .setSubject(claims.sub ?? key.clientId)
    .setAudience(claims.aud ?? issuer.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(now + (claims.expOffset ?? 60))
    .setJti(randomUUID())
    .sign(key.privateKey);
}

const ROLES = 'urn:zitadel:iam:org:project:roles';
const projectRoles = (projectId: string) => `urn:zitadel:iam:org:project:${projectId}:roles`;
const RESOURCE_OWNER = ['urn:zitadel:iam:user:resourceowner:id', 'urn:zitadel:iam:user:resourceowner:name', 'urn:zitadel:iam:user:resourceowner:primary_domain'];
const payloadOf = (jwt: string) => decodeJwt(jwt) as Record<string, unknown>;

async function introspect(token: string, clientAssertion: string) {
  const res = await fetch(introspectionEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, client_assertion_type: JWT_BEARER_ASSERTION_TYPE, client_assertion: clientAssertion }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('the development issuer', () => {
  it("should publish ZITADEL's endpoint paths and an issuer without a trailing slash", async () => {
    const doc = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    expect(doc.issuer).toBe(issuer.issuer);
    expect(doc.introspection_endpoint).toBe(`${issuer.issuer}/oauth/v2/introspect`);
    expect(doc.jwks_uri).toBe(`${issuer.issuer}/oauth/v2/keys`);
    expect(doc.introspection_endpoint_auth_methods_supported ?? doc.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['private_key_jwt', 'client_secret_basic']));
  });

  it('should introspect with ZITADEL-shaped claims', async () => {
    const { status, body } = await introspect(await issuer.mintToken({ scope: 'openid profile email' }), await assertion());
    expect(status).toBe(200);
    expect(body).toMatchObject({
      active: true,
      sub: issuer.demoUser.sub,
      username: issuer.demoUser.username,
      preferred_username: issuer.demoUser.username,
      email: issuer.demoUser.email,
      email_verified: true,
      scope: 'openid profile email',
      token_type: 'Bearer',
      iss: issuer.issuer,
      [ROLES]: issuer.demoUser.roles,
      [projectRoles(issuer.projectId)]: issuer.demoUser.roles,
    });
    expect(body.aud).toEqual(expect.arrayContaining([issuer.projectId]));
    expect(typeof body.exp).toBe('number');
    // The organization only comes with its scope.
    for (const claim of RESOURCE_OWNER) expect(body).not.toHaveProperty(claim);
  });

  it('should name the organization only for the resource-owner scope', async () => {
    const { body } = await introspect(await issuer.mintToken({ scope: 'openid urn:zitadel:iam:user:resourceowner' }), await assertion());
    expect(body).toMatchObject({
      'urn:zitadel:iam:user:resourceowner:id': DEV_ORG_ID,
      'urn:zitadel:iam:user:resourceowner:name': 'Demo',
      'urn:zitadel:iam:user:resourceowner:primary_domain': 'demo.localhost',
    });
    expect(body).not.toHaveProperty('username');
  });

  it("should answer a token whose audience lacks the API's project as inactive, as ZITADEL does", async () => {
    const { body } = await introspect(await issuer.mintToken({ requestedBy: 'other-project', scope: 'openid' }), await assertion());
    expect(body).toEqual({ active: false });
  });

  it("should introspect another project's token that asked for the API's audience with the API project's roles only", async () => {
    const { body } = await introspect(await issuer.mintToken({ user: OTHER_PROJECT_ADMIN, requestedBy: 'other-project' }), await assertion());
    expect(body.active).toBe(true);
    expect(body).not.toHaveProperty(ROLES);
    expect(body).not.toHaveProperty(projectRoles(OTHER_PROJECT_ID));
  });

  it('should accept a reused assertion, as ZITADEL does', async () => {
    const reused = await assertion();
    const token = await issuer.mintToken();
    expect((await introspect(token, reused)).body.active).toBe(true);
    expect((await introspect(token, reused)).body.active).toBe(true);
  });

  it('should answer a revoked or unknown token with active false', async () => {
    const token = await issuer.mintToken();
    await issuer.revokeToken(token);
    expect((await introspect(token, await assertion())).body).toEqual({ active: false });
    expect((await introspect('unknown', await assertion())).body).toEqual({ active: false });
  });

  it.each<[string, () => Parameters<typeof assertion>[0]]>([
    // oidc-provider alone would accept the endpoint URL as audience; ZITADEL wants the issuer.
    ['the endpoint as audience instead of the issuer', () => ({ aud: introspectionEndpoint })],
    ['an iat ahead of the clock', () => ({ iatOffset: 30 })],
    ['a subject other than the client', () => ({ sub: 'someone-else' })],
    ['an iat more than an hour old', () => ({ iatOffset: -3601 })],
    ['an exp less than a second ahead', () => ({ expOffset: 1 })],
  ])('should reject client authentication with %s, like ZITADEL', async (_name, claims) => {
    const { status, body } = await introspect(await issuer.mintToken(), await assertion(claims()));
    expect([400, 401]).toContain(status);
    expect(body.error).toBe('invalid_client');
  });

  it('should accept an assertion whose exp lies more than an hour after its iat: ZITADEL ties exp to nothing', async () => {
    const { body } = await introspect(await issuer.mintToken(), await assertion({ iatOffset: -3000, expOffset: 3000 }));
    expect(body.active).toBe(true);
  });
});

describe('the development issuer’s JWT access tokens', () => {
  // An independent verifier: jose's own remote key set against the published jwks_uri.
  const verify = async (token: string) => {
    const doc = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
    return jwtVerify(token, createRemoteJWKSet(new URL(doc.jwks_uri)), { issuer: issuer.issuer, audience: issuer.projectId, algorithms: ['RS256'] });
  };

  it("should carry exactly ZITADEL's claims: no scope, no profile or email, roles of the requesting project", async () => {
    const { payload, protectedHeader } = await verify(await issuer.mintJwt({ scope: 'openid profile email urn:zitadel:iam:org:projects:roles' }));
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: issuer.signingKeyIds.at(-1), typ: 'JWT' });
    expect(Object.keys(payload).sort()).toEqual(['aud', 'client_id', 'exp', 'iat', 'iss', 'jti', 'nbf', 'sub', ROLES, projectRoles(issuer.projectId)].sort());
    expect(payload).toMatchObject({ iss: issuer.issuer, sub: issuer.demoUser.sub, [ROLES]: issuer.demoUser.roles, [projectRoles(issuer.projectId)]: issuer.demoUser.roles });
    expect(payload.aud).toEqual([payload.client_id, issuer.projectId]);
    expect(payload.jti).toMatch(/^V2_/);
    expect(payload.exp! - payload.iat!).toBe(12 * 3600);
    expect(payload.nbf).toBe(payload.iat);
  });

  it('should assert roles only when a scope asks for them (the projects do not assert roles on authentication)', async () => {
    const withRole = async (scope: string) => payloadOf(await issuer.mintJwt({ scope, user: { ...issuer.demoUser, roles: { admin: { [DEV_ORG_ID]: 'demo.localhost' }, support: { [DEV_ORG_ID]: 'demo.localhost' } } } }));
    expect(Object.keys(await withRole('openid profile email'))).not.toContain(ROLES);
    expect((await withRole('openid urn:zitadel:iam:org:project:role:support'))[ROLES]).toEqual({ support: { [DEV_ORG_ID]: 'demo.localhost' } });
    expect(Object.keys((await withRole('openid urn:zitadel:iam:org:projects:roles'))[ROLES] as object).sort()).toEqual(['admin', 'support']);
  });

  it('should add the organization for the resource-owner scope, as ZITADEL adds scope-driven claims', async () => {
    const payload = payloadOf(await issuer.mintJwt({ scope: 'openid urn:zitadel:iam:user:resourceowner' }));
    expect(payload['urn:zitadel:iam:user:resourceowner:id']).toBe(DEV_ORG_ID);
    expect(payload).not.toHaveProperty('scope');
  });

  it("should give another project's token that project's roles in the generic claim and none of the API project's", async () => {
    const payload = payloadOf(await issuer.mintJwt({ user: OTHER_PROJECT_ADMIN, requestedBy: 'other-project' }));
    expect(payload.aud).toEqual([payload.client_id, OTHER_PROJECT_ID, issuer.projectId]);
    expect(payload[ROLES]).toEqual(OTHER_PROJECT_ADMIN.otherProjectRoles);
    expect(payload[projectRoles(OTHER_PROJECT_ID)]).toEqual(OTHER_PROJECT_ADMIN.otherProjectRoles);
    expect(payload).not.toHaveProperty(projectRoles(issuer.projectId));
  });

  it('should answer introspection for a JWT access token, and see its revocation', async () => {
    const jwt = await issuer.mintJwt({ scope: 'openid profile' });
    const { body } = await introspect(jwt, await assertion());
    expect(body).toMatchObject({ active: true, sub: issuer.demoUser.sub, scope: 'openid profile', username: issuer.demoUser.username, [ROLES]: issuer.demoUser.roles });
    await issuer.revokeToken(jwt);
    expect((await introspect(jwt, await assertion())).body).toEqual({ active: false });
  });

  it('should sign with a rotated key, keep publishing the old one until it is retired', async () => {
    const [first] = issuer.signingKeyIds;
    const rotated = await issuer.rotateSigningKey();
    expect(issuer.signingKeyIds).toEqual([first, rotated]);
    expect(decodeProtectedHeader(await issuer.mintJwt()).kid).toBe(rotated);
    await verify(await issuer.mintJwt());
    await verify(await issuer.mintJwt({ kid: first }));
    issuer.retireSigningKey(rotated);
    const { keys } = (await (await fetch(`${issuer.issuer}/oauth/v2/keys`)).json()) as { keys: { kid: string; d?: string }[] };
    expect(keys.map((k) => k.kid)).toEqual([first]);
    expect(keys.every((k) => k.d === undefined)).toBe(true);
    await expect(issuer.mintJwt({ kid: rotated })).rejects.toThrow(/no published signing key/);
  });

  it('should put claims given for tests on top, and drop those set to undefined', async () => {
    const token = await issuer.mintJwt({ claims: { aud: ['other'], exp: undefined } });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload.aud).toEqual(['other']);
    expect(payload).not.toHaveProperty('exp');
  });
});
