import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { logIn } from '../helpers/login.js';
import { freePort } from '../helpers/redis.js';

/**
 * What a new user does: `npm start` with no configuration, then the printed curl. Runs the
 * real entry point in its own process (the build `npm start` makes), and its error exits.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(ZITADEL_|GRAPHQL_|REDIS_|DEV_ISSUER_PORT$|NODE_ENV$|PORT$|HOST$|NODE_OPTIONS$)/.test(k)));

interface Run {
  child: ChildProcess;
  output: () => string;
}

function start(command: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(command, args, { cwd: ROOT, env: { ...CLEAN_ENV, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function waitFor(run: Run, pattern: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const match = run.output().match(pattern);
    if (match) return match;
    if (run.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${pattern} in output:\n${run.output()}`);
}

async function exitCode(run: Run): Promise<number | null> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return run.child.exitCode;
  const [code] = (await once(run.child, 'exit')) as [number | null];
  return code;
}

let dev: Run;

// Each test starts a server process; on a busy machine that takes seconds (waitFor allows 60).
jest.setTimeout(45_000);

beforeAll(async () => {
  // No HOST: what a new user runs, on ports that leave a developer's own `npm start` alone.
  dev = start('npm', ['start'], { PORT: '0', DEV_ISSUER_PORT: '0' });
  await waitFor(dev, /curl -s (\S+)/);
}, 90_000);

afterAll(async () => {
  if (dev.child.exitCode === null && dev.child.signalCode === null) {
    process.kill(-dev.child.pid!, 'SIGKILL');
    await exitCode(dev);
  }
});

describe('npm start with no configuration', () => {
  it('should start the development issuer and print a curl that returns Hello World!', async () => {
    const [, url] = await waitFor(dev, /curl -s (\S+)/);
    const [, token] = await waitFor(dev, /authorization: Bearer ([A-Za-z0-9._~+/=-]+)/);
    const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"query":"{ hello me { id username } }"}' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ data: { hello: 'Hello World!', me: { id: '200000000000000001', username: 'road.runner@demo.localhost' } } });
    const anonymous = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ hello }"}' });
    expect(anonymous.status).toBe(401);
  });

  it('should print what a front end needs, and log in with a printed user and password as a front end would', async () => {
    const [, url] = await waitFor(dev, /curl -s (\S+)/);
    const [, issuerUrl] = await waitFor(dev, /issuer \(authority\)\s+(\S+)/);
    const [, clientId] = await waitFor(dev, /client id\s+(\S+)/);
    const [, scope] = await waitFor(dev, /scope\s+(openid[^\n]+)/);
    const [, username, password] = await waitFor(dev, /\n\s+(guest@\S+)\s+(\S+)\s+no roles/);
    expect(dev.output()).toContain(`In a browser: ${url} (GraphiQL`);
    for (const name of ['road.runner@demo.localhost', 'wile.e.coyote@acme.localhost']) expect(dev.output()).toContain(name);
    const tokens = await logIn(issuerUrl!, { clientId: clientId!, username: username!, password: password!, scope: scope!.trim() });
    const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens.access_token}` }, body: '{"query":"{ me { username roles } adminGreeting }"}' });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ data: null, errors: [{ extensions: { code: 'FORBIDDEN' } }] });
  });

  it('should listen on loopback only, so the development issuer cannot be reached from another machine', async () => {
    const [, address] = await waitFor(dev, /"address":"([^"]+)"[^\n]*"msg":"GraphQL API listening"/);
    expect(address).toBe('127.0.0.1');
    const [, url] = await waitFor(dev, /curl -s (\S+)/);
    const { port } = new URL(url!);
    // Through an address of this machine that is not loopback (when it has one), nothing answers.
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) await expect(fetch(`http://${external.address}:${port}/healthz`)).rejects.toThrow();
  });

  it('should shut down cleanly on SIGTERM', async () => {
    // The server's own pid (npm runs it as a child), from its JSON log line.
    const [, pid] = await waitFor(dev, /"pid":(\d+),[^\n]*"msg":"GraphQL API listening"/);
    process.kill(Number(pid), 'SIGTERM');
    expect(await exitCode(dev)).toBe(0);
    expect(dev.output()).toMatch(/"signal":"SIGTERM"[^\n]*"msg":"shutting down"/);
  });
});

describe.each(['jwt', 'auto'])('ZITADEL_TOKEN_VALIDATION=%s with no other configuration', (mode) => {
  it('should print a curl with a JWT access token that returns Hello World!', async () => {
    // The build `npm start` made above; the entry point is the same.
    const run = start(process.execPath, ['dist/main.js'], { PORT: '0', DEV_ISSUER_PORT: '0', HOST: '127.0.0.1', ZITADEL_TOKEN_VALIDATION: mode, ZITADEL_TIMEOUT_MS: '4321' });
    try {
      const [, url] = await waitFor(run, /curl -s (\S+)/);
      const [, token] = await waitFor(run, /authorization: Bearer ([A-Za-z0-9._~+/=-]+)/);
      expect(token!.split('.')).toHaveLength(3);
      expect(run.output()).toMatch(/a JWT access token, validated locally/);
      expect(run.output()).toMatch(new RegExp(`"tokenValidation":"${mode}"`));
      // The development issuer is asked with the configured timeout too.
      expect(run.output()).toMatch(/"zitadelTimeoutMs":4321/);
      const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"query":"{ hello me { id roles } }"}' });
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ data: { hello: 'Hello World!', me: { id: '200000000000000001', roles: ['admin'] } } });
      run.child.kill('SIGTERM');
      expect(await exitCode(run)).toBe(0);
    } finally {
      // Whatever failed above, the server does not outlive the test.
      run.child.kill('SIGKILL');
      await exitCode(run);
    }
  });
});

describe('node dist/main.js with a bad configuration', () => {
  it('should exit non-zero naming PORT when the port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const run = start(process.execPath, ['dist/main.js'], { PORT: String(port), DEV_ISSUER_PORT: '0', HOST: '127.0.0.1' });
      expect(await exitCode(run)).toBe(78);
      expect(run.output()).toMatch(new RegExp(`PORT: ${port} is already in use`));
      const issuerPortTaken = start(process.execPath, ['dist/main.js'], { PORT: '0', DEV_ISSUER_PORT: String(port) });
      expect(await exitCode(issuerPortTaken)).toBe(78);
      expect(issuerPortTaken.output()).toMatch(new RegExp(`DEV_ISSUER_PORT: ${port} is already in use`));
    } finally {
      taken.close();
    }
  });

  it.each<[string, Record<string, string>, RegExp]>([
    ['production without an issuer', { NODE_ENV: 'production' }, /ZITADEL_ISSUER: is required when NODE_ENV=production/],
    ['a missing key file', { ZITADEL_ISSUER: 'https://acme.zitadel.cloud', ZITADEL_KEY_FILE: '/nonexistent.json' }, /ZITADEL_KEY_FILE: no such file/],
    ['a bad port', { PORT: 'eighty' }, /PORT: must be a whole number/],
    ['an unknown token validation', { ZITADEL_TOKEN_VALIDATION: 'jwks' }, /ZITADEL_TOKEN_VALIDATION: must be one of introspection, jwt, auto/],
    ['jwt validation without a project id', { ZITADEL_ISSUER: 'https://acme.zitadel.cloud', ZITADEL_TOKEN_VALIDATION: 'jwt' }, /ZITADEL_PROJECT_ID: is required with ZITADEL_TOKEN_VALIDATION=jwt/],
    ['a Redis URL of another scheme', { REDIS_URL: 'http://redis:6379' }, /REDIS_URL: must start with redis:\/\/ or rediss:\/\//],
    ['a playground in production', { NODE_ENV: 'production', ZITADEL_ISSUER: 'https://acme.zitadel.cloud', ZITADEL_CLIENT_ID: 'api', ZITADEL_CLIENT_SECRET: 'secret', GRAPHQL_PLAYGROUND: 'graphiql' }, /GRAPHQL_PLAYGROUND: must be off when NODE_ENV=production/],
    ['a non-loopback HOST without an issuer', { HOST: '0.0.0.0' }, /ZITADEL_ISSUER: is required when HOST \("0\.0\.0\.0"\) is not a loopback address/],
  ])('should exit non-zero naming the variable for %s', async (_name, env, message) => {
    const run = start(process.execPath, ['dist/main.js'], env);
    expect(await exitCode(run)).toBe(78);
    expect(run.output()).toMatch(message);
    expect(run.output()).not.toMatch(/\n\s+at /);
  });
});

describe('node dist/main.js with REDIS_URL while Redis is down', () => {
  it('should start and serve, log the outage once, and never log the Redis password', async () => {
    const port = await freePort();
    const run = start(process.execPath, ['dist/main.js'], { PORT: '0', DEV_ISSUER_PORT: '0', HOST: '127.0.0.1', REDIS_URL: `redis://default:s3cret-pw@127.0.0.1:${port}` });
    try {
      const [, url] = await waitFor(run, /curl -s (\S+)/);
      const [, token] = await waitFor(run, /authorization: Bearer ([A-Za-z0-9._~+/=-]+)/);
      for (let i = 0; i < 3; i += 1) {
        const res = await fetch(url!, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: '{"query":"{ hello }"}' });
        expect(res.status).toBe(200);
      }
      await waitFor(run, /"msg":"shared token cache unavailable/);
      expect(run.output()).toContain(`"redis":{"url":"redis://127.0.0.1:${port}","timeoutMs":250}`);
      expect(run.output().match(/shared token cache unavailable/g)).toHaveLength(1);
      expect(run.output()).not.toContain('s3cret-pw');
    } finally {
      process.kill(-run.child.pid!, 'SIGKILL');
      await exitCode(run);
    }
  });
});
