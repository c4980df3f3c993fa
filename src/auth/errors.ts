import type { OutageLog } from '../observability/outageLog.js';

/** The Retry-After we suggest when ZITADEL gives none. */
export const DEFAULT_RETRY_AFTER_SECONDS = 5;

/**
 * Domain errors of the auth layer. The schema layer translates them into GraphQL errors
 * (src/graphql/errors.ts); nothing here knows about GraphQL or HTTP.
 */

/** Why a caller is not authenticated. `missing_token` is the only one without a presented token. */
export type AuthFailureReason = 'missing_token' | 'malformed_token' | 'invalid_token';

/**
 * The caller's credential was absent or rejected: the caller's fault, never retried. `detail`
 * says why a token was rejected (e.g. `expired`, `id_token`) for the request's log line; the
 * caller only ever sees `reason`.
 */
export class AuthError extends Error {
  readonly code = 'AUTH_FAILED';
  override name = 'AuthError';
  constructor(
    readonly reason: AuthFailureReason,
    readonly detail?: string,
  ) {
    super(detail === undefined ? reason : `${reason}: ${detail}`);
  }
}

/**
 * The token could not be checked: ZITADEL unreachable, slow, rate limiting us, answering
 * non-200, or refusing our client authentication. Never the caller's fault (RFC 7662 §2.3
 * gives no way to tell "inactive" from a failed call, so we never guess "inactive").
 */
export class ProviderUnavailableError extends Error {
  readonly code: ProviderFailure;
  override name = 'ProviderUnavailableError';
  /** A transient failure (connection error, 5xx) that an immediate retry may get past. */
  readonly transient: boolean;
  constructor(
    code: ProviderFailure,
    message: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown; transient?: boolean },
  ) {
    super(message, options);
    this.code = code;
    this.transient = options?.transient ?? false;
  }
}

/**
 * This server's own budget for calls to ZITADEL is used up (see IntrospectionBudget): the
 * request is refused at once rather than queued. Not the caller's token's fault.
 */
export class IntrospectionBudgetError extends Error {
  readonly code = 'INTROSPECTION_BUDGET_EXHAUSTED';
  override name = 'IntrospectionBudgetError';
  constructor(readonly retryAfterSeconds: number) {
    super('introspection budget exhausted');
  }
}

export type ProviderFailure =
  /** Network error, connection refused or reset. */
  | 'PROVIDER_UNREACHABLE'
  /** No answer within the configured timeout. */
  | 'PROVIDER_TIMEOUT'
  /** HTTP 429 from ZITADEL's rate limiter. */
  | 'PROVIDER_RATE_LIMITED'
  /** 400/401 to our client authentication: a configuration fault (wrong key, wrong app). */
  | 'CLIENT_AUTH_REJECTED'
  /** Any other non-200, or a body that is not a valid introspection response. */
  | 'PROVIDER_ERROR'
  /** Discovery has not succeeded yet. */
  | 'PROVIDER_NOT_READY'
  /** Too many failures in a row: we stopped asking until a background probe succeeds. */
  | 'CIRCUIT_OPEN';

/**
 * Logs a failure to verify tokens once per kind of outage. A rejected key or a broken answer
 * needs an operator (error); the rest passes by itself (warn).
 */
export function logProviderOutage(outage: OutageLog, failure: ProviderUnavailableError): void {
  const level = failure.code === 'CLIENT_AUTH_REJECTED' || failure.code === 'PROVIDER_ERROR' ? 'error' : 'warn';
  outage.failed(failure.code, level, { code: failure.code, err: failure.cause }, `cannot verify tokens: ${failure.message}`);
}

/** Any failure as a provider outage: ProviderUnavailableError as it is, anything else wrapped. */
export function asProviderError(error: unknown, message: string): ProviderUnavailableError {
  return error instanceof ProviderUnavailableError
    ? error
    : new ProviderUnavailableError('PROVIDER_ERROR', message, DEFAULT_RETRY_AFTER_SECONDS, { cause: error });
}
