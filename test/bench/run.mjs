// `npm run bench`: our server against a plain Apollo Server 5 on the same machine, in one run.
// Every server and the issuer run in their own process; runs are interleaved (A B C … C B A) so
// drift on a noisy machine does not favour one side, and every other server is stopped while one
// is measured. Tunables (environment):
//   BENCH_DURATION_SECONDS (5), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50),
//   BENCH_ISSUER_DELAY_MS (20), BENCH_TOKENS (10000), BENCH_NODE_FLAGS (see harness.mjs).
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { counts, freePort, here, next, peakRssMb, pinnedNote, processCounters, runAlone, SERVER_FLAGS, start, startIssuer, startOurs, stopAll } from './harness.mjs';

const DURATION = Number(process.env.BENCH_DURATION_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DISTINCT_TOKENS = Number(process.env.BENCH_TOKENS ?? 10_000);
const DELAY_MS = Number(process.env.BENCH_ISSUER_DELAY_MS ?? 20);
const BODY = JSON.stringify({ query: '{ hello }' });

async function startPlain() {
  const port = await freePort();
  const child = start(here('plainApollo.mjs'), { NODE_ENV: 'production', PORT: String(port) }, [], { server: true });
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

async function main() {
  const issuer = await startIssuer({ delayMs: DELAY_MS, tokens: DISTINCT_TOKENS + 1 });
  const [token, ...distinct] = issuer.tokens;

  const scenarios = [
    { name: '1 plain Apollo 5, no auth', server: await startPlain(), tokens: [] },
    { name: '2 ours, one token, cache warm', server: await startOurs(issuer, {}), tokens: [token] },
    { name: '2b ours, as 2, with a JSON log line per request (LOG_LEVEL=info)', server: await startOurs(issuer, { LOG_LEVEL: 'info' }), tokens: [token] },
    { name: '3 ours, cache off (introspect per request)', server: await startOurs(issuer, { AUTH_CACHE_MAX_ENTRIES: '0' }), tokens: [token] },
    { name: '5 ours, local JWT validation', server: await startOurs(issuer, { ZITADEL_TOKEN_VALIDATION: 'jwt' }), tokens: [issuer.jwt] },
    { name: '5b ours, local JWT validation, cache off', server: await startOurs(issuer, { ZITADEL_TOKEN_VALIDATION: 'jwt', AUTH_CACHE_MAX_ENTRIES: '0' }), tokens: [issuer.jwt] },
  ];
  const rotation = { name: `4 ours, ${DISTINCT_TOKENS} tokens in rotation`, server: await startOurs(issuer, {}), tokens: distinct };

  const servers = [...scenarios.map((s) => s.server), rotation.server];
  // Warm up every server (JIT, connection pools, and the cache where there is one).
  for (const s of scenarios) {
    await runAlone(servers, s.server);
    await load(s.server.url, s.tokens, { duration: 2 });
  }

  const runs = new Map(scenarios.map((s) => [s.name, []]));
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = round % 2 === 0 ? scenarios : [...scenarios].reverse();
    for (const s of order) {
      await runAlone(servers, s.server);
      const before = await counts(issuer);
      const countersBefore = processCounters(s.server.child.pid);
      const run = await load(s.server.url, s.tokens);
      const countersAfter = processCounters(s.server.child.pid);
      run.cpuPerRequest = (countersAfter.cpuMicros - countersBefore.cpuMicros) / run.total;
      run.faultsPerRequest = (countersAfter.minorFaults - countersBefore.minorFaults) / run.total;
      run.introspections = (await counts(issuer)).introspections - before.introspections;
      runs.get(s.name).push(run);
      process.stderr.write(`round ${round + 1} ${s.name}: ${Math.round(run.rps)} req/s\n`);
    }
  }

  // Scenario 4: every distinct token once (cold), then the same tokens again (warm).
  await runAlone(servers, rotation.server);
  let before = await counts(issuer);
  const cold = await load(rotation.server.url, rotation.tokens, { amount: rotation.tokens.length });
  cold.introspections = (await counts(issuer)).introspections - before.introspections;
  before = await counts(issuer);
  const warm = await load(rotation.server.url, rotation.tokens);
  warm.introspections = (await counts(issuer)).introspections - before.introspections;

  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = [...runs.entries()].map(([name, rs]) => ({
    name,
    rps: mean(rs.map((r) => r.rps)),
    each: rs.map((r) => Math.round(r.rps)).join(' / '),
    p50: mean(rs.map((r) => r.p50)),
    p99: mean(rs.map((r) => r.p99)),
    introspections: rs.reduce((a, r) => a + r.introspections, 0),
    requests: rs.reduce((a, r) => a + r.total, 0),
    cpu: mean(rs.map((r) => r.cpuPerRequest)),
    faults: mean(rs.map((r) => r.faultsPerRequest)),
    rss: peakRssMb(scenarios.find((s) => s.name === name).server.child.pid),
  }));
  const rotationRss = peakRssMb(rotation.server.child.pid);
  rows.push(
    { name: `${rotation.name}, cold`, rps: cold.rps, each: String(Math.round(cold.rps)), p50: cold.p50, p99: cold.p99, introspections: cold.introspections, requests: cold.total, rss: rotationRss },
    { name: `${rotation.name}, warm`, rps: warm.rps, each: String(Math.round(warm.rps)), p50: warm.p50, p99: warm.p99, introspections: warm.introspections, requests: warm.total, rss: rotationRss },
  );

  const ceiling = rows[0];
  console.log(`\n${CONNECTIONS} connections, ${DURATION} s runs, ${ROUNDS} interleaved rounds, issuer delay ${DELAY_MS} ms, node ${process.version} ${SERVER_FLAGS.join(' ') || '(V8 defaults)'}, ${pinnedNote}\n`);
  console.log('| scenario | req/s (mean) | runs | ratio to 1 | server CPU µs/request | CPU ratio to 1 | page faults/request | p50 ms | p99 ms | Δp99 vs 1 | requests | introspections | peak RSS MB |');
  console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${Math.round(r.rps)} | ${r.each} | ${(r.rps / ceiling.rps).toFixed(2)}× | ${r.cpu === undefined ? '—' : r.cpu.toFixed(1)} | ${r.cpu === undefined ? '—' : `${(r.cpu / ceiling.cpu).toFixed(2)}×`} | ${r.faults === undefined ? '—' : r.faults.toFixed(2)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${(r.p99 - ceiling.p99).toFixed(1)} | ${r.requests} | ${r.introspections} | ${r.rss.toFixed(0)} |`,
    );
  }
  console.log(`\nintrospections per distinct token: cold ${(cold.introspections / rotation.tokens.length).toFixed(3)}, warm ${(warm.introspections / rotation.tokens.length).toFixed(3)}`);

  stopAll();

  const footprint = JSON.parse(execFileSync(process.execPath, ['--expose-gc', here('cacheFootprint.mjs')], { encoding: 'utf8' }));
  console.log(`token cache: ${footprint.entries} identities from full ZITADEL responses cost ${footprint.heapMb.toFixed(1)} MB of heap (target < 64 MB)`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
