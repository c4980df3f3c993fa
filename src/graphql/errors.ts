import { GraphQLError } from 'graphql';
import { AuthError, IntrospectionBudgetError, ProviderUnavailableError, type AuthFailureReason } from '../auth/index.js';

/** Codes a client sees in `errors[].extensions.code`; stable, part of the API. */
export const ErrorCode = {
  Unauthenticated: 'UNAUTHENTICATED',
  Forbidden: 'FORBIDDEN',
  AuthProviderUnavailable: 'AUTH_PROVIDER_UNAVAILABLE',
  /** This server's budget for calls to ZITADEL is spent for the moment: retry after a pause. */
  RateLimited: 'RATE_LIMITED',
  InternalServerError: 'INTERNAL_SERVER_ERROR',
  /** The request did not finish within GRAPHQL_REQUEST_TIMEOUT_MS. */
  RequestTimeout: 'REQUEST_TIMEOUT',
  /** The body is larger than GRAPHQL_MAX_BODY_BYTES. */
  BodyTooLarge: 'BODY_TOO_LARGE',
  // Query limits: refused with 400 before anything runs.
  QueryTooLong: 'QUERY_TOO_LONG',
  OperationNameTooLong: 'OPERATION_NAME_TOO_LONG',
  BatchTooLarge: 'BATCH_TOO_LARGE',
  TooManyTokens: 'TOO_MANY_TOKENS',
  QueryTooDeep: 'QUERY_TOO_DEEP',
  TooManyAliases: 'TOO_MANY_ALIASES',
  QueryTooCostly: 'QUERY_TOO_COSTLY',
  TooManyDirectives: 'TOO_MANY_DIRECTIVES',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The request's deadline passed: whatever it still waits for is no longer wanted. */
export class RequestTimeoutError extends Error {
  readonly code = ErrorCode.RequestTimeout;
  override name = 'RequestTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`The request did not complete within ${timeoutMs} ms; retry later.`);
  }
}

const AUTH_MESSAGES: Record<AuthFailureReason, string> = {
  missing_token: 'Authentication required: send an Authorization: Bearer <token> header.',
  malformed_token: 'The Authorization header is not a valid Bearer token.',
  invalid_token: 'The access token is invalid, expired or revoked.',
};

/** An authenticated caller lacks a role or scope; `missing` is the requirement in words. */
export function forbidden(missing: string): GraphQLError {
  return new GraphQLError(`Forbidden: requires ${missing}.`, { extensions: { code: ErrorCode.Forbidden } });
}

/**
 * A scope requirement met by a caller whose scopes cannot be known: a JWT validated locally
 * with ZITADEL_TOKEN_VALIDATION=jwt (ZITADEL's JWT access tokens carry no scopes, and nothing is
 * introspected). Fails closed, and says why, so that it is not mistaken for a missing grant.
 */
export function scopesUnknown(missing: string): GraphQLError {
  return new GraphQLError(
    `Forbidden: requires ${missing}. Scopes cannot be checked: ZITADEL's JWT access tokens carry none, and this server validates them locally without introspection.`,
    { extensions: { code: ErrorCode.Forbidden, reason: 'scopes_unknown' } },
  );
}

/** A domain error as a client sees it: a message saying what the caller can do, and its code. */
export interface TranslatedError {
  readonly message: string;
  readonly extensions: Readonly<Record<string, unknown>>;
}

/**
 * Translates a domain error (auth, provider, budget, deadline) into what a client sees, the one
 * place that does, whichever resolver threw it. The message never carries the token, the cause,
 * or provider details. Undefined for anything else.
 */
export function translateDomainError(error: unknown): TranslatedError | undefined {
  if (error instanceof ProviderUnavailableError) {
    return {
      message: 'The identity provider is unavailable; retry later.',
      extensions: { code: ErrorCode.AuthProviderUnavailable, retryAfterSeconds: error.retryAfterSeconds },
    };
  }
  if (error instanceof IntrospectionBudgetError) {
    return {
      message: 'Too many new tokens to verify right now; retry later.',
      extensions: { code: ErrorCode.RateLimited, retryAfterSeconds: error.retryAfterSeconds },
    };
  }
  if (error instanceof AuthError) {
    return { message: AUTH_MESSAGES[error.reason], extensions: { code: ErrorCode.Unauthenticated, reason: error.reason } };
  }
  if (error instanceof RequestTimeoutError) {
    // Nobody reads this response (the client already has its 503); it only ends the work quietly.
    return { message: error.message, extensions: { code: ErrorCode.RequestTimeout } };
  }
  return undefined;
}
