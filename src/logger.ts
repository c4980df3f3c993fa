import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * JSON logs (pino). We never log tokens; redaction is the second line of defence should a
 * header or a form body ever reach a log call.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: {
        paths: ['authorization', '*.authorization', 'headers.authorization', '*.headers.authorization', 'token', '*.token', 'client_assertion', '*.client_assertion', 'clientSecret', '*.clientSecret'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
