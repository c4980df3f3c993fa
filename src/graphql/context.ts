import DataLoader from 'dataloader';
import type { IncomingHttpHeaders } from 'node:http';
import { parseAuthorization, type BearerCredential } from '../auth/bearer.js';
import { AuthError } from '../auth/errors.js';
import type { Identity } from '../auth/identity.js';
import { TokenMemo, type Verdict } from '../auth/cache/tokenCache.js';
import type { TokenVerifier } from '../auth/verifier.js';
import type { Deadline } from '../http/deadline.js';
import type { RequestRecord } from '../http/requestRecord.js';

export interface GraphQLContext {
  readonly auth: RequestAuth;
  /** What the request did, for its log line and metrics (absent outside the HTTP edge). */
  readonly record?: RequestRecord | undefined;
  /** Aborts when the request's deadline passes: slow work should stop then. */
  readonly signal: AbortSignal;
}

/**
 * The caller of one request. Creating it costs a header parse and nothing else; the token is
 * verified only when a protected field asks, and at most once per request however many ask
 * (a per-request DataLoader; the cross-request cache sits behind the verifier).
 */
export class RequestAuth {
  readonly credential: BearerCredential;
  #identity: Identity | undefined;
  /** What the token cache held when first asked (null: nothing); asked once per request. */
  #known: Verdict | null | undefined;
  #loader: DataLoader<string, Identity> | undefined;
  #introspected: Promise<Identity> | undefined;
  readonly #verifier: TokenVerifier;
  readonly #deadline: Deadline | undefined;
  readonly #record: RequestRecord | undefined;
  readonly #memo: TokenMemo | undefined;
  /** Who sent the request (an address), asked only when the token has to be checked. */
  readonly #client: (() => string) | undefined;

  constructor(credential: BearerCredential, verifier: TokenVerifier, deadline?: Deadline, record?: RequestRecord, memo?: TokenMemo, client?: () => string) {
    this.credential = credential;
    this.#verifier = verifier;
    this.#deadline = deadline;
    this.#record = record;
    this.#memo = memo;
    this.#client = client;
  }

  /** True when a token was presented, whether or not it turns out valid. */
  get presentedToken(): boolean {
    return this.credential.kind !== 'none';
  }

  /**
   * The caller when known without waiting (verified earlier in this request, or remembered by
   * the token cache): protected fields then resolve without a promise, a DataLoader or a timer.
   */
  get current(): Identity | undefined {
    if (this.#identity === undefined && this.#known === undefined && this.credential.kind === 'token') {
      this.#known = this.#verifier.known(this.credential.token, this.#memo) ?? null;
      if (this.#known) {
        if (this.#record) this.#record.auth = 'cache';
        if (this.#known.active) this.#identity = this.#known.identity;
      }
    }
    return this.#identity;
  }

  /** The verified caller; rejects with AuthError, ProviderUnavailableError, or the signal's reason. */
  require(): Promise<Identity> {
    const current = this.current;
    return current ? Promise.resolve(current) : this.#noteFailure(this.#require());
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
    if (!this.#introspected) {
      const started = performance.now();
      const record = this.#record;
      this.#introspected = untilAborted(introspect(this.credential.token, this.#client?.()), this.#deadline?.signal).finally(() => {
        if (!record) return;
        record.auth = 'checked';
        record.authMs = (record.authMs ?? 0) + performance.now() - started;
      });
    }
    this.#identity = await this.#noteFailure(this.#introspected);
    return this.#identity;
  }

  /** Why the caller was refused, for the request's log line. */
  async #noteFailure(identity: Promise<Identity>): Promise<Identity> {
    try {
      return await identity;
    } catch (error) {
      if (error instanceof AuthError && this.#record) this.#record.authFailure = error.detail ?? error.reason;
      throw error;
    }
  }

  async #require(): Promise<Identity> {
    const current = this.current;
    if (current) return current;
    // Refused moments ago (or expired): no need to ask again.
    if (this.#known?.active === false) throw new AuthError('invalid_token', this.#known.reason);
    const { credential } = this;
    if (credential.kind === 'none') throw new AuthError('missing_token');
    if (credential.kind === 'malformed') throw new AuthError('malformed_token');
    // Made on first use, so a request without protected fields allocates nothing for auth.
    this.#loader ??= new DataLoader<string, Identity>(
      (tokens) => Promise.all(tokens.map((token) => this.#verifier.verify(token, this.#client?.()).catch((error: unknown) => error as Error))),
      { batch: false },
    );
    const started = performance.now();
    try {
      this.#identity = await untilAborted(this.#loader.load(credential.token), this.#deadline?.signal);
      return this.#identity;
    } finally {
      if (this.#record && this.#record.auth === null) {
        this.#record.auth = 'checked';
        this.#record.authMs = performance.now() - started;
      }
    }
  }
}

/**
 * Stops waiting when `signal` aborts. The introspection itself goes on: other requests may
 * share it, it is bounded by ZITADEL_TIMEOUT_MS, and its verdict is cached for the retry.
 */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
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
    readonly deadline: Deadline | undefined,
    readonly record: RequestRecord | undefined,
  ) {}

  get signal(): AbortSignal {
    return this.deadline?.signal ?? NEVER;
  }
}

/** Outside the HTTP edge (tests, executeOperation) there is no deadline: a signal that never aborts. */
const NEVER = new AbortController().signal;

/**
 * Contexts for requests. `connection` (the request's socket) keys a memo of the last token it
 * presented, released with the connection; `client` tells who sent the request.
 */
export function createContextFactory(verifier: TokenVerifier) {
  const memos = new WeakMap<object, TokenMemo>();
  return (headers: IncomingHttpHeaders, deadline?: Deadline, record?: RequestRecord, connection?: object, client?: () => string): GraphQLContext => {
    const credential = parseAuthorization(headers.authorization);
    let memo: TokenMemo | undefined;
    if (connection && credential.kind === 'token') {
      memo = memos.get(connection);
      if (!memo) memos.set(connection, (memo = new TokenMemo()));
    }
    return new RequestContext(new RequestAuth(credential, verifier, deadline, record, memo, client), deadline, record);
  };
}
