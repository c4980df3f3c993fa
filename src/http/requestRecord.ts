import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { RequestObserver } from '../graphql/context.js';

/** How the caller's token was known: from this process's memory, or checked (introspection, JWT, Redis). */
export type AuthSource = 'cache' | 'checked';

/**
 * What one request did, written once as its log line and metrics. The edge owns it; the
 * context's verification and the response plugin feed it through RequestObserver. Holds no token.
 */
export class RequestRecord implements RequestObserver {
  readonly startedAt = performance.now();
  operationName: string | null = null;
  /** `OK`, or the first error's code. */
  outcome = 'OK';
  auth: AuthSource | null = null;
  /** Time spent waiting for the token check on a cache miss. */
  authMs: number | null = null;
  /** Why the caller was not authenticated (`missing_token`, `expired`, `id_token`, ...); never the token. */
  authFailure: string | null = null;

  constructor(readonly id: string) {}

  authFromMemory(): void {
    this.auth = 'cache';
  }

  authChecked(ms: number): void {
    this.auth = 'checked';
    this.authMs = (this.authMs ?? 0) + ms;
  }

  authRefused(reason: string): void {
    this.authFailure = reason;
  }

  operationEnded(name: string | null, outcome: string): void {
    this.operationName = name;
    this.outcome = outcome;
  }
}

// Generous for trace ids and UUIDs, nothing that could break a log line or a header.
const SANE_REQUEST_ID = /^[\w.:@-]{1,128}$/;

/** The caller's X-Request-Id when it is sane (so traces line up across services), else a new one. */
export function requestIdFrom(headers: IncomingHttpHeaders): string {
  const incoming = headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
