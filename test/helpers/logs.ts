import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/observability/logger.js';
import { until } from './until.js';

/** A log line as pino writes it (JSON). */
export interface LogEntry {
  readonly level: number;
  readonly msg: string;
  readonly reqId?: string;
  readonly [field: string]: unknown;
}

export interface MemoryLog {
  /** A debug-level logger writing into `lines`. */
  readonly logger: Logger;
  /** Every line written, as written. */
  readonly lines: string[];
}

/** A logger that keeps what it writes in memory, for a test to read. */
export function memoryLog(): MemoryLog {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger('debug', stream), lines };
}

/** The lines, parsed. */
export function entries(lines: readonly string[]): LogEntry[] {
  return lines.map((line) => JSON.parse(line) as LogEntry);
}

/** The lines whose message is `msg` (a string: exactly; a RegExp: matching). */
export function withMessage(lines: readonly string[], msg: string | RegExp): LogEntry[] {
  return entries(lines).filter((entry) => (typeof msg === 'string' ? entry.msg === msg : msg.test(entry.msg)));
}

/** The request line of the request with this id (X-Request-Id), if written yet. */
export function requestLine(lines: readonly string[], reqId: string | null): LogEntry | undefined {
  return entries(lines).find((entry) => entry.msg === 'request' && entry.reqId === reqId);
}

/** The request line of the request with this id, once written (after the response: on the response's close). */
export async function requestLineOf(lines: readonly string[], reqId: string | null): Promise<LogEntry> {
  let found: LogEntry | undefined;
  await until(() => (found = requestLine(lines, reqId)) !== undefined, `the request line of ${reqId}`);
  return found!;
}
