import { pino, type DestinationStream, type Logger } from 'pino';

/** One request's log line: no header, so never a token. Null fields after `ms` are left out. */
export interface RequestLine {
  readonly reqId: string;
  readonly operationName: string | null;
  readonly outcome: string;
  readonly status: number;
  readonly ms: number;
  readonly auth: string | null;
  readonly authMs: number | null;
  readonly authFailure: string | null;
}

const { chindingsSym, endSym, lsCacheSym, streamSym, timeSym } = pino.symbols;

/**
 * Writes request lines exactly as `logger.info(line, 'request')` would (same fields, order and
 * bytes; its unit test holds it to that), from a template over the line's fixed shape instead
 * of pino's general serializer, which walks the object key by key through megamorphic property
 * loads. The line is written on every request: profiled under load, the line and the request's
 * metrics took 5.4 % of the server's CPU this way against 8.0 % through pino. It reads the
 * logger's prefix, bindings, clock and stream through `pino.symbols`, pino's interface for
 * integrations. It skips redaction, as the request line always has: no field holds a token.
 */
export function requestLineWriter(logger: Logger): (line: RequestLine) => void {
  const internals = logger as unknown as Record<symbol, unknown>;
  const level = (internals[lsCacheSym] as Record<number, string>)[logger.levels.values.info!]!;
  const bindings = internals[chindingsSym] as string;
  const end = internals[endSym] as string;
  const time = internals[timeSym] as () => string;
  const stream = internals[streamSym] as DestinationStream;
  return (line) => {
    stream.write(
      `${level}${time()}${bindings},"reqId":${JSON.stringify(line.reqId)},"operationName":${JSON.stringify(line.operationName)},"outcome":${JSON.stringify(line.outcome)},"status":${line.status},"ms":${line.ms}` +
        `${line.auth === null ? '' : `,"auth":${JSON.stringify(line.auth)}`}${line.authMs === null ? '' : `,"authMs":${line.authMs}`}${line.authFailure === null ? '' : `,"authFailure":${JSON.stringify(line.authFailure)}`},"msg":"request"${end}`,
    );
  };
}
