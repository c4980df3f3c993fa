import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse, GraphQLRequestListener } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { GraphQLContext } from './context.js';
import { ErrorCode } from './errors.js';
import { MAX_OPERATION_NAME_LENGTH } from './queryLimits.js';

/**
 * Our one plugin with a per-request hook (Apollo pays per plugin and per hook): on the finished
 * response it sets the HTTP status of auth failures, then tells the request's observer the
 * operation's name and outcome.
 */
export function responsePlugin(): ApolloServerPlugin<GraphQLContext> {
  // Stateless, so one listener (and one settled promise of it) serves every request: no async
  // function call per request and hook.
  const done = Promise.resolve();
  const listener: GraphQLRequestListener<GraphQLContext> = {
    willSendResponse(requestContext) {
      applyAuthStatus(requestContext);
      reportOutcome(requestContext);
      return done;
    },
  };
  const started = Promise.resolve(listener);
  return { requestDidStart: () => started };
}

export interface AuthStatus {
  readonly status: 401 | 403 | 429 | 503;
  readonly headers: Readonly<Record<string, string>>;
}

const REALM = 'graphql';

const AUTH_CODES: ReadonlySet<unknown> = new Set([ErrorCode.Unauthenticated, ErrorCode.Forbidden, ErrorCode.AuthProviderUnavailable, ErrorCode.RateLimited]);

/**
 * The HTTP status of a finished response, decided once here because Apollo merges
 * `extensions.http` from every error: a per-field status would turn a partial success into a
 * failure. Only when no root field resolved (`data` is null, or every root field is null with
 * an auth error at its path) does an auth failure set the status: 503 with Retry-After when
 * ZITADEL could not be asked, else 429 with Retry-After when our own budget for asking it is
 * spent, else 401 for a missing or rejected token, else 403 for a caller
 * lacking a role or scope (RFC 6750 §3, `insufficient_scope`). Pure.
 */
export function authStatus(
  data: Record<string, unknown> | null | undefined,
  errors: readonly GraphQLFormattedError[] | undefined,
  presentedToken: boolean,
): AuthStatus | undefined {
  const authErrors = errors?.filter((e) => AUTH_CODES.has(e.extensions?.code));
  if (!authErrors?.length) return undefined;
  const nothingResolved =
    data == null || Object.entries(data).every(([key, value]) => value === null && authErrors.some((e) => e.path?.[0] === key));
  if (!nothingResolved) return undefined;

  const withCode = (code: ErrorCode) => authErrors.filter((e) => e.extensions?.code === code);
  const retryAfter = (errors: readonly GraphQLFormattedError[]) =>
    String(Math.max(...errors.map((e) => Number(e.extensions?.retryAfterSeconds) || 1)));
  const unavailable = withCode(ErrorCode.AuthProviderUnavailable);
  if (unavailable.length > 0) return { status: 503, headers: { 'retry-after': retryAfter(unavailable) } };
  const limited = withCode(ErrorCode.RateLimited);
  if (limited.length > 0) return { status: 429, headers: { 'retry-after': retryAfter(limited) } };
  if (withCode(ErrorCode.Unauthenticated).length > 0) {
    const challenge = presentedToken ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
    return { status: 401, headers: { 'www-authenticate': challenge } };
  }
  return { status: 403, headers: { 'www-authenticate': `Bearer realm="${REALM}", error="insufficient_scope"` } };
}

/** Sets the status and headers `authStatus` decides on the finished response. */
function applyAuthStatus({ response, contextValue }: GraphQLRequestContextWillSendResponse<GraphQLContext>): void {
  if (response.body.kind !== 'single') return;
  const { data, errors } = response.body.singleResult;
  const decision = authStatus(data, errors, contextValue?.auth.presentedToken ?? false);
  if (!decision) return;
  response.http.status = decision.status;
  for (const [name, value] of Object.entries(decision.headers)) response.http.headers.set(name, value);
}

/** The operation's name and outcome (OK or the first error's code), for the request's log line. */
function reportOutcome({ contextValue, operationName, request, response }: GraphQLRequestContextWillSendResponse<GraphQLContext>): void {
  const observer = contextValue?.observer;
  if (!observer) return;
  // The document's name is bounded only by the query's length: the log line gets a bounded one.
  const name = operationName ?? request.operationName ?? null;
  const result = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
  const code = result.errors?.[0]?.extensions?.code;
  observer.operationEnded(
    name !== null && name.length > MAX_OPERATION_NAME_LENGTH ? `${name.slice(0, MAX_OPERATION_NAME_LENGTH)}…` : name,
    typeof code === 'string' ? code : result.errors?.length ? 'ERROR' : 'OK',
  );
}
