// Heap cost of the token cache holding ENTRIES identities mapped from full ZITADEL introspection
// responses (profile, email, roles, organization). Run with --expose-gc; prints one JSON line.
import { identityFromClaims } from '../../dist/auth/identity.js';
import { TokenCache } from '../../dist/auth/cache/tokenCache.js';

const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const exp = Math.floor(Date.now() / 1000) + 12 * 3600;
const claimsFor = (i) => ({
  active: true,
  scope: 'openid profile email urn:zitadel:iam:org:project:id:100000000000000002:aud',
  client_id: '100000000000000006@demo',
  token_type: 'Bearer',
  exp,
  iat: exp - 43_200,
  sub: String(300000000000000000n + BigInt(i)),
  aud: ['100000000000000006@demo', '100000000000000002'],
  iss: 'https://my-instance.zitadel.cloud',
  jti: `V2_${i}`,
  username: `user${i}@acme.zitadel.cloud`,
  preferred_username: `user${i}@acme.zitadel.cloud`,
  name: `User Number ${i}`,
  given_name: 'User',
  family_name: `Number ${i}`,
  locale: 'en',
  email: `user${i}@acme.ch`,
  email_verified: true,
  'urn:zitadel:iam:org:project:roles': { reader: { '100000000000000001': 'acme.zitadel.cloud' } },
  'urn:zitadel:iam:org:project:100000000000000002:roles': { reader: { '100000000000000001': 'acme.zitadel.cloud' } },
  'urn:zitadel:iam:user:resourceowner:id': '100000000000000001',
  'urn:zitadel:iam:user:resourceowner:name': 'ACME',
  'urn:zitadel:iam:user:resourceowner:primary_domain': 'acme.zitadel.cloud',
});

const settle = () => {
  for (let i = 0; i < 4; i += 1) global.gc();
  return process.memoryUsage().heapUsed;
};
const cache = new TokenCache({ maxEntries: ENTRIES, maxTtlMs: 300_000, negativeTtlMs: 30_000 });
const before = settle();
for (let i = 0; i < ENTRIES; i += 1) {
  const identity = identityFromClaims(claimsFor(i), { projectId: '100000000000000002' });
  // A 40-character opaque token, hashed by the cache as a real one would be.
  await cache.get(`token-${String(i).padStart(34, '0')}`, async () => ({ active: true, identity }));
}
const after = settle();
console.log(JSON.stringify({ entries: cache.size, heapMb: (after - before) / 1024 / 1024 }));
