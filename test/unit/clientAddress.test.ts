import { describe, expect, it } from '@jest/globals';
import { clientAddress as fromRequest, clientKey } from '../../src/http/clientAddress.js';

/** A request as node:http delivers it: the peer's address, and the headers it sent. */
const from = (peer: string | undefined, forwardedFor?: string) => ({ peer, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } });
const clientAddress = (req: ReturnType<typeof from>, hops: number) => fromRequest(req.peer, req.headers, hops);

describe('clientAddress', () => {
  it('should ignore X-Forwarded-For without trusted proxies: anyone can write it', () => {
    expect(clientAddress(from('198.51.100.7', '192.0.2.1'), 0)).toBe('198.51.100.7');
  });

  it('should take the address the outermost trusted proxy saw, whatever the client prepended', () => {
    // client -> proxy A -> proxy B -> us: B appends A's address, A appends the client's.
    const req = from('10.0.0.2', '203.0.113.66, 192.0.2.44, 10.0.0.1');
    expect(clientAddress(req, 1)).toBe('10.0.0.1');
    expect(clientAddress(req, 2)).toBe('192.0.2.44');
  });

  it('should not go past the header: with fewer entries than hops, the leftmost', () => {
    expect(clientAddress(from('10.0.0.2', '192.0.2.44'), 3)).toBe('192.0.2.44');
    expect(clientAddress(from('10.0.0.2'), 1)).toBe('10.0.0.2');
  });

  it('should count a request whose peer is unknown as one client, never as the header says', () => {
    expect(clientAddress(from(undefined, '192.0.2.44'), 1)).toBe('unknown');
  });
});

describe('clientKey', () => {
  it.each([
    ['an IPv4 address as is', '192.0.2.44', '192.0.2.44'],
    ['an IPv4-mapped IPv6 address as IPv4', '::ffff:192.0.2.44', '192.0.2.44'],
    ['an IPv6 address by its /64', '2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['another address of the same /64 alike', '2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['something that is no address as one client', 'evil; rm -rf', 'unknown'],
    ['no address at all (a closed socket)', undefined, 'unknown'],
  ])('should key %s', (_name, address, key) => {
    expect(clientKey(address)).toBe(key);
  });
});
