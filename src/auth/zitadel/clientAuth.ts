import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { ApplicationKey } from './keyFile.js';

/**
 * How we authenticate to the introspection endpoint: a strategy that writes its part of the
 * request (oauth4webapi's ClientAuth shape). `audience` is discovery's `issuer`.
 */
export interface ClientAuth {
  apply(audience: string, body: URLSearchParams, headers: Record<string, string>): void | Promise<void>;
}

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface AssertionClaims {
  iss: string;
  sub: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
}

/**
 * RFC 7523 §3 claims. `iat` is floored so it is never ahead of our clock: ZITADEL rejects an
 * `iat` more than about a second in the future.
 */
export function assertionClaims(clientId: string, audience: string, nowMs: number, lifetimeSeconds: number, jti: string): AssertionClaims {
  const iat = Math.floor(nowMs / 1000);
  return { iss: clientId, sub: clientId, aud: audience, iat, exp: iat + lifetimeSeconds, jti };
}

export interface PrivateKeyJwtOptions {
  /** Assertion lifetime; ZITADEL allows up to an hour. */
  readonly lifetimeSeconds?: number;
  /** Sign a new one when less than this is left, so an assertion never expires in flight. */
  readonly renewBeforeSeconds?: number;
  readonly now?: () => number;
}

/**
 * `private_key_jwt` (RFC 7523 §2.2) with ZITADEL's API application key. Signing RS256 costs
 * more than the rest of an introspection call, and ZITADEL accepts a reused assertion, so one
 * signed assertion serves every call until it nears expiry.
 */
export function privateKeyJwt(key: ApplicationKey, options: PrivateKeyJwtOptions = {}): ClientAuth {
  const lifetime = options.lifetimeSeconds ?? 300;
  const renewBefore = options.renewBeforeSeconds ?? 60;
  const now = options.now ?? Date.now;
  let current: { audience: string; renewAtMs: number; assertion: Promise<string> } | undefined;

  function assertionFor(audience: string): Promise<string> {
    const nowMs = now();
    if (current && current.audience === audience && nowMs < current.renewAtMs) return current.assertion;
    const claims = assertionClaims(key.clientId, audience, nowMs, lifetime, randomUUID());
    const assertion = new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: key.keyId })
      .sign(key.privateKey);
    const entry = { audience, renewAtMs: (claims.exp - renewBefore) * 1000, assertion };
    current = entry;
    // A failed signature must not be served to later calls.
    assertion.catch(() => {
      if (current === entry) current = undefined;
    });
    return assertion;
  }

  return {
    async apply(audience, body) {
      body.set('client_assertion_type', JWT_BEARER_ASSERTION_TYPE);
      body.set('client_assertion', await assertionFor(audience));
    },
  };
}

/**
 * `client_secret_basic` (RFC 6749 §2.3.1): id and secret are form-urlencoded before base64,
 * which matters for ZITADEL client ids such as `123@project`.
 */
export function clientSecretBasic(clientId: string, clientSecret: string): ClientAuth {
  const value = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
  return {
    apply(_audience, _body, headers) {
      headers.authorization = value;
    },
  };
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
