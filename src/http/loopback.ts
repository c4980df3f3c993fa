import { isIPv4 } from 'node:net';

/** 127.0.0.0/8, ::1 (also IPv4-mapped), or `localhost`. */
export function isLoopback(host: string): boolean {
  const address = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (address === 'localhost' || address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return isIPv4(v4) && v4.startsWith('127.');
}

/** Whether a Host header names a loopback host (any port). */
export function addressedToLoopback(host: string | undefined): boolean {
  try {
    return host !== undefined && isLoopback(new URL(`http://${host}`).hostname);
  } catch {
    return false;
  }
}

/** An http(s) URL on a loopback host, any port: where front ends run in development. */
export function isLoopbackUrl(text: string): boolean {
  const url = URL.parse(text);
  return url !== null && (url.protocol === 'http:' || url.protocol === 'https:') && !url.username && !url.password && isLoopback(url.hostname);
}

/** A browser's `Origin` of a page on a loopback host (`http://localhost:5173`, `https://127.0.0.1`). */
export function isLoopbackOrigin(origin: string): boolean {
  return isLoopbackUrl(origin) && URL.parse(origin)?.origin === origin;
}
