import type { Identity } from './identity.js';

/**
 * What a token check decided, in the compact form every layer keeps: the introspection client
 * and the JWT validator make it, the caches hold it, the verifier turns it into an identity or
 * an AuthError. A refusal keeps why, for the request's log line.
 */
export type Verdict =
  | { readonly active: true; readonly identity: Identity }
  | {
      readonly active: false;
      /** `inactive`, `expired`, `no_subject`, or a JWT rejection (`id_token`, `bad_signature`, ...). */
      readonly reason?: string;
      /**
       * Decided here without asking ZITADEL (a JWT refused by local validation): deciding again
       * costs no call, so it is never shared with other replicas, whose cache one caller's
       * made-up tokens must not fill.
       */
      readonly local?: true;
    };

/**
 * One way of checking a token: introspection (behind its guard) or local JWT validation.
 * Rejects with ProviderUnavailableError when it cannot decide, or IntrospectionBudgetError when
 * this server's budget for asking ZITADEL is spent. `client`: who presents the token (an
 * address), for the budget, which is shared fairly between callers.
 */
export interface TokenCheck {
  check(token: string, client?: string): Promise<Verdict>;
}
