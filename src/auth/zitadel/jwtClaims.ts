import { decodeProtectedHeader, type JWTPayload, type ProtectedHeaderParameters } from 'jose';

/**
 * The pure rules of local JWT access-token validation (RFC 7519 §7.2, RFC 8725): what a token
 * must look like before its signature is worth checking. No keys, no I/O, no clock of its own.
 */

/**
 * Asymmetric JWS algorithms only (RFC 7518 §3.3-3.5, RFC 8037). Never `none`, never HMAC: an
 * HS256 token "signed" with the issuer's public key as secret would otherwise verify
 * (RFC 8725 §2.1, §3.1). ZITADEL signs with RS256 by default; its web keys add ES256 and EdDSA.
 */
export const JWT_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Leeway for `exp`, `nbf` and `iat` against clock skew between ZITADEL and us (JWTs and introspection answers alike). */
export const JWT_CLOCK_TOLERANCE_SECONDS = 5;

/** Why a JWT was refused; logged at debug level, never shown to the caller (who sees invalid_token). */
export type JwtRejection =
  | 'not_a_jwt'
  | 'algorithm_not_allowed'
  | 'missing_kid'
  | 'critical_header'
  | 'invalid_claims'
  | 'wrong_issuer'
  | 'wrong_audience'
  | 'missing_exp'
  | 'expired'
  | 'not_yet_valid'
  /** No `jti`: every ZITADEL access token has one, its ID tokens never do. */
  | 'missing_jti'
  /** A claim only ZITADEL's ID tokens carry: an ID token is not an access token. */
  | 'id_token'
  | 'unknown_key'
  | 'bad_signature';

/**
 * Refusals that are no verdict on the token: it may pass later (its `nbf`/`iat` arrives, its key
 * gets published), so they are never remembered.
 */
export const PASSING_REJECTIONS: ReadonlySet<string> = new Set<JwtRejection>(['not_yet_valid', 'unknown_key']);

/**
 * Claims of ZITADEL's ID tokens that its access tokens never carry. ZITADEL signs both with the
 * same key, `typ: "JWT"`, and puts the project id into both `aud`s: these tell them apart.
 */
const ID_TOKEN_CLAIMS = ['azp', 'nonce', 'at_hash', 'sid', 'auth_time', 'amr'] as const;

/** A header we have checked: an allowed algorithm and a key id to look up. */
export interface CheckedJwtHeader extends ProtectedHeaderParameters {
  readonly alg: string;
  readonly kid: string;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The JOSE header of a JWT-shaped token (three base64url parts, the first a JSON object), or
 * undefined for anything else, such as ZITADEL's opaque tokens. An empty signature still counts
 * as JWT-shaped, so an `alg: none` token is refused as a JWT rather than sent elsewhere.
 */
export function joseHeaderOf(token: string): ProtectedHeaderParameters | undefined {
  if (!COMPACT_JWS.test(token)) return undefined;
  try {
    return decodeProtectedHeader(token);
  } catch {
    return undefined;
  }
}

/** Refuses what ZITADEL never issues and what would let a forger choose how we verify. */
export function checkJwtHeader(header: ProtectedHeaderParameters): JwtRejection | CheckedJwtHeader {
  const { alg, kid } = header;
  if (typeof alg !== 'string' || !JWT_ALGORITHMS.includes(alg)) return 'algorithm_not_allowed';
  // Without `kid` every published key would be a candidate; ZITADEL always names its key.
  if (typeof kid !== 'string' || kid.length === 0) return 'missing_kid';
  // `crit` (e.g. b64: false) changes what the signature covers; ZITADEL never sets it.
  if (header.crit !== undefined || header.b64 !== undefined) return 'critical_header';
  return { ...header, alg, kid };
}

export interface JwtExpectations {
  /** Discovery's `issuer`, compared verbatim. */
  readonly issuer: string;
  /** The project id: ZITADEL puts it in `aud` of tokens meant for the project's APIs. */
  readonly audience: string;
  /** Unix seconds. */
  readonly now: number;
}

/**
 * RFC 7519 §4.1 claim checks on a decoded payload, and that it is a ZITADEL access token rather
 * than an ID token (RFC 9068 §4 asks the same of access tokens); undefined when it passes.
 */
export function checkJwtClaims(payload: JWTPayload, expected: JwtExpectations): JwtRejection | undefined {
  const { iss, aud, exp, nbf, iat, jti } = payload;
  if (!isNumericDate(exp)) return exp === undefined ? 'missing_exp' : 'invalid_claims';
  if ((nbf !== undefined && !isNumericDate(nbf)) || (iat !== undefined && !isNumericDate(iat))) return 'invalid_claims';
  if (iss !== expected.issuer) return 'wrong_issuer';
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  if (!audiences.includes(expected.audience)) return 'wrong_audience';
  if (ID_TOKEN_CLAIMS.some((claim) => payload[claim] !== undefined)) return 'id_token';
  if (typeof jti !== 'string' || jti.length === 0) return 'missing_jti';
  if (exp <= expected.now - JWT_CLOCK_TOLERANCE_SECONDS) return 'expired';
  const latest = expected.now + JWT_CLOCK_TOLERANCE_SECONDS;
  if ((nbf !== undefined && nbf > latest) || (iat !== undefined && iat > latest)) return 'not_yet_valid';
  return undefined;
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}
