import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import ipaddr from 'ipaddr.js';
import proxyaddr from 'proxy-addr';

/**
 * Who sent a request, as the introspection budget tells clients apart. The peer's address (read
 * when the request arrived: a client that resets its connection must not become someone else);
 * with `trustedHops` proxies in front (TRUST_PROXY_HOPS), the address the outermost of them saw,
 * read from X-Forwarded-For by proxy-addr. The header is never read otherwise: a client could
 * name any address in it.
 */
export function clientAddress(peer: string | undefined, headers: IncomingHttpHeaders, trustedHops: number): string {
  if (trustedHops === 0 || peer === undefined) return clientKey(peer);
  const socket = { remoteAddress: peer };
  const req = { socket, connection: socket, headers } as unknown as IncomingMessage;
  return clientKey(proxyaddr(req, (_address, hop) => hop < trustedHops));
}

/**
 * The budget's key for an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64, which
 * one host usually holds whole (counting each of its addresses apart would let it take shares
 * without end). Anything that is not an address counts as one client.
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined || !ipaddr.isValid(address)) return 'unknown';
  const ip = ipaddr.process(address);
  if (ip.kind() === 'ipv4') return ip.toString();
  return `${ip.toNormalizedString().split(':').slice(0, 4).join(':')}::/64`;
}
