import type { Logger } from 'pino';
import { OutageLog } from '../observability/outageLog.js';
import type { TokenCache } from './cache/tokenCache.js';
import { AuthError, IntrospectionBudgetError, ProviderUnavailableError, asProviderError, logProviderOutage } from './errors.js';
import type { Identity } from './identity.js';
import type { TokenChecks } from './validationMode.js';
import type { TokenCheck, Verdict } from './verdict.js';
import { PASSING_REJECTIONS } from './zitadel/jwtClaims.js';

/**
 * `client` (where verifying methods take it): who presents the token, an address, for the
 * introspection budget, which is shared fairly between callers.
 */
export interface TokenVerifier {
  /** The token's identity; AuthError('invalid_token') or ProviderUnavailableError otherwise. */
  verify(token: string, client?: string): Promise<Identity>;
  /** The verdict this process already holds for the token, without waiting: the hot path. */
  known(token: string): Verdict | undefined;
  /**
   * The identity as introspection sees it (scopes, profile, email), for a token validated
   * locally as a JWT, which carries none of these; cached like any verdict. Undefined when this
   * server never introspects (ZITADEL_TOKEN_VALIDATION=jwt).
   */
  readonly introspect?: ((token: string, client?: string) => Promise<Identity>) | undefined;
}

export interface TokenVerifierOptions {
  readonly checks: TokenChecks;
  readonly cache: TokenCache;
  readonly logger: Logger;
}

/** Whether a verdict already holds what only introspection sees. */
const introspected = (verdict: Verdict) => !verdict.active || verdict.identity.scopes !== null;

/**
 * The chosen check behind the cache. Never logs a token; a check that fails unexpectedly counts
 * as a provider fault (503), never as the caller's (401).
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const { checks, cache, logger } = options;
  const unexpected = new OutageLog(logger, 'token verification');

  async function decide(check: TokenCheck, token: string, client: string | undefined): Promise<Verdict> {
    let verdict: Verdict;
    try {
      verdict = await check.check(token, client);
    } catch (error) {
      if (error instanceof ProviderUnavailableError || error instanceof IntrospectionBudgetError) throw error;
      const failure = asProviderError(error, 'token check failed');
      logProviderOutage(unexpected, failure);
      throw failure;
    }
    unexpected.succeeded();
    if (!verdict.active) {
      logger.debug({ reason: verdict.reason }, 'token rejected');
      // No verdict on the token (its nbf lies ahead, its key is not published yet): refuse it
      // now, remember nothing, so it passes once it can. A failed load is never cached.
      if (verdict.reason !== undefined && PASSING_REJECTIONS.has(verdict.reason)) throw new AuthError('invalid_token', verdict.reason);
    }
    return verdict;
  }

  function identityOf(verdict: Verdict): Identity {
    if (!verdict.active) throw new AuthError('invalid_token', verdict.reason);
    return verdict.identity;
  }

  const { introspection } = checks;
  return {
    async verify(token, client) {
      return identityOf(await cache.get(token, () => decide(checks.decide(token), token, client)));
    },
    known(token) {
      return cache.peek(token);
    },
    // Replaces the local verdict: a revocation introspection reports is then seen at once.
    introspect: introspection && (async (token, client) => identityOf(await cache.get(token, () => decide(introspection, token, client), introspected))),
  };
}
