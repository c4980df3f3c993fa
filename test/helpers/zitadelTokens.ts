import { randomBytes } from 'node:crypto';
import type { DevIssuer, JwtMintOptions } from '../../src/dev/issuer.js';

/**
 * Tokens ZITADEL issues that an API must refuse as access tokens, signed by the development
 * issuer's published key exactly as ZITADEL signs its own (see ../shared/ZITADEL.md, "Tokens").
 */

const seconds = () => Math.floor(Date.now() / 1000);

/**
 * An ID token of the demo user for the development front end: same key, `typ: "JWT"`, and the
 * project id in `aud` (ZITADEL appends the client id to the session's audience), like an access
 * token; but `azp`, `client_id`, `nonce`, `at_hash`, `sid`, `amr` and `auth_time`, and no `jti`
 * or `nbf` (zitadel/oidc `NewIDTokenClaims`, zitadel `createIDToken`).
 */
export function mintIdToken(issuer: DevIssuer, options: JwtMintOptions = {}): Promise<string> {
  const now = seconds();
  return issuer.mintJwt({
    ...options,
    claims: {
      jti: undefined,
      nbf: undefined,
      azp: issuer.frontendClientId,
      client_id: issuer.frontendClientId,
      nonce: randomBytes(12).toString('base64url'),
      at_hash: randomBytes(16).toString('base64url'),
      sid: `V1_${randomBytes(9).readUIntBE(0, 6)}`,
      amr: ['pwd'],
      auth_time: now - 30,
      ...options.claims,
    },
  });
}

/** A JWT access token whose `iat` and `nbf` lie `secondsAhead` in the future (an issuer's clock ahead of ours). */
export function mintNotYetValidJwt(issuer: DevIssuer, secondsAhead: number): Promise<string> {
  const at = seconds() + secondsAhead;
  return issuer.mintJwt({ claims: { iat: at, nbf: at } });
}
