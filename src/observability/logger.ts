import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * JSON logs (pino). We never log tokens; redaction is the second line of defence should a
 * header or a form body ever reach a log call.
 */
export function createLogger(level: string, destination: DestinationStream = bufferedStdout()): Logger {
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

/**
 * stdout through a 4 KiB buffer, written synchronously when full and every 100 ms: a write(2)
 * per request line is what request logging would otherwise cost, and synchronous writes keep the
 * work on the event loop's thread rather than the thread pool (async writes cost more CPU per
 * line). Flushed at exit, so a stopping process keeps its last lines.
 */
function bufferedStdout(): DestinationStream {
  const destination = pino.destination({ dest: 1, sync: true, minLength: 4096 });
  const timer = setInterval(() => destination.flush(), 100);
  timer.unref();
  process.once('exit', () => destination.flushSync());
  return destination;
}
