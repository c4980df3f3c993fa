import { HttpTimeoutError, type HttpResponse } from './httpClient.js';
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
