import type { Logger } from 'pino';
import { AuthError, IntrospectionBudgetError, ProviderUnavailableError } from './errors.js';
import { identityFromClaims, type Identity, type IdentityOptions, type IntrospectionClaims } from './identity.js';
import type { Introspector } from './introspection.js';
import { createOutageLog } from './outageLog.js';
import { asProviderError } from './providerErrors.js';
import type { TokenCache, TokenMemo, Verdict } from './tokenCache.js';

export interface TokenVerifier {
  /** The token's identity; AuthError('invalid_token') or ProviderUnavailableError otherwise. */
  verify(token: string): Promise<Identity>;
  /** The verdict this process already holds for the token, without waiting: the hot path. */
  known(token: string, memo?: TokenMemo): Verdict | undefined;
}

/** What one way of checking a token (introspection, local JWT validation) decided. */
export type TokenCheckResult =
  | { readonly active: true; readonly claims: IntrospectionClaims }
  | {
      readonly active: false;
      readonly reason: string;
      /** Not a verdict on the token (a key we do not know yet): refuse now, remember nothing. */
      readonly uncacheable?: boolean;
    };

/** One way of checking a token. Throws ProviderUnavailableError when it cannot decide. */
export interface TokenCheck {
  check(token: string): Promise<TokenCheckResult>;
}

export interface TokenVerifierOptions extends IdentityOptions {
  /** How this token is checked: the same check for every token, or chosen by its shape. */
  readonly checkFor: (token: string) => TokenCheck;
  readonly cache: TokenCache;
  readonly logger: Logger;
}

/** Introspection (RFC 7662) as a token check; logs ZITADEL's outages once per change of state. */
export function introspectionCheck(introspector: Introspector, logger: Logger): TokenCheck {
  const outage = createOutageLog(logger, 'token introspection');
  return {
    async check(token) {
      let result;
      try {
        result = await introspector.introspect(token);
      } catch (error) {
        // Our own budget said no: not an outage, and mapped to 429 by the schema layer.
        if (error instanceof IntrospectionBudgetError) throw error;
        const failure = asProviderError(error, 'introspection failed');
        outage.failed(failure);
        throw failure;
      }
      outage.succeeded();
      return result;
    },
  };
}

/**
 * The chosen check behind the cache, mapped to an Identity. Never logs a token; a check that
 * fails unexpectedly counts as a provider fault (503), never as the caller's (401).
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { checkFor, cache, logger } = options;
  const unexpected = createOutageLog(logger, 'token verification');

  async function load(token: string): Promise<Verdict> {
    let result: TokenCheckResult;
    try {
      result = await checkFor(token).check(token);
    } catch (error) {
      if (error instanceof ProviderUnavailableError || error instanceof IntrospectionBudgetError) throw error;
      const failure = asProviderError(error, 'token check failed');
      unexpected.failed(failure);
      throw failure;
    }
    if (!result.active) {
      logger.debug({ reason: result.reason }, 'token rejected');
      // A failed load is never cached: the next request decides afresh.
      if (result.uncacheable) throw new AuthError('invalid_token');
      return { active: false };
    }
    const identity = identityFromClaims(result.claims, options);
    return identity ? { active: true, identity } : { active: false };
  }

  return {
    async verify(token) {
      const verdict = await cache.get(token, () => load(token));
      if (!verdict.active) throw new AuthError('invalid_token');
      return verdict.identity;
    },
    known(token, memo) {
      return cache.peek(token, memo);
    },
  };
}
