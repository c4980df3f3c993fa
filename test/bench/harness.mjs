// Shared by `npm run bench` and `npm run soak`: the issuer and the servers, each in its own
// process, on free loopback ports, always killed when the run ends.
import { execFileSync, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const here = (file) => fileURLToPath(new URL(file, import.meta.url));

const children = new Set();
process.on('exit', () => children.forEach((child) => child.kill('SIGKILL')));
process.on('SIGINT', () => process.exit(130));

// Counted before any pinning: once pinned, this process sees only its own CPUs.
const CPUS = availableParallelism();
let pinning = false;

/**
 * With two or more CPUs and taskset (Linux), from now on the server under test gets the last CPU
 * to itself, and the load generator (this process) and the issuer share the others: runs then
 * differ by the server alone, not by where the scheduler happened to put it. `companions` (the
 * issuer) join the load generator. Returns a note for the report.
 */
export function pinFromNowOn(companions = []) {
  if (CPUS < 2) return 'no CPU pinning (needs two CPUs)';
  try {
    for (const pid of [process.pid, ...companions]) execFileSync('taskset', ['-a', '-p', '-c', `0-${CPUS - 2}`, String(pid)], { stdio: 'ignore' });
  } catch {
    return 'no CPU pinning (needs taskset)';
  }
  pinning = true;
  return `servers pinned to CPU ${CPUS - 1}, load generator and issuer to the others`;
}

function pin(pid, cpus) {
  if (pinning) execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

/**
 * The Node flags of `npm start` (package.json), read rather than copied, so the bench's "as users
 * run it" part starts the server exactly as the README does.
 */
export const START_FLAGS = (() => {
  const { scripts } = JSON.parse(readFileSync(here('../../package.json'), 'utf8'));
  const match = /\bnode((?: --\S+)*) dist\/main\.js/.exec(scripts.start);
  if (!match) throw new Error(`cannot find "node … dist/main.js" in the start script: ${scripts.start}`);
  return match[1].split(' ').filter(Boolean);
})();

/**
 * Node flags for every server, ours and plain Apollo alike. A fixed young generation: with V8's
 * default (grown on demand) about one of our server processes in four settled, on this virtual
 * machine, in a state where each scavenge faulted in fresh pages (5 ms scavenges instead of
 * 1.5 ms, 0.8 page faults per request instead of 0.2, 15 % more CPU per request), which made
 * runs of the same code disagree. BENCH_NODE_FLAGS='' measures with V8's defaults.
 */
export const SERVER_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '--min-semi-space-size=16').split(' ').filter(Boolean);

/**
 * `server: true` gives it the CPU of its own (when pinning) and (unless `flags` says otherwise)
 * SERVER_FLAGS. `inherit: false` starts it with `env` and PATH alone, none of this shell's settings.
 */
export function start(script, env, args = [], { server = false, flags = server ? SERVER_FLAGS : [], inherit = true } = {}) {
  const child = fork(script, args, {
    execArgv: flags,
    env: { ...(inherit ? process.env : { PATH: process.env.PATH }), ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  if (server) pin(child.pid, String(CPUS - 1));
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function next(child, type) {
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`${child.spawnargs.join(' ')} exited with ${code}`));
    const onMessage = (message) => {
      if (message.type !== type) return;
      child.off('message', onMessage).off('exit', onExit);
      resolve(message);
    };
    child.on('message', onMessage).once('exit', onExit);
  });
}

export function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

export async function waitReady(url) {
  for (let i = 0; i < 200; i += 1) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url} never became ready`);
}

/** Peak resident set size of a process, in MB (Linux). */
export function peakRssMb(pid) {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/**
 * Our server, production mode, against `issuer`. With `defaults`, every other setting is left at
 * its default (a JSON log line per request, the introspection budget), as a user runs it.
 */
export async function startOurs(issuer, env, { flags = SERVER_FLAGS, defaults = false } = {}) {
  const port = await freePort();
  const tuned = defaults
    ? {}
    : {
        // Like the plain Apollo server, no line per request; a scenario of its own measures the log.
        LOG_LEVEL: 'warn',
        // The budget protects ZITADEL in production; here it would measure the budget, not us.
        ZITADEL_INTROSPECTION_RATE_LIMIT: '100000',
        ZITADEL_INTROSPECTION_CONCURRENCY: '1000',
      };
  const child = start(
    here('../../dist/main.js'),
    {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      ZITADEL_ISSUER: issuer.issuer,
      ZITADEL_KEY_JSON: issuer.keyJson,
      ZITADEL_PROJECT_ID: issuer.projectId,
      ...tuned,
      ...env,
    },
    [],
    { server: true, flags, inherit: !defaults },
  );
  await waitReady(`http://127.0.0.1:${port}/readyz`);
  return { child, url: `http://127.0.0.1:${port}/graphql` };
}

/**
 * CPU time a process has used so far (user + system, in microseconds; 10 ms ticks) and its minor
 * page faults (Linux). Faults are the first thing to look at when two runs of the same code differ.
 */
export function processCounters(pid) {
  // /proc/<pid>/stat: the fields after the parenthesised command name start at field 3 (state);
  // minflt is field 10, utime and stime are fields 14 and 15.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { cpuMicros: (Number(fields[11]) + Number(fields[12])) * 10_000, minorFaults: Number(fields[7]) };
}

/** Resident set size of a process now, in MB (Linux). */
export function rssMb(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** The development issuer with `delayMs` before each introspection answer, and `count` tokens minted. */
export async function startIssuer({ delayMs, tokens }) {
  const child = start(here('issuer.mjs'), { BENCH_ISSUER_DELAY_MS: String(delayMs) });
  const issuer = { child, ...(await next(child, 'ready')) };
  child.send({ type: 'mint', count: tokens });
  const minted = await next(child, 'minted');
  issuer.tokens = minted.tokens;
  issuer.jwt = minted.jwt;
  return issuer;
}

export async function counts(issuer) {
  issuer.child.send({ type: 'counts' });
  return next(issuer.child, 'counts');
}

/**
 * Stops (SIGSTOP) every other server while one is measured: an idle server still wakes for its
 * timers (prom-client samples event-loop delay every 10 ms), and on the shared server CPU each
 * wake-up would be charged to the server under test.
 */
export async function runAlone(servers, current) {
  for (const s of servers) s.child.kill(s === current ? 'SIGCONT' : 'SIGSTOP');
  // Let a resumed server run the timers it missed before it is measured.
  await new Promise((resolve) => setTimeout(resolve, 100));
}

export function stopAll() {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGTERM');
  }
}
