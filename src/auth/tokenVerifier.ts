import type { Logger } from 'pino';
import { AuthError, ProviderUnavailableError } from './errors.js';
import { identityFromClaims, type Identity, type IdentityOptions } from './identity.js';
import type { Introspector } from './introspection.js';
import { DEFAULT_RETRY_AFTER_SECONDS } from './providerErrors.js';
import type { TokenCache, Verdict } from './tokenCache.js';

export interface TokenVerifier {
  /** The token's identity; AuthError('invalid_token') or ProviderUnavailableError otherwise. */
  verify(token: string): Promise<Identity>;
}

export interface TokenVerifierOptions extends IdentityOptions {
  readonly introspector: Introspector;
  readonly cache: TokenCache;
  readonly logger: Logger;
}

/**
 * Introspection behind the cache. Logs provider trouble once per change of state (outage,
 * recovery), not once per request, and never logs a token.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { introspector, cache, logger } = options;
  let outage: string | undefined;

  async function load(token: string): Promise<Verdict> {
    let result;
    try {
      result = await introspector.introspect(token);
    } catch (error) {
      const failure =
        error instanceof ProviderUnavailableError
          ? error
          : new ProviderUnavailableError('PROVIDER_ERROR', 'introspection failed', DEFAULT_RETRY_AFTER_SECONDS, { cause: error });
      if (outage !== failure.code) {
        outage = failure.code;
        const level = failure.code === 'CLIENT_AUTH_REJECTED' || failure.code === 'PROVIDER_ERROR' ? 'error' : 'warn';
        logger[level]({ code: failure.code, err: failure.cause }, `cannot verify tokens: ${failure.message}`);
      }
      throw failure;
    }
    if (outage !== undefined) {
      logger.info({ after: outage }, 'token introspection recovered');
      outage = undefined;
    }
    if (!result.active) return result;
    const identity = identityFromClaims(result.claims, options);
    return identity ? { active: true, identity } : { active: false };
  }

  return {
    async verify(token) {
      const verdict = await cache.get(token, () => load(token));
      if (!verdict.active) throw new AuthError('invalid_token');
      return verdict.identity;
    },
  };
}
