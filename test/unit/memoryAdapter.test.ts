import { describe, expect, it } from '@jest/globals';
import { createMemoryAdapter } from '../../src/dev/memoryAdapter.js';

describe('the development issuer\'s storage', () => {
  it('should keep at most its bound of records, dropping the oldest (a flood of authorization requests)', async () => {
    const Adapter = createMemoryAdapter({ maxEntries: 10 });
    const interactions = new Adapter('Interaction');
    for (let i = 0; i < 25; i += 1) await interactions.upsert(`i${i}`, { uid: `u${i}` }, 3600);
    expect(await interactions.find('i0')).toBeUndefined();
    expect(await interactions.find('i24')).toEqual({ uid: 'u24' });
    expect(await interactions.findByUid('u24')).toEqual({ uid: 'u24' });
  });

  it('should forget a record when its time is up', async () => {
    let clock = 1_000_000;
    const sessions = new (createMemoryAdapter({ now: () => clock }))('Session');
    await sessions.upsert('gone', { uid: 'g' }, 60);
    await sessions.upsert('kept', { uid: 'k' }, 3600);
    expect(await sessions.findByUid('g')).toEqual({ uid: 'g' });
    clock += 61_000;
    expect(await sessions.find('gone')).toBeUndefined();
    expect(await sessions.findByUid('g')).toBeUndefined();
    expect(await sessions.findByUid('k')).toEqual({ uid: 'k' });
  });

  it('should revoke every token of a grant together, and keep no replay records', async () => {
    const Adapter = createMemoryAdapter();
    const [access, refresh, replay] = [new Adapter('AccessToken'), new Adapter('RefreshToken'), new Adapter('ReplayDetection')];
    await access.upsert('a', { grantId: 'g1' }, 60);
    await refresh.upsert('r', { grantId: 'g1' }, 60);
    await access.upsert('other', { grantId: 'g2' }, 60);
    await access.revokeByGrantId('g1');
    expect(await access.find('a')).toBeUndefined();
    expect(await refresh.find('r')).toBeUndefined();
    expect(await access.find('other')).toEqual({ grantId: 'g2' });
    await replay.upsert('jti', { iss: 'x' }, 60);
    expect(await replay.find('jti')).toBeUndefined();
  });
});
