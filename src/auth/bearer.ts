/** What the Authorization header presents, decided without calling anyone. */
export type BearerCredential =
  | { readonly kind: 'none' }
  | { readonly kind: 'malformed' }
  | { readonly kind: 'token'; readonly token: string };

/** Longer than any ZITADEL opaque or JWT access token; longer ones are not sent to ZITADEL. */
export const MAX_TOKEN_LENGTH = 8192;

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive (RFC 7235 §2.1).
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const NONE: BearerCredential = { kind: 'none' };
const MALFORMED: BearerCredential = { kind: 'malformed' };

/** Parses an Authorization header value. Pure and cheap: a regex, no allocation on the hot path but the token. */
export function parseAuthorization(header: string | readonly string[] | undefined): BearerCredential {
  if (header === undefined) return NONE;
  // Several Authorization headers: ambiguous, so refuse rather than pick one.
  if (typeof header !== 'string') return MALFORMED;
  if (header.length === 0) return NONE;
  // Cheap bound before the regex; the exact one is on the token below.
  if (header.length > MAX_TOKEN_LENGTH + 64) return MALFORMED;
  const token = BEARER.exec(header)?.[1];
  return token === undefined || token.length > MAX_TOKEN_LENGTH ? MALFORMED : { kind: 'token', token };
}
