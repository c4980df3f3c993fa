import type { ClientAuth } from './clientAuth.js';
import type { Discovery } from './discovery.js';
import { ProviderUnavailableError } from '../errors.js';
import type { HttpClient, HttpResponse } from './httpClient.js';
import type { IntrospectionClaims } from '../identity.js';
import { JWT_CLOCK_TOLERANCE_SECONDS } from './jwtClaims.js';
import { DEFAULT_RETRY_AFTER_SECONDS, providerErrorForStatus, sendToIssuer } from './transport.js';

export type IntrospectionResult =
  | { readonly active: true; readonly claims: IntrospectionClaims }
  | { readonly active: false; readonly reason: 'inactive' | 'expired' | 'not_yet_valid' };

/**
 * Validates an introspection response (RFC 7662 §2.2) and applies `exp` and `nbf` ourselves:
 * the response may be cached, and the token must stop working at `exp` whatever ZITADEL
 * said earlier. Pure. Every non-200 throws: it says nothing about the token (ZITADEL answers
 * unknown, expired and revoked tokens with 200 `{"active":false}`).
 */
export function processIntrospectionResponse(response: HttpResponse, nowMs: number): IntrospectionResult {
  if (response.status !== 200) throw providerErrorForIntrospection(response);
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    throw new ProviderUnavailableError('PROVIDER_ERROR', 'introspection response is not JSON', DEFAULT_RETRY_AFTER_SECONDS);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body) || typeof (body as { active?: unknown }).active !== 'boolean') {
    throw new ProviderUnavailableError('PROVIDER_ERROR', 'introspection response lacks a boolean "active"', DEFAULT_RETRY_AFTER_SECONDS);
  }
  const claims = body as IntrospectionClaims;
  if (claims.active !== true) return { active: false, reason: 'inactive' };
  const now = nowMs / 1000;
  if (typeof claims.exp === 'number' && claims.exp <= now) return { active: false, reason: 'expired' };
  if (typeof claims.nbf === 'number' && claims.nbf > now + JWT_CLOCK_TOLERANCE_SECONDS) return { active: false, reason: 'not_yet_valid' };
  return { active: true, claims };
}

function providerErrorForIntrospection(response: HttpResponse): ProviderUnavailableError {
  const { status } = response;
  // ZITADEL answers bad client authentication with 400 unauthorized_client/invalid_client
  // (its docs say 401): our key or client id is wrong, which no caller can fix.
  if (status === 400 || status === 401) {
    const error = oauthError(response.body);
    return new ProviderUnavailableError(
      'CLIENT_AUTH_REJECTED',
      `ZITADEL rejected this server's client authentication (HTTP ${status}${error ? ` ${error}` : ''}): check the API application key and ZITADEL_ISSUER`,
      DEFAULT_RETRY_AFTER_SECONDS,
    );
  }
  return providerErrorForStatus(response, 'introspection');
}

function oauthError(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === 'string' && /^[\w.-]{1,64}$/.test(parsed.error) ? parsed.error : undefined;
  } catch {
    return undefined;
  }
}

export interface Introspector {
  /** `client`: who asks (an address), for a budget shared fairly between callers. */
  introspect(token: string, client?: string): Promise<IntrospectionResult>;
}

export interface IntrospectionClientOptions {
  readonly discovery: Discovery;
  readonly clientAuth: ClientAuth;
  readonly http: HttpClient;
  readonly timeoutMs: number;
  readonly now?: () => number;
}

/** Sends RFC 7662 requests to the endpoint discovery names, authenticated by `clientAuth`. */
export function createIntrospectionClient(options: IntrospectionClientOptions): Introspector {
  const { discovery, clientAuth, http, timeoutMs } = options;
  const now = options.now ?? Date.now;
  return {
    async introspect(token) {
      const metadata = await discovery.get();
      const body = new URLSearchParams({ token });
      const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
      await clientAuth.apply(metadata.issuer, body, headers);

      const response = await sendToIssuer(discovery, http, {
        method: 'POST',
        url: metadata.introspectionEndpoint,
        headers,
        body: body.toString(),
        timeoutMs,
      });
      return processIntrospectionResponse(response, now());
    },
  };
}
