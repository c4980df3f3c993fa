// `npm run bench`: our server against a plain Apollo Server 5 on the same machine, in one run, in
// two settings:
//   1. As users run it: our server started like `npm start` (its Node flags, NODE_ENV=production,
//      every other setting at its default, so a JSON log line per request), plain Apollo with plain
//      `node`, nothing pinned, a fresh process for every run.
//   2. Controlled: every server pinned to a CPU of its own with the same fixed young generation
//      (SERVER_FLAGS), one scenario per feature (cache, log line, JWT, 10 000 tokens).
// Every server and the issuer run in their own process; runs are interleaved (A B C … C B A) so
// drift on a noisy machine does not favour one side, and every other server is stopped while one
// is measured. Server CPU per request is read from /proc, so the load generator's share of the
// machine cannot skew it. Tunables (environment):
//   BENCH_PART (all | users | controlled), BENCH_DURATION_SECONDS (5), BENCH_WARMUP_SECONDS (5, part 1),
//   BENCH_USER_ROUNDS (6, part 1), BENCH_ROUNDS (3, part 2),
//   BENCH_CONNECTIONS (50), BENCH_ISSUER_DELAY_MS (20), BENCH_TOKENS (10000),
//   BENCH_NODE_FLAGS (see harness.mjs).
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { counts, freePort, here, next, peakRssMb, pinFromNowOn, processCounters, runAlone, SERVER_FLAGS, start, START_FLAGS, startIssuer, startOurs, stopAll } from './harness.mjs';

const PART = process.env.BENCH_PART ?? 'all';
const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? 5);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
// Fresh processes vary more than runs of one process do: part 1 takes more of them.
const USER_ROUNDS = Number(process.env.BENCH_USER_ROUNDS ?? 6);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DISTINCT_TOKENS = Number(process.env.BENCH_TOKENS ?? 10_000);
const DELAY_MS = Number(process.env.BENCH_ISSUER_DELAY_MS ?? 20);
const BODY = JSON.stringify({ query: '{ hello }' });

async function startPlain(flags) {
  const port = await freePort();
  const child = start(here('plainApollo.mjs'), { NODE_ENV: 'production', PORT: String(port) }, [], { server: true, flags });
  await next(child, 'ready');
  return { child, url: `http://127.0.0.1:${port}/graphql` };
}

/** One autocannon run; `tokens` rotate through the requests. */
async function load(url, tokens, options = {}) {
  let i = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: CONNECTIONS,
    ...(options.amount ? {} : { duration: DURATION }),
    headers: { 'content-type': 'application/json' },
    body: BODY,
    ...(tokens.length > 0
      ? {
          requests: [
            {
              setupRequest: (request) => ({
                ...request,
                headers: { ...request.headers, authorization: `Bearer ${tokens[i++ % tokens.length]}` },
              }),
            },
          ],
        }
      : {}),
    ...options,
  });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) throw new Error(`${url}: ${failed} failed requests of ${result.requests.total}`);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, total: result.requests.total };
}

