import { describe, expect, it } from '@jest/globals';
import type { DestinationStream } from 'pino';
import { batchedStdout, createLogger } from '../../src/observability/logger.js';

/** What reaches the real destination: one string per write(2). */
function capture(): { out: DestinationStream; writes: string[]; nextWrite: () => Promise<string> } {
  const writes: string[] = [];
  let waiting: ((text: string) => void) | undefined;
  const out = {
    write(text: string) {
      writes.push(text);
      waiting?.(text);
      waiting = undefined;
    },
  };
  return { out, writes, nextWrite: () => new Promise((resolve) => (waiting = resolve)) };
}

describe('batchedStdout', () => {
  it('holds short lines back, then writes them in one piece, in order, once 4 KiB wait', () => {
    const { out, writes } = capture();
    const destination = batchedStdout(out);
    const line = (i: number) => `${JSON.stringify({ i, pad: 'x'.repeat(90) })}\n`;
    for (let i = 0; i < 10; i += 1) destination.write(line(i));
    expect(writes).toEqual([]);
    let i = 10;
    while (writes.length === 0) destination.write(line(i++));
    expect(writes).toHaveLength(1);
    expect(writes[0]).toBe(Array.from({ length: i }, (_, k) => line(k)).join(''));
    expect(writes[0]!.length).toBeGreaterThanOrEqual(4096);
  });

  it('writes what waits within its flush interval, with no more lines coming', async () => {
    const { out, nextWrite } = capture();
    const destination = batchedStdout(out);
    const written = nextWrite();
    destination.write('one\n');
    destination.write('two\n');
    await expect(written).resolves.toBe('one\ntwo\n');
  });

  it("writes what waits at once when the logger is flushed (main.ts's start-up lines)", () => {
    const { out, writes } = capture();
    const logger = createLogger('info', batchedStdout(out));
    logger.info({ port: 4000 }, 'listening');
    expect(writes).toEqual([]);
    logger.flush();
    expect(writes).toHaveLength(1);
    expect(JSON.parse(writes[0]!)).toMatchObject({ msg: 'listening', port: 4000 });
  });

  it('keeps redacting through the batch', async () => {
    const { out, nextWrite } = capture();
    const logger = createLogger('info', batchedStdout(out));
    const written = nextWrite();
    logger.info({ headers: { authorization: 'Bearer secret-token' }, token: 'secret-token' }, 'hello');
    const line = JSON.parse(await written) as Record<string, unknown>;
    expect(line).toMatchObject({ msg: 'hello', token: '[redacted]', headers: { authorization: '[redacted]' } });
    expect(JSON.stringify(line)).not.toContain('secret-token');
  });
});
