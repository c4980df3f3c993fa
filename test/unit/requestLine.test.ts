import { describe, expect, it } from '@jest/globals';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createLogger } from '../../src/observability/logger.js';
import { requestLineWriter, type RequestLine } from '../../src/observability/requestLine.js';

const base: RequestLine = { reqId: '0b8f7e1c-6f0e-4c55-9a55-1e0c5c0f2d11', operationName: null, outcome: 'OK', status: 200, ms: 1.23, auth: null, authMs: null, authFailure: null };
const LINES: RequestLine[] = [
  base,
  { ...base, operationName: 'Me', auth: 'cache' },
  { ...base, operationName: 'Me', auth: 'checked', authMs: 20.5, ms: 21 },
  { ...base, outcome: 'UNAUTHENTICATED', status: 401, authFailure: 'expired' },
  // Operation names come from the client: quotes, control characters and non-ASCII are escaped as pino escapes them.
  { ...base, operationName: 'say "hi"\n\\ é ✓', reqId: 'trace.1:2@3', outcome: 'BAD_REQUEST', status: 400 },
];

/** What pino itself writes for the line: the fields without the nulls, then the message. */
function asPinoLogs(line: RequestLine): Record<string, unknown> {
  return Object.fromEntries(Object.entries(line).filter(([key, value]) => value !== null || key === 'operationName'));
}

function written(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { stream, lines };
}

describe('requestLineWriter', () => {
  it('writes the bytes pino writes for the same line', () => {
    const { stream, lines } = written();
    // A fixed clock, so the two lines can be compared whole.
    const logger = pino({ timestamp: () => ',"time":1764620000000' }, stream);
    const write = requestLineWriter(logger);
    for (const line of LINES) {
      write(line);
      logger.info(asPinoLogs(line), 'request');
      const [ours, pinos] = lines.splice(0);
      expect(ours).toBe(pinos);
    }
  });

  it("goes through the app logger's stream with its level, clock and bindings", () => {
    const { stream, lines } = written();
    const logger = createLogger('info', stream);
    const before = Date.now();
    requestLineWriter(logger)({ ...base, auth: 'cache' });
    logger.info(asPinoLogs({ ...base, auth: 'cache' }), 'request');
    const [ours, pinos] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(ours!.time).toBeGreaterThanOrEqual(before);
    expect({ ...ours, time: 0 }).toEqual({ ...pinos, time: 0 });
    expect(ours).toMatchObject({ level: 30, pid: process.pid, msg: 'request', auth: 'cache' });
  });
});
