import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { redisKeyPrefix } from '../../src/auth/cache/redisCache.js';
import { tokenKey } from '../../src/auth/cache/tokenCache.js';
import type { TokenValidationMode } from '../../src/config.js';
import { DEV_API_APPLICATION } from '../../src/dev/directory.js';
import { freePort } from './net.js';

/** A real redis-server of our own on a loopback port, which a test can stop, pause and restart. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** SIGSTOP: connections stay open, nothing is answered. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
  /** Kills the server (SIGKILL, as a crash would) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again, empty, on the same port. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Stops it if it runs; safe to call twice. */
  close(): Promise<void>;
}

const NOT_INSTALLED =
  'redis-server is not installed, and the Redis tests start their own (they stop, pause and restart it). ' +
  'Install it: `apt-get install redis-server` (Debian/Ubuntu), `brew install redis` (macOS).';

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Where replicas of the API, introspecting as the development issuer's API application, keep `token`'s verdict. */
export function verdictKey(issuer: { readonly issuer: string; readonly projectId: string }, token: string, mode: TokenValidationMode = 'introspection'): string {
  return redisKeyPrefix({ issuer: new URL(issuer.issuer).href, clientId: DEV_API_APPLICATION.clientId, projectId: issuer.projectId, mode }) + tokenKey(token);
}

/** Starts redis-server on `port` (a free one by default), without persistence, and waits until it accepts connections. */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  const actualPort = port ?? (await freePort());
  let child: ChildProcess | undefined = await spawnRedis(actualPort);
  const stop = async () => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = once(current, 'exit');
    current.kill('SIGKILL');
    await exited;
  };
  const start = async () => {
    if (child) throw new Error('redis-server is already running');
    child = await spawnRedis(actualPort);
  };
  const signal = (name: NodeJS.Signals) => {
    if (!child) throw new Error('redis-server is not running');
    child.kill(name);
  };
  return {
    port: actualPort,
    url: `redis://127.0.0.1:${actualPort}`,
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    close: stop,
  };
}

/**
 * The Redis for tests that only read and write: CI's (TEST_REDIS_URL, started by .ci/run) or,
 * for a developer's `npm test`, one of our own. Tests keep apart by key prefix, never flush.
 */
export async function testRedisUrl(): Promise<{ url: string; close(): Promise<void> }> {
  const url = process.env.TEST_REDIS_URL;
  if (url) return { url, close: async () => {} };
  const server = await startRedisServer();
  return { url: server.url, close: () => server.close() };
}

async function spawnRedis(port: number): Promise<ChildProcess> {
  installExitHook();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'notice'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  let output = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += String(chunk);
        if (output.includes('Ready to accept connections')) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: Buffer) => (output += String(chunk)));
      child.once('error', (error: NodeJS.ErrnoException) => {
        reject(error.code === 'ENOENT' ? new Error(NOT_INSTALLED, { cause: error }) : error);
      });
      child.once('exit', (code, signal) => reject(new Error(`redis-server on port ${port} exited (${code ?? signal}) before it was ready:\n${output}`)));
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  // Keep draining its output so it never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
}

/** Whatever a failed test leaves behind dies with the test process. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}
