import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import type { GraphQLFormattedError } from 'graphql';
import type { GraphQLContext } from '../context.js';
import { ErrorCode } from '../errors.js';

export interface AuthStatus {
  readonly status: 401 | 503;
  readonly headers: Readonly<Record<string, string>>;
}

export const REALM = 'graphql';

/**
 * The HTTP status of a finished response, decided once here because Apollo merges
 * `extensions.http` from every error: a per-field status would turn a partial success into a
 * failure. Only when no root field resolved (`data` is null, or every root field is null with
 * an auth error at its path) does an auth failure become 401 (RFC 6750 §3) or, when ZITADEL
 * could not be asked, 503 with Retry-After. Pure.
 */
export function authStatus(
  data: Record<string, unknown> | null | undefined,
  errors: readonly GraphQLFormattedError[] | undefined,
  presentedToken: boolean,
): AuthStatus | undefined {
  const authErrors = errors?.filter((e) => e.extensions?.code === ErrorCode.Unauthenticated || e.extensions?.code === ErrorCode.AuthProviderUnavailable);
  if (!authErrors?.length) return undefined;
  const nothingResolved =
    data == null || Object.entries(data).every(([key, value]) => value === null && authErrors.some((e) => e.path?.[0] === key));
  if (!nothingResolved) return undefined;

  const unavailable = authErrors.filter((e) => e.extensions?.code === ErrorCode.AuthProviderUnavailable);
  if (unavailable.length > 0) {
    const retryAfter = Math.max(...unavailable.map((e) => Number(e.extensions?.retryAfterSeconds) || 1));
    return { status: 503, headers: { 'retry-after': String(retryAfter) } };
  }
  const challenge = presentedToken ? `Bearer realm="${REALM}", error="invalid_token"` : `Bearer realm="${REALM}"`;
  return { status: 401, headers: { 'www-authenticate': challenge } };
}

export function authStatusPlugin(): ApolloServerPlugin<GraphQLContext> {
  // Stateless, so one listener serves every request.
  const listener: GraphQLRequestListener<GraphQLContext> = {
    async willSendResponse({ response, contextValue }) {
      if (response.body.kind !== 'single') return;
      const { data, errors } = response.body.singleResult;
      const decision = authStatus(data, errors, contextValue?.auth.presentedToken ?? false);
      if (!decision) return;
      response.http.status = decision.status;
      for (const [name, value] of Object.entries(decision.headers)) response.http.headers.set(name, value);
    },
  };
  return { requestDidStart: async () => listener };
}
