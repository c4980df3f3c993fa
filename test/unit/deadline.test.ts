import { describe, expect, it } from '@jest/globals';
import { Deadline, Deadlines } from '../../src/http/deadline.js';
import { until } from '../helpers/until.js';

describe('Deadlines', () => {
  it('should expire the deadlines not settled, in the order they started, and only those', async () => {
    const deadlines = new Deadlines(40);
    const expired: string[] = [];
    const a = deadlines.start(() => expired.push('a'));
    const b = deadlines.start(() => expired.push('b'));
    deadlines.start(() => expired.push('c'));
    deadlines.settle(b);
    await until(() => expired.length === 2, 'both deadlines expired');
    expect(expired).toEqual(['a', 'c']);
    expect(a.at).toBeLessThanOrEqual(performance.now());
    deadlines.stop();
  });

  it('should let a settled request go unnoticed', async () => {
    const deadlines = new Deadlines(10);
    let fired = false;
    deadlines.settle(deadlines.start(() => (fired = true)));
    const later = deadlines.start(() => undefined);
    await until(() => later.at < performance.now() - 30, 'time past the later deadline');
    expect(fired).toBe(false);
    deadlines.stop();
  });
});

describe('Deadlines list', () => {
  it('should keep its order whichever deadlines settle, first, middle or last, and tolerate settling twice', async () => {
    const deadlines = new Deadlines(30);
    const expired: number[] = [];
    const all = Array.from({ length: 6 }, (_, i) => deadlines.start(() => expired.push(i)));
    for (const i of [0, 2, 5, 2]) deadlines.settle(all[i]!);
    const late = deadlines.start(() => expired.push(6));
    await until(() => expired.length === 4, 'the unsettled deadlines expired');
    expect(expired).toEqual([1, 3, 4, 6]);
    deadlines.settle(late);
    expect(late.watched).toBe(false);
    deadlines.stop();
  });
});

describe('Deadline', () => {
  it('should make its AbortSignal only when asked, aborted with the reason if already expired', () => {
    const deadline = new Deadline(0, () => undefined);
    const reason = new Error('too late');
    deadline.expire(reason);
    expect(deadline.expired).toBe(true);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBe(reason);
  });

  it('should abort a signal handed out earlier when it expires', () => {
    const deadline = new Deadline(0, () => undefined);
    const { signal } = deadline;
    expect(signal.aborted).toBe(false);
    deadline.expire(new Error('late'));
    expect(signal.aborted).toBe(true);
  });
});
