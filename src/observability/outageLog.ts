import type { Logger } from 'pino';
import type { ProviderUnavailableError } from '../auth/errors.js';

/** Logs provider trouble once per change of state (outage, recovery), not once per request. */
export interface OutageLog {
  failed(failure: ProviderUnavailableError): void;
  succeeded(): void;
}

/** `subject` names what recovers in the recovery line, e.g. "token introspection". */
export function createOutageLog(logger: Logger, subject: string): OutageLog {
  let outage: string | undefined;
  return {
    failed(failure) {
      if (outage === failure.code) return;
      outage = failure.code;
      // A rejected key or a broken answer needs an operator; the rest passes by itself.
      const level = failure.code === 'CLIENT_AUTH_REJECTED' || failure.code === 'PROVIDER_ERROR' ? 'error' : 'warn';
      logger[level]({ code: failure.code, err: failure.cause }, `cannot verify tokens: ${failure.message}`);
    },
    succeeded() {
      if (outage === undefined) return;
      logger.info({ after: outage }, `${subject} recovered`);
      outage = undefined;
    },
  };
}