/** One run of a scenario, with the server's CPU time, page faults and the calls the issuer saw. */
async function measured(issuer, scenario, options) {
  const before = await counts(issuer);
  const countersBefore = processCounters(scenario.server.child.pid);
  const run = await load(scenario.server.url, scenario.tokens, options);
  const countersAfter = processCounters(scenario.server.child.pid);
  run.cpuPerRequest = (countersAfter.cpuMicros - countersBefore.cpuMicros) / run.total;
  run.faultsPerRequest = (countersAfter.minorFaults - countersBefore.minorFaults) / run.total;
  run.introspections = (await counts(issuer)).introspections - before.introspections;
  return run;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** One row of the table from a scenario's runs. */
function summary(name, rs, rss) {
  return {
    name,
    rps: mean(rs.map((r) => r.rps)),
    each: rs.map((r) => Math.round(r.rps)).join(' / '),
    p50: mean(rs.map((r) => r.p50)),
    p99: mean(rs.map((r) => r.p99)),
    introspections: rs.reduce((a, r) => a + r.introspections, 0),
    requests: rs.reduce((a, r) => a + r.total, 0),
    cpu: mean(rs.map((r) => r.cpuPerRequest)),
    cpuEach: rs.map((r) => r.cpuPerRequest.toFixed(0)).join(' / '),
    faults: mean(rs.map((r) => r.faultsPerRequest)),
    rss,
  };
}

/** Warms every scenario up, then runs ROUNDS interleaved rounds; one row per scenario. */
async function rounds(issuer, scenarios, servers) {
  for (const s of scenarios) {
    await runAlone(servers, s.server);
    await load(s.server.url, s.tokens, { duration: 2 });
  }
  const runs = new Map(scenarios.map((s) => [s, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const s of round % 2 === 0 ? scenarios : [...scenarios].reverse()) {
      await runAlone(servers, s.server);
      const run = await measured(issuer, s);
      runs.get(s).push(run);
      process.stderr.write(`round ${round + 1} ${s.name}: ${Math.round(run.rps)} req/s, ${run.cpuPerRequest.toFixed(0)} µs CPU/request\n`);
    }
  }
  return [...runs.entries()].map(([s, rs]) => summary(s.name, rs, peakRssMb(s.server.child.pid)));
}

/**
 * `rounds` interleaved rounds in which every scenario gets a process of its own, started afresh,
 * warmed up for WARMUP_SECONDS and then measured: how fast a server settles varies from one
 * process to the next (JIT, heap sizing) more than from one run to the next, so each round
 * samples that too, as users restarting the server do.
 */
async function freshRounds(issuer, scenarios, rounds) {
  const runs = new Map(scenarios.map((s) => [s, []]));
  const rss = new Map();
  for (let round = 0; round < rounds; round += 1) {
    for (const s of round % 2 === 0 ? scenarios : [...scenarios].reverse()) {
      const server = await s.start();
      await load(server.url, s.tokens, { duration: WARMUP_SECONDS });
      const run = await measured(issuer, { server, tokens: s.tokens });
      rss.set(s, Math.max(rss.get(s) ?? 0, peakRssMb(server.child.pid)));
      server.child.kill('SIGKILL');
      runs.get(s).push(run);
      process.stderr.write(`round ${round + 1} ${s.name}: ${Math.round(run.rps)} req/s, ${run.cpuPerRequest.toFixed(0)} µs CPU/request\n`);
    }
  }
  return [...runs.entries()].map(([s, rs]) => summary(s.name, rs, rss.get(s)));
}

/** The first row is the baseline every ratio is taken to. */
function table(title, rows) {
  const [ceiling] = rows;
  const ratio = (a, b) => (a === undefined ? '—' : `${(a / b).toFixed(2)}×`);
  console.log(`\n${title}\n`);
  console.log('| scenario | req/s (mean) | runs | ratio to first | server CPU µs/request | runs | CPU ratio to first | page faults/request | p50 ms | p99 ms | Δp99 vs first | requests | introspections | peak RSS MB |');
  console.log('| --- | ---: | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${Math.round(r.rps)} | ${r.each} | ${ratio(r.rps, ceiling.rps)} | ${r.cpu === undefined ? '—' : r.cpu.toFixed(1)} | ${r.cpuEach ?? '—'} | ${ratio(r.cpu, ceiling.cpu)} | ${r.faults === undefined ? '—' : r.faults.toFixed(2)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.p99 - ceiling.p99).toFixed(1)} | ${r.requests} | ${r.introspections} | ${r.rss.toFixed(0)} |`,
    );
  }
}

const settings = (flags) => flags.join(' ') || '(V8 defaults)';
const header = (rounds) => `${CONNECTIONS} connections, ${DURATION} s runs, ${rounds} interleaved rounds, issuer delay ${DELAY_MS} ms, node ${process.version}`;

/** Part 1: what `npm start` users get, against plain Apollo as `node` runs it. */
async function asUsersRunIt(issuer) {
  const [token] = issuer.tokens;
  const ours = (env) => () => startOurs(issuer, env, { flags: START_FLAGS, defaults: true });
  const rows = await freshRounds(issuer, [
    { name: 'plain Apollo 5, no auth', start: () => startPlain([]), tokens: [] },
    { name: 'ours as `npm start` runs it, cached token', start: ours({}), tokens: [token] },
    { name: '… LOG_LEVEL=warn (no request line)', start: ours({ LOG_LEVEL: 'warn' }), tokens: [token] },
  ], USER_ROUNDS);
  table(`## As users run it: defaults, NODE_ENV=production, ours with \`npm start\`'s flags (${settings(START_FLAGS)}), plain Apollo with none, nothing pinned, a fresh process per run warmed up for ${WARMUP_SECONDS} s\n\n${header(USER_ROUNDS)}`, rows);
}

/** Part 2: pinned, fixed flags, one scenario per feature. */
async function controlled(issuer) {
  const pinnedNote = pinFromNowOn([issuer.child.pid]);
  const [token, ...distinct] = issuer.tokens;
  const scenarios = [
    { name: '1 plain Apollo 5, no auth', server: await startPlain(SERVER_FLAGS), tokens: [] },
    { name: '2 ours, one token, cache warm', server: await startOurs(issuer, {}), tokens: [token] },
    { name: '2b ours, as 2, with a JSON log line per request (LOG_LEVEL=info)', server: await startOurs(issuer, { LOG_LEVEL: 'info' }), tokens: [token] },
    { name: '3 ours, cache off (introspect per request)', server: await startOurs(issuer, { AUTH_CACHE_MAX_ENTRIES: '0' }), tokens: [token] },
    { name: '5 ours, local JWT validation', server: await startOurs(issuer, { ZITADEL_TOKEN_VALIDATION: 'jwt' }), tokens: [issuer.jwt] },
    { name: '5b ours, local JWT validation, cache off', server: await startOurs(issuer, { ZITADEL_TOKEN_VALIDATION: 'jwt', AUTH_CACHE_MAX_ENTRIES: '0' }), tokens: [issuer.jwt] },
  ];
  const rotation = { name: `4 ours, ${DISTINCT_TOKENS} tokens in rotation`, server: await startOurs(issuer, {}), tokens: distinct };
  const servers = [...scenarios.map((s) => s.server), rotation.server];
  const rows = await rounds(issuer, scenarios, servers);

  // Scenario 4: every distinct token once (cold), then the same tokens again (warm).
  await runAlone(servers, rotation.server);
  const cold = await measured(issuer, rotation, { amount: rotation.tokens.length });
  const warm = await measured(issuer, rotation);
  const rss = peakRssMb(rotation.server.child.pid);
  for (const [phase, run] of [['cold', cold], ['warm', warm]]) {
    rows.push({ name: `${rotation.name}, ${phase}`, rps: run.rps, each: String(Math.round(run.rps)), p50: run.p50, p99: run.p99, introspections: run.introspections, requests: run.total, rss });
  }
  table(`## Controlled: ${pinnedNote}, every server with ${settings(SERVER_FLAGS)}\n\n${header(ROUNDS)}`, rows);
  console.log(`\nintrospections per distinct token: cold ${(cold.introspections / rotation.tokens.length).toFixed(3)}, warm ${(warm.introspections / rotation.tokens.length).toFixed(3)}`);
}

async function main() {
  const issuer = await startIssuer({ delayMs: DELAY_MS, tokens: DISTINCT_TOKENS + 1 });
  if (PART === 'all' || PART === 'users') await asUsersRunIt(issuer);
  if (PART === 'all' || PART === 'controlled') {
    await controlled(issuer);
    const footprint = JSON.parse(execFileSync(process.execPath, ['--expose-gc', here('cacheFootprint.mjs')], { encoding: 'utf8' }));
    console.log(`\ntoken cache: ${footprint.entries} identities from full ZITADEL responses cost ${footprint.heapMb.toFixed(1)} MB of heap (target < 64 MB)`);
  }
  stopAll();
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
