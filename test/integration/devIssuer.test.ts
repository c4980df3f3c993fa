import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { JWT_BEARER_ASSERTION_TYPE } from '../../src/auth/clientAuth.js';
import { parseApplicationKey } from '../../src/auth/keyFile.js';
import { startDevIssuer, type DevIssuer } from '../../src/dev/issuer.js';

/**
 * The development issuer must hold the server to ZITADEL's rules (see ../shared/ZITADEL.md),
 * or the server could pass here and fail against ZITADEL.
 */
let issuer: DevIssuer;
let introspectionEndpoint: string;

beforeAll(async () => {
  issuer = await startDevIssuer();
  const discovery = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
  introspectionEndpoint = discovery.introspection_endpoint as string;
});

afterAll(() => issuer.close());

async function assertion(claims: { aud?: string; iatOffset?: number; sub?: string } = {}): Promise<string> {
  const key = parseApplicationKey(issuer.keyJson);
  const iat = Math.floor(Date.now() / 1000) + (claims.iatOffset ?? 0);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', kid: key.keyId })
    .setIssuer(key.clientId)
    .setSubject(claims.sub ?? key.clientId)
    .setAudience(claims.aud ?? issuer.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 60)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

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
    const { status, body } = await introspect(await issuer.mintToken(), await assertion());
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
      'urn:zitadel:iam:org:project:roles': issuer.demoUser.roles,
      [`urn:zitadel:iam:org:project:${issuer.projectId}:roles`]: issuer.demoUser.roles,
      'urn:zitadel:iam:user:resourceowner:id': issuer.demoUser.organizationId,
    });
    expect(body.aud).toEqual(expect.arrayContaining([issuer.projectId]));
    expect(typeof body.exp).toBe('number');
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
  ])('should reject client authentication with %s, like ZITADEL', async (_name, claims) => {
    const { status, body } = await introspect(await issuer.mintToken(), await assertion(claims()));
    expect([400, 401]).toContain(status);
    expect(body.error).toBe('invalid_client');
  });
});

describe('the development issuer’s JWT access tokens', () => {
  // An independent verifier: jose's own remote key set against the published jwks_uri.
  const verify = async (token: string) => {
    const doc = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
    return jwtVerify(token, createRemoteJWKSet(new URL(doc.jwks_uri)), { issuer: issuer.issuer, audience: issuer.projectId, algorithms: ['RS256'] });
  };

  it('should verify against the published key set, with ZITADEL-shaped claims and no profile claims', async () => {
    const { payload, protectedHeader } = await verify(await issuer.mintJwt({ scope: 'openid profile email' }));
    expect(protectedHeader).toMatchObject({ alg: 'RS256', kid: issuer.signingKeyIds.at(-1), typ: 'JWT' });
    expect(payload).toMatchObject({
      iss: issuer.issuer,
      sub: issuer.demoUser.sub,
      scope: 'openid profile email',
      'urn:zitadel:iam:org:project:roles': issuer.demoUser.roles,
      [`urn:zitadel:iam:org:project:${issuer.projectId}:roles`]: issuer.demoUser.roles,
      'urn:zitadel:iam:user:resourceowner:id': issuer.demoUser.organizationId,
    });
    expect(payload.aud).toEqual(expect.arrayContaining([issuer.projectId]));
    expect(typeof payload.client_id).toBe('string');
    expect(typeof payload.jti).toBe('string');
    expect(payload.exp! - payload.iat!).toBe(12 * 3600);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload).not.toHaveProperty('email');
    expect(payload).not.toHaveProperty('preferred_username');
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
