import type { IncomingHttpHeaders } from 'node:http';
import { AuthError, parseAuthorization, type BearerCredential, type Identity, type TokenVerifier } from '../auth/index.js';

/** Told what the request's authentication did, for its log line and metrics; never the token. */
export interface AuthObserver {
  /** The token's verdict was in this process's memory. */
  authFromMemory(): void;
  /** The token had to be checked (Redis, introspection, JWT validation); `ms` waited for it. */
  authChecked(ms: number): void;
  /** Why the caller was refused (`missing_token`, `expired`, `id_token`, ...). */
  authRefused(reason: string): void;
}

/** Told what the request did: its authentication, and the operation's name and outcome. */
export interface RequestObserver extends AuthObserver {
  /** `outcome`: `OK`, or the first error's code. */
  operationEnded(name: string | null, outcome: string): void;
}

/** What the HTTP edge knows of a request that its context needs. */
export interface RequestScope {
  /** Its `signal` aborts when the request's deadline passes; read only when something must wait. */
  readonly deadline?: { readonly signal: AbortSignal };
  readonly observer?: RequestObserver;
  /** Who sent the request (an address), asked only when the token has to be checked. */
  readonly client?: () => string;
}

export interface GraphQLContext {
  readonly auth: RequestAuth;
  /** Absent outside the HTTP edge. */
  readonly observer?: RequestObserver | undefined;
  /** Aborts when the request's deadline passes. */
  readonly signal: AbortSignal;
}

/** Outside the HTTP edge (tests, executeOperation) there is no deadline: a signal that never aborts. */
const NEVER = new AbortController().signal;

/**
 * The caller of one request. Creating it costs a header parse and nothing else; the token is
 * verified only when a protected field asks, and at most once per request however many ask:
 * the identity is one memoised promise (the cross-request cache sits behind the verifier).
 */
export class RequestAuth {
  readonly credential: BearerCredential;
  readonly #verifier: TokenVerifier;
  readonly #scope: RequestScope;
  /** The caller, once known. */
  #identity: Identity | undefined;
  /** Memory was asked (once per request). */
  #looked = false;
  /** Memory holds a refusal for the token. */
  #refused = false;
  #refusalReason: string | undefined;
  #pending: Promise<Identity> | undefined;
  #introspected: Promise<Identity> | undefined;

  constructor(credential: BearerCredential, verifier: TokenVerifier, scope: RequestScope = {}) {
    this.credential = credential;
    this.#verifier = verifier;
    this.#scope = scope;
  }

  /** True when a token was presented, whether or not it turns out valid. */
  get presentedToken(): boolean {
    return this.credential.kind !== 'none';
  }

  /**
   * The caller when known without waiting (verified earlier in this request, or remembered by
   * the token cache): protected fields then resolve without a promise or a timer.
   */
  get current(): Identity | undefined {
    if (!this.#looked && this.credential.kind === 'token') {
      this.#looked = true;
      const known = this.#verifier.known(this.credential.token);
      if (known) {
        this.#scope.observer?.authFromMemory();
        if (known.active) {
          this.#identity = known.identity;
        } else {
          this.#refused = true;
          this.#refusalReason = known.reason;
        }
      }
    }
    return this.#identity;
  }

  /** The verified caller; rejects with AuthError, ProviderUnavailableError, or the signal's reason. */
  require(): Promise<Identity> {
    const current = this.current;
    if (current) return Promise.resolve(current);
    this.#pending ??= this.#verify();
    return this.#pending;
  }

  /**
   * The verified caller with their scopes known. A JWT validated locally carries none, so it is
   * introspected once (ZITADEL_TOKEN_VALIDATION=auto); where nothing is introspected (`jwt`)
   * the scopes stay unknown (null), and a scope requirement then fails closed.
   */
  async requireScopes(): Promise<Identity> {
    const identity = await this.require();
    const { introspect } = this.#verifier;
    if (identity.scopes !== null || !introspect || this.credential.kind !== 'token') return identity;
    const { token } = this.credential;
    this.#introspected ??= this.#checked(introspect(token, this.#scope.client?.()));
    this.#identity = await this.#introspected;
    return this.#identity;
  }

  async #verify(): Promise<Identity> {
    const { credential } = this;
    if (credential.kind !== 'token' || this.#refused) {
      // Refused moments ago (or expired): no need to ask again.
      const reason = credential.kind === 'none' ? 'missing_token' : credential.kind === 'malformed' ? 'malformed_token' : 'invalid_token';
      const error = new AuthError(reason, this.#refusalReason);
      this.#scope.observer?.authRefused(error.detail ?? error.reason);
      throw error;
    }
    this.#identity = await this.#checked(this.#verifier.verify(credential.token, this.#scope.client?.()));
    return this.#identity;
  }

  /**
   * A check under way: timed and its refusal noted for the log line, and given up when the
   * deadline passes. The check itself goes on: other requests may share it, it is bounded by
   * ZITADEL_TIMEOUT_MS, and its verdict is cached for the retry.
   */
  async #checked(check: Promise<Identity>): Promise<Identity> {
    const { observer, deadline } = this.#scope;
    const started = performance.now();
    try {
      return await (deadline ? untilAborted(check, deadline.signal) : check);
    } catch (error) {
      if (error instanceof AuthError) observer?.authRefused(error.detail ?? error.reason);
      throw error;
    } finally {
      observer?.authChecked(performance.now() - started);
    }
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    // Nobody waits for the check any more; its failure must not go unhandled.
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * One request's context. `signal` lives on the prototype: Apollo copies a context's own
 * properties per operation, and copying a getter would make the AbortSignal for every request.
 */
class RequestContext implements GraphQLContext {
  constructor(
    readonly auth: RequestAuth,
    readonly observer: RequestObserver | undefined,
    readonly deadline: RequestScope['deadline'],
  ) {}

  get signal(): AbortSignal {
    return this.deadline?.signal ?? NEVER;
  }
}

/** The context of a request with these headers. */
export function createContext(verifier: TokenVerifier, headers: IncomingHttpHeaders, scope: RequestScope = {}): GraphQLContext {
  return new RequestContext(new RequestAuth(parseAuthorization(headers.authorization), verifier, scope), scope.observer, scope.deadline);
}
