import type { Discovery } from './discovery.js';
import { HttpTimeoutError, type HttpClient, type HttpRequest, type HttpResponse } from './httpClient.js';
import { ProviderUnavailableError } from './errors.js';

/** The Retry-After we suggest when ZITADEL gives none. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

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

/** The seconds of a numeric Retry-After header (capped at an hour), or our default. */
export function retryAfter(response: HttpResponse): number {
  const header = response.headers['retry-after'];
  const seconds = typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : NaN;
  return Number.isSafeInteger(seconds) && seconds > 0 ? Math.min(seconds, 3600) : DEFAULT_RETRY_AFTER_SECONDS;
}

/** Any failure as a provider outage: ProviderUnavailableError as it is, anything else wrapped. */
export function asProviderError(error: unknown, message: string): ProviderUnavailableError {
  return error instanceof ProviderUnavailableError
    ? error
    : new ProviderUnavailableError('PROVIDER_ERROR', message, DEFAULT_RETRY_AFTER_SECONDS, { cause: error });
}

/**
 * A non-2xx answer from ZITADEL's `what` (e.g. "introspection") as an outage: 429 passes on its
 * Retry-After, a 5xx is transient (worth a retry) and passes on its Retry-After too.
 */
export function providerErrorForStatus(response: HttpResponse, what: string): ProviderUnavailableError {
  const { status } = response;
  if (status === 429) {
    return new ProviderUnavailableError('PROVIDER_RATE_LIMITED', `ZITADEL rate-limited ${what} (HTTP 429)`, retryAfter(response));
  }
  const serverError = status >= 500;
  return new ProviderUnavailableError('PROVIDER_ERROR', `${what} answered HTTP ${status}`, serverError ? retryAfter(response) : DEFAULT_RETRY_AFTER_SECONDS, {
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
