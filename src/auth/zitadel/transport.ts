import type { Discovery } from './discovery.js';
import { HttpTimeoutError, type HttpClient, type HttpRequest, type HttpResponse } from './httpClient.js';
import { DEFAULT_RETRY_AFTER_SECONDS, ProviderUnavailableError } from '../errors.js';


/**
 * After a 429 without Retry-After: ZITADEL Cloud bans an address for one minute (its rate-limit
 * policy), so asking sooner only prolongs the ban.
 */
export const RATE_LIMIT_RETRY_AFTER_SECONDS = 60;

/**
 * The longest Retry-After we honour: whoever can make ZITADEL (or a proxy in front of it) answer
 * 429 must not silence introspection for an hour.
 */
export const MAX_RETRY_AFTER_SECONDS = 120;

/** A failed exchange with ZITADEL (network, timeout, oversized body) as a provider outage. */
export function toProviderError(error: unknown, url: URL): ProviderUnavailableError {
  if (error instanceof ProviderUnavailableError) return error;
  if (error instanceof HttpTimeoutError) {
    return new ProviderUnavailableError('PROVIDER_TIMEOUT', error.message, DEFAULT_RETRY_AFTER_SECONDS, { cause: error });
  }
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return new ProviderUnavailableError(
    'PROVIDER_UNREACHABLE',
    `cannot reach ${url.origin}${code ? ` (${code})` : ''}`,
    DEFAULT_RETRY_AFTER_SECONDS,
    { cause: error, transient: true },
  );
}

/**
 * The seconds a Retry-After header asks for (RFC 9110 §10.2.3: delay-seconds or an HTTP-date),
 * at most MAX_RETRY_AFTER_SECONDS; `fallback` when it is absent, unreadable, or asks for no wait
 * at all (0, a past date), which would make a 429 pointless.
 */
export function retryAfter(response: HttpResponse, fallback: number, nowMs = Date.now()): number {
  const header = response.headers['retry-after'];
  if (typeof header !== 'string') return fallback;
  const text = header.trim();
  // An HTTP-date starts with the day's name ("Tue, 01 Dec 2026 12:00:00 GMT").
  const seconds = /^\d+$/.test(text) ? Number(text) : /^[A-Za-z]{3}, /.test(text) ? Math.ceil((Date.parse(text) - nowMs) / 1000) : NaN;
  if (!Number.isFinite(seconds) || seconds <= 0) return fallback;
  return Math.min(seconds, MAX_RETRY_AFTER_SECONDS);
}


/**
 * A non-2xx answer from ZITADEL's `what` (e.g. "introspection") as an outage: 429 passes on its
 * Retry-After (a minute without one), a 5xx is transient (worth a retry) and passes on its
 * Retry-After too; both at most MAX_RETRY_AFTER_SECONDS.
 */
export function providerErrorForStatus(response: HttpResponse, what: string): ProviderUnavailableError {
  const { status } = response;
  if (status === 429) {
    return new ProviderUnavailableError('PROVIDER_RATE_LIMITED', `ZITADEL rate-limited ${what} (HTTP 429)`, retryAfter(response, RATE_LIMIT_RETRY_AFTER_SECONDS));
  }
  const serverError = status >= 500;
  return new ProviderUnavailableError('PROVIDER_ERROR', `${what} answered HTTP ${status}`, serverError ? retryAfter(response, DEFAULT_RETRY_AFTER_SECONDS) : DEFAULT_RETRY_AFTER_SECONDS, {
    transient: serverError,
  });
}

/**
 * One exchange with an endpoint discovery named. Transport failures become outages; when the
 * endpoint is unreachable or answers 404 it may have moved, so discovery looks again.
 */
export async function sendToIssuer(discovery: Pick<Discovery, 'invalidate'>, http: HttpClient, request: HttpRequest): Promise<HttpResponse> {
  let response: HttpResponse;
  try {
    response = await http.send(request);
  } catch (error) {
    const failure = toProviderError(error, request.url);
    if (failure.code === 'PROVIDER_UNREACHABLE') discovery.invalidate();
    throw failure;
  }
  if (response.status === 404) discovery.invalidate();
  return response;
}
