import type { Logger } from 'pino';

/**
 * Logs a dependency's trouble once per change of state, not once per request or retry: when an
 * outage starts or changes kind, and when it ends. ZITADEL (introspection, discovery, the signing
 * keys) and Redis each keep one.
 */
export class OutageLog {
  #kind: string | undefined;
  readonly #logger: Logger;
  readonly #subject: string;

  /** `subject` names what recovers in the recovery line, e.g. "token introspection". */
  constructor(logger: Logger, subject: string) {
    this.#logger = logger;
    this.#subject = subject;
  }

  /** True between a failure and the next success. */
  get ongoing(): boolean {
    return this.#kind !== undefined;
  }

  /** Logs the failure unless an outage of this `kind` is already logged. */
  failed(kind: string, level: 'warn' | 'error', fields: Readonly<Record<string, unknown>>, message: string): void {
    if (this.#kind === kind) return;
    this.#kind = kind;
    this.#logger[level](fields, message);
  }

  /** Ends the outage, logging its recovery once. */
  succeeded(): void {
    if (this.#kind === undefined) return;
    this.#logger.info({ after: this.#kind }, `${this.#subject} recovered`);
    this.#kind = undefined;
  }
}
