// `npm run soak`: about 200 000 requests with a mix of valid, invalid and malformed credentials
// against our server (production settings, default budget), reporting memory at start and end,
// answers by status and error code, and the introspection calls ZITADEL saw. Memory must stay
// flat: every cache is bounded. The load generator stands in for a trusted proxy
// (TRUST_PROXY_HOPS=1) in front of many clients: each valid token's user has an address of its
// own and logs in during the run (SOAK_LOGINS_PER_SECOND new users a second, well below the
// budget), and every unknown token comes from one flooding address, so the run shows whether
// that flood costs the others their logins (target: no valid token refused). Tunables:
// SOAK_REQUESTS (200000), SOAK_CONNECTIONS (50), SOAK_ISSUER_DELAY_MS (20), SOAK_LOGINS_PER_SECOND (4).
import autocannon from 'autocannon';
import { randomBytes } from 'node:crypto';
import { counts, pinFromNowOn, rssMb, startIssuer, startOurs, stopAll } from './harness.mjs';

const REQUESTS = Number(process.env.SOAK_REQUESTS ?? 200_000);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 50);
const DELAY_MS = Number(process.env.SOAK_ISSUER_DELAY_MS ?? 20);
const VALID_TOKENS = 200;
const LOGINS_PER_SECOND = Number(process.env.SOAK_LOGINS_PER_SECOND ?? 4);

/** What each request presents, by share of the traffic. */
const MIX = [
  { kind: 'valid token', share: 0.6 },
  { kind: 'unknown token (new each time)', share: 0.2 },
  { kind: 'malformed header', share: 0.1 },
  { kind: 'no header', share: 0.05 },
  { kind: 'oversized query', share: 0.05 },
];
const MALFORMED = ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Bearer ' + 'x'.repeat(9000), 'Bearer ünïcode', 'bearer\ttoken'];
/** The one address all made-up tokens come from. */
const FLOODER = '203.0.113.66';
/** A user's own address (one per valid token). */
const userAddress = (i) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;

async function main() {
  pinFromNowOn();
  const issuer = await startIssuer({ delayMs: DELAY_MS, tokens: VALID_TOKENS });
  // Production defaults, including the introspection budget (40/s), which the unknown tokens meet,
  // and V8's default heap sizing.
  const server = await startOurs(issuer, { ZITADEL_INTROSPECTION_RATE_LIMIT: '', ZITADEL_INTROSPECTION_CONCURRENCY: '', TRUST_PROXY_HOPS: '1' }, { flags: [] });
  const pid = server.child.pid;

  const byKind = new Map(MIX.map((m) => [m.kind, new Map()]));
  const kinds = [];
  let n = 0;
  const pick = () => {
    const x = (n++ * 0.6180339887) % 1; // low-discrepancy: the shares hold in every stretch of the run
    let acc = 0;
    for (const m of MIX) if (x < (acc += m.share)) return m.kind;
    return MIX[0].kind;
  };
  // Users present their tokens from the moment they log in: ten at first, then LOGINS_PER_SECOND more a second.
  let loggingInSince = Date.now();
  const usersNow = () => Math.min(VALID_TOKENS, 10 + Math.floor(((Date.now() - loggingInSince) / 1000) * LOGINS_PER_SECOND));
  const setupRequest = (request, context) => {
    const kind = pick();
    context.kind = kind;
    const headers = { 'content-type': 'application/json' };
    let query = '{ hello me { id roles } }';
    headers['x-forwarded-for'] = FLOODER;
    if (kind === 'valid token') {
      const user = n % usersNow();
      headers.authorization = `Bearer ${issuer.tokens[user]}`;
      headers['x-forwarded-for'] = userAddress(user);
    }
    if (kind === 'unknown token (new each time)') headers.authorization = `Bearer ${randomBytes(24).toString('base64url')}`;
    if (kind === 'malformed header') headers.authorization = MALFORMED[n % MALFORMED.length];
    if (kind === 'oversized query') query = `{ ${Array.from({ length: 30 }, (_, i) => `a${i}: hello`).join(' ')} }`;
    return { ...request, method: 'POST', headers, body: JSON.stringify({ query }) };
  };
  const onResponse = (status, body, context) => {
    let code = 'OK';
    try {
      code = JSON.parse(body).errors?.[0]?.extensions?.code ?? 'OK';
    } catch {
      code = 'NOT_JSON';
    }
    const outcomes = byKind.get(context.kind);
    const key = `${status} ${code}`;
    outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  };

  // Warm up, then measure from a settled state.
  await autocannon({ url: server.url, connections: 10, amount: 2000, requests: [{ setupRequest, onResponse }] });
  for (const outcomes of byKind.values()) outcomes.clear();
  const before = await counts(issuer);
  const rss = { start: rssMb(pid), samples: [] };
  const sampler = setInterval(() => rss.samples.push(rssMb(pid)), 1000);
  const started = Date.now();
  loggingInSince = started;
  const result = await autocannon({ url: server.url, connections: CONNECTIONS, amount: REQUESTS, requests: [{ setupRequest, onResponse }] });
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 2000)); // let the process settle
  rss.end = rssMb(pid);
  const introspections = (await counts(issuer)).introspections - before.introspections;

  console.log(`\n${result.requests.total} requests in ${seconds.toFixed(1)} s (${Math.round(result.requests.total / seconds)} req/s), ${CONNECTIONS} connections, issuer delay ${DELAY_MS} ms, node ${process.version}`);
  console.log(`transport errors ${result.errors}, timeouts ${result.timeouts}`);
  console.log(`\nRSS MB: start ${rss.start.toFixed(0)}, max ${Math.max(...rss.samples, rss.end).toFixed(0)}, end ${rss.end.toFixed(0)} (samples every second: ${rss.samples.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`introspection calls: ${introspections} (${(introspections / seconds).toFixed(1)}/s; budget 40/s)\n`);
  console.log('| presented | status and code | count |');
  console.log('| --- | --- | ---: |');
  for (const [kind, outcomes] of byKind) {
    for (const [key, count] of [...outcomes.entries()].sort((a, b) => b[1] - a[1])) console.log(`| ${kind} | ${key} | ${count} |`);
  }
  const fiveHundreds = [...byKind.values()].flatMap((o) => [...o.entries()]).filter(([key]) => key.startsWith('5') && !key.includes('AUTH_PROVIDER')).reduce((a, [, c]) => a + c, 0);
  const validRefused = [...byKind.get('valid token').entries()].filter(([key]) => !key.startsWith('200 ')).reduce((a, [, c]) => a + c, 0);
  const validTotal = [...byKind.get('valid token').values()].reduce((a, c) => a + c, 0);
  console.log(`\nserver errors (5xx other than an unavailable provider): ${fiveHundreds}`);
  console.log(`users who logged in during the flood: ${usersNow() - 10} (${LOGINS_PER_SECOND}/s)`);
  console.log(`valid tokens refused during the flood of unknown tokens: ${validRefused} of ${validTotal} (target 0)`);
  stopAll();
  if (fiveHundreds > 0 || result.errors > 0 || validRefused > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  stopAll();
  process.exit(1);
});
