import type { ApolloServer } from '@apollo/server';
import { AuthError, ProviderUnavailableError } from '../../src/auth/errors.js';
import type { Identity } from '../../src/auth/identity.js';
import type { TokenVerifier } from '../../src/auth/verifier.js';
import { createContext, type GraphQLContext } from '../../src/graphql/context.js';

/**
 * A verifier that knows a few tokens and counts how often it is asked: stands in for
 * introspection where a test is about the schema, not the network (integration tests use the
 * real issuer). 'down' answers like an unreachable ZITADEL.
 */
export function fakeVerifier(identities: Readonly<Record<string, Identity>>, behaviour: 'ok' | 'down' = 'ok') {
  const calls = { count: 0 };
  const verifier: TokenVerifier = {
    async verify(token) {
      calls.count += 1;
      if (behaviour === 'down') throw new ProviderUnavailableError('PROVIDER_UNREACHABLE', 'down', 9);
      const identity = Object.hasOwn(identities, token) ? identities[token] : undefined;
      if (!identity) throw new AuthError('invalid_token');
      return identity;
    },
    // Nothing is remembered across operations: every operation verifies (and counts) once.
    known: () => undefined,
  };
  return { verifier, calls };
}

/** Runs one operation through Apollo (plugins included) as the bearer of `token`. */
export async function execute(server: ApolloServer<GraphQLContext>, query: string, token: string | undefined, verifier: TokenVerifier) {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const res = await server.executeOperation({ query }, { contextValue: createContext(verifier, headers) });
  if (res.body.kind !== 'single') throw new Error('expected a single result');
  return { status: res.http.status, headers: res.http.headers, result: res.body.singleResult };
}
