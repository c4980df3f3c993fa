import { request } from 'node:http';
import { connect } from 'node:net';

/** Sends bytes no HTTP client would send; resolves with the server's first reply chunk. */
export function rawRequest(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(bytes));
    socket.once('data', (chunk: Buffer) => {
      resolve(chunk.toString('latin1'));
      socket.destroy();
    });
    socket.once('error', reject);
    socket.once('end', () => resolve(''));
  });
}

/** POSTs a GraphQL query from `localAddress` (e.g. 127.0.0.2: another client on this machine), on a new connection. */
export function postFrom(url: string, localAddress: string, query: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({ query });
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
