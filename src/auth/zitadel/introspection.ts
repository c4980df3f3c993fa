import { DEFAULT_RETRY_AFTER_SECONDS, ProviderUnavailableError, asProviderError } from '../errors.js';
import { identityFromClaims, type IdentityOptions, type IntrospectionClaims } from '../identity.js';
import type { TokenCheck, Verdict } from '../verdict.js';
import type { ClientAuth } from './clientAuth.js';
import type { Discovery } from './discovery.js';
import type { HttpClient, HttpResponse } from './httpClient.js';
import { JWT_CLOCK_TOLERANCE_SECONDS } from './jwtClaims.js';
import { providerErrorForStatus, sendToIssuer } from './transport.js';

/**
 * Validates an introspection response (RFC 7662 §2.2), applies `exp` and `nbf` ourselves (the
 * verdict may be cached, and the token must stop working at `exp` whatever ZITADEL said
 * earlier), and maps an active token's claims to the caller. Pure. Every non-200 throws: it
 * says nothing about the token (ZITADEL answers unknown, expired and revoked tokens with 200
 * `{"active":false}`). `options.projectId` decides which roles claim counts (see IdentityOptions).
 */
export function processIntrospectionResponse(response: HttpResponse, nowMs: number, options: IdentityOptions = {}): Verdict {
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
  const identity = identityFromClaims(claims, options);
  return identity ? { active: true, identity } : { active: false, reason: 'no_subject' };
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

export interface IntrospectionClientOptions {
  readonly discovery: Pick<Discovery, 'get' | 'invalidate'>;
  readonly clientAuth: ClientAuth;
  readonly http: HttpClient;
  readonly timeoutMs: number;
  /** How active claims map to the caller. */
  readonly identity?: IdentityOptions;
  /** Told of every call as it ends: its duration, and its verdict (undefined when it failed). */
  readonly observe?: (ms: number, verdict: Verdict | undefined) => void;
  readonly now?: () => number;
}

/**
 * Sends RFC 7662 requests to the endpoint discovery names, authenticated by `clientAuth`. The
 * boundary with ZITADEL: whatever goes wrong leaves it as a ProviderUnavailableError.
 */
export function createIntrospectionClient(options: IntrospectionClientOptions): TokenCheck {
  const { discovery, clientAuth, http, timeoutMs, identity, observe } = options;
  const now = options.now ?? Date.now;

  async function introspect(token: string): Promise<Verdict> {
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
    return processIntrospectionResponse(response, now(), identity);
  }

  return {
    async check(token) {
      const started = performance.now();
      let verdict: Verdict | undefined;
      try {
        verdict = await introspect(token);
        return verdict;
      } catch (error) {
        throw asProviderError(error, 'introspection failed');
      } finally {
        observe?.(performance.now() - started, verdict);
      }
    },
  };
}
