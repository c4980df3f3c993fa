import { pino, type DestinationStream, type Logger } from 'pino';

/**
 * JSON logs (pino). We never log tokens; redaction is the second line of defence should a
 * header or a form body ever reach a log call.
 */
export function createLogger(level: string, destination: DestinationStream = batchedStdout()): Logger {
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

/** Lines are written once this many characters wait, and at least every FLUSH_INTERVAL_MS. */
const BATCH_CHARS = 4096;
const FLUSH_INTERVAL_MS = 100;

/**
 * stdout, written in batches: a write(2) per request line is what request logging would
 * otherwise cost. The lines wait in an array and are joined once per batch; sonic-boom's own
 * buffer (minLength) appends each line to one growing string and measures its byte length on
 * every write, which copies the whole buffer per line (3.1-3.3 µs per line in a loop writing to
 * /dev/null, against 1.2-1.5 µs this way). Writes are synchronous, on the event loop's thread
 * (async writes cost more CPU per line); sonic-boom does them, partial writes and EAGAIN
 * included. Flushed at exit, so a stopping process keeps its last lines, and by `logger.flush()`.
 */
export function batchedStdout(out: DestinationStream = pino.destination({ dest: 1, sync: true })): DestinationStream {
  let lines: string[] = [];
  let chars = 0;
  const flush = () => {
    if (lines.length === 0) return;
    const text = lines.join('');
    lines = [];
    chars = 0;
    out.write(text);
  };
  setInterval(flush, FLUSH_INTERVAL_MS).unref();
  process.once('exit', flush);
  const destination: DestinationStream & { flush(done?: (error?: Error) => void): void } = {
    write(line: string) {
      lines.push(line);
      chars += line.length;
      if (chars >= BATCH_CHARS) flush();
    },
    // pino's logger.flush(): main.ts writes its start-up lines at once, beside the banner.
    flush(done?: (error?: Error) => void) {
      flush();
      done?.();
    },
  };
  return destination;
}
