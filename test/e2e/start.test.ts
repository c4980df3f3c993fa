import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { cp, mkdtemp, rm, symlink } from 'node:fs/promises';
import { createServer } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logIn } from '../helpers/login.js';
import { close, freePort, listen } from '../helpers/net.js';

/**
 * What a new user does: `npm start` with no configuration in a fresh checkout (no dist/), then
 * the printed curl. Runs the real entry point in its own process, from the build `npm start`
 * made, and its error exits.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLEAN_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(ZITADEL_|GRAPHQL_|REDIS_|DEV_ISSUER_PORT$|NODE_ENV$|PORT$|HOST$|NODE_OPTIONS$)/.test(k)));
/** What a clone has that a build makes or `npm ci` installs: not copied. */
const NOT_IN_A_CLONE = new Set(['.git', 'node_modules', 'dist', 'coverage']);

/** The checkout `npm start` runs in: this one's files as a clone has them, with its installed node_modules. */
let checkout: string;

interface Run {
  readonly child: ChildProcess;
  output(): string;
  /** Settles once the process has exited and its output is all read. */
  readonly closed: Promise<number | null>;
  /** Emits 'output' on every chunk. */
  readonly events: EventEmitter;
}

function start(command: string, args: string[], env: Record<string, string>): Run {
  const child = spawn(command, args, { cwd: checkout, env: { ...CLEAN_ENV, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const events = new EventEmitter();
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    events.emit('output');
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, output: () => output, closed, events };
}

/** The first match of `pattern` in the output, as soon as it is printed; rejects if the process ends first. */
function waitFor(run: Run, pattern: RegExp): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = run.output().match(pattern);
      if (!match) return;
      run.events.off('output', check);
      resolve(match);
    };
    run.events.on('output', check);
    check();
    void run.closed.then(() => {
      run.events.off('output', check);
      reject(new Error(`no ${pattern} in output:\n${run.output()}`));
    });
  });
}

/** Its exit code, once it has exited and its output is all read. */
const exitCode = (run: Run) => run.closed;

/** Kills the process and everything it started (npm, sh, node), and waits until it is gone. */
async function kill(run: Run | undefined): Promise<void> {
  if (!run) return;
  if (run.child.exitCode === null && run.child.signalCode === null) {
    try {
      process.kill(-run.child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await run.closed;
}

let dev: Run;

// Each test starts a server process; on a busy machine that takes seconds.
jest.setTimeout(45_000);

beforeAll(async () => {
  checkout = await mkdtemp(join(tmpdir(), 'e2e-checkout-'));
  await cp(ROOT, checkout, { recursive: true, filter: (source) => !NOT_IN_A_CLONE.has(relative(ROOT, source).split(sep)[0]!) });
  await symlink(join(ROOT, 'node_modules'), join(checkout, 'node_modules'), 'dir');
  // No HOST: what a new user runs, on ports that leave a developer's own `npm start` alone.
  dev = start('npm', ['start'], { PORT: '0', DEV_ISSUER_PORT: '0' });
  await waitFor(dev, /curl -s (\S+)/);
}, 90_000);

afterAll(async () => {
  await kill(dev);
  if (checkout) await rm(checkout, { recursive: true, force: true });
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
});

/**
 * The build `npm start` made, run as `node dist/main.js` (the same entry point) with other
 * configurations. Each test has a process of its own: they run side by side.
 */
describe('node dist/main.js', () => {
  it.concurrent.each(['jwt', 'auto'])('with ZITADEL_TOKEN_VALIDATION=%s and no other configuration, should print a curl with a JWT access token that returns Hello World!, and shut down cleanly on SIGTERM', async (mode) => {
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
      expect(run.output()).toMatch(/"signal":"SIGTERM"[^\n]*"msg":"shutting down"/);
    } finally {
      // Whatever failed above, the server does not outlive the test.
      await kill(run);
    }
  });

  it.concurrent('should exit non-zero naming PORT, or DEV_ISSUER_PORT, when the port is taken', async () => {
    const taken = createServer();
    const port = await listen(taken);
    try {
      // A configured issuer (nothing listens there): no development issuer to start before the port is found taken.
      const run = start(process.execPath, ['dist/main.js'], { PORT: String(port), HOST: '127.0.0.1', ZITADEL_ISSUER: 'http://127.0.0.1:9', ZITADEL_CLIENT_ID: 'api', ZITADEL_CLIENT_SECRET: 'secret' });
      const issuerPortTaken = start(process.execPath, ['dist/main.js'], { PORT: '0', DEV_ISSUER_PORT: String(port) });
      expect(await exitCode(run)).toBe(78);
      expect(run.output()).toMatch(new RegExp(`PORT: ${port} is already in use`));
      expect(await exitCode(issuerPortTaken)).toBe(78);
      expect(issuerPortTaken.output()).toMatch(new RegExp(`DEV_ISSUER_PORT: ${port} is already in use`));
    } finally {
      await close(taken);
    }
  });

  it.concurrent.each<[string, Record<string, string>, RegExp]>([
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

  it.concurrent('with REDIS_URL while Redis is down, should start and serve, log the outage once, and never log the Redis password', async () => {
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
      await kill(run);
    }
  });
});
