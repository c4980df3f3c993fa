import { describe, expect, it } from '@jest/globals';
import type { Verdict } from '../../src/auth/verdict.js';
import { decodeVerdict, encodeVerdict, openVerdict, sealVerdict } from '../../src/auth/cache/verdictCodec.js';
import { identity } from '../helpers/identity.js';

const full = identity({
  id: '77776025198584418',
  username: 'road.runner@acme.zitadel.cloud',
  name: 'Road Runner',
  givenName: 'Road',
  familyName: 'Runner',
  email: 'road.runner@acme.ch',
  emailVerified: false,
  locale: 'en',
  roleGrants: { admin: ['100', '200'], viewer: [] },
  organizationId: '100',
  scopes: ['openid', 'profile'],
  clientId: '2345@myproject',
  exp: 1_700_003_600,
});

const encoded = (value: unknown) => JSON.stringify(value);

describe('encodeVerdict', () => {
  it('should write an inactive verdict as {"active":false}, with its reason when it has one', () => {
    expect(encodeVerdict({ active: false })).toBe('{"active":false}');
    expect(encodeVerdict({ active: false, reason: 'id_token' })).toBe('{"active":false,"reason":"id_token"}');
  });

  it('should leave out absent claims and empty roles, and tell no scopes from unknown scopes', () => {
    expect(encodeVerdict({ active: true, identity: identity({ id: 'u1' }) })).toBe('{"active":true,"identity":{"id":"u1","scopes":[]}}');
    expect(encodeVerdict({ active: true, identity: identity({ id: 'u1', scopes: null }) })).toBe('{"active":true,"identity":{"id":"u1"}}');
  });

  it('should write compact JSON of the identity and nothing else', () => {
    const text = encodeVerdict({ active: true, identity: full });
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
    expect(JSON.parse(text)).toEqual({ active: true, identity: full });
  });
});

describe('decodeVerdict', () => {
  it.each<[string, Verdict]>([
    ['an inactive verdict', { active: false }],
    ['an inactive verdict with its reason', { active: false, reason: 'expired' }],
    ['a minimal identity', { active: true, identity: identity({ id: 'u1' }) }],
    ['an identity from a locally validated JWT (scopes unknown)', { active: true, identity: identity({ id: 'u1', scopes: null }) }],
    ['a full identity', { active: true, identity: full }],
    ['an identity whose email is unverified', { active: true, identity: identity({ email: 'a@b.c', emailVerified: false }) }],
  ])('should read back %s exactly', (_name, verdict) => {
    expect(decodeVerdict(encodeVerdict(verdict))).toEqual(verdict);
  });

  it('should keep a role named like an Object.prototype property a plain role', () => {
    const decoded = decodeVerdict('{"active":true,"identity":{"id":"u1","roleGrants":{"__proto__":["1"],"constructor":["2"]}}}');
    expect(decoded?.active).toBe(true);
    if (!decoded?.active) throw new Error('unreachable');
    expect(Object.keys(decoded.identity.roleGrants).sort()).toEqual(['__proto__', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(decoded.identity.roleGrants, '__proto__')?.value).toEqual(['1']);
  });

  it.each<[string, string]>([
    ['not JSON', 'oops'],
    ['JSON that is not an object', '[1]'],
    ['null', 'null'],
    ['no verdict', '{}'],
    ['active not a boolean', '{"active":"yes","identity":{"id":"u1"}}'],
    ['an inactive verdict with more', '{"active":false,"identity":{"id":"u1"}}'],
    ['a reason that is not one of ours', '{"active":false,"reason":"<script>"}'],
    ['a reason that is not a string', '{"active":false,"reason":1}'],
    ['an active verdict without identity', '{"active":true}'],
    ['an active verdict with more than the identity', '{"active":true,"identity":{"id":"u1"},"token":"t"}'],
    ['an identity without id', encoded({ active: true, identity: { username: 'x' } })],
    ['an empty id', encoded({ active: true, identity: { id: '' } })],
    ['a numeric id', encoded({ active: true, identity: { id: 1 } })],
    ['an unknown field', encoded({ active: true, identity: { id: 'u1', jti: 'V2_x' } })],
    ['a non-string claim', encoded({ active: true, identity: { id: 'u1', email: 5 } })],
    ['an empty string claim', encoded({ active: true, identity: { id: 'u1', name: '' } })],
    ['emailVerified not a boolean', encoded({ active: true, identity: { id: 'u1', emailVerified: 'true' } })],
    ['exp not a number', encoded({ active: true, identity: { id: 'u1', exp: '1700000000' } })],
    ['scopes not strings', encoded({ active: true, identity: { id: 'u1', scopes: [1] } })],
    ['scopes not an array', encoded({ active: true, identity: { id: 'u1', scopes: 'openid' } })],
    ['roleGrants not an object', encoded({ active: true, identity: { id: 'u1', roleGrants: ['admin'] } })],
    ['role org ids not strings', encoded({ active: true, identity: { id: 'u1', roleGrants: { admin: [1] } } })],
  ])('should refuse %s', (_name, text) => {
    expect(decodeVerdict(text)).toBeUndefined();
  });
});

describe('sealVerdict and openVerdict', () => {
  const secret = Buffer.alloc(32, 7);
  const key = 'zitadel-graphql:token:abc:hash-of-token-a';
  const until = 1_700_000_000_000;
  const sealed = sealVerdict({ active: true, identity: full }, key, until, secret);

  it('should read back the verdict and until when it counts, under its own key and secret', () => {
    expect(openVerdict(sealed, key, secret)).toEqual({ verdict: { active: true, identity: full }, untilMs: until });
  });

  it.each<[string, () => string | undefined, string?, Buffer?]>([
    ['a value whose identity was changed', () => sealed.replace('Road Runner', 'Wile E. Coyote')],
    ['a value that claims to count longer', () => sealed.replace(`.${until}.`, `.${until + 3_600_000}.`)],
    ['a value moved under another token’s key', () => sealed, 'zitadel-graphql:token:abc:hash-of-token-b'],
    ['a value sealed under another secret', () => sealed, key, Buffer.alloc(32, 8)],
    ['a verdict written without a seal', () => encodeVerdict({ active: true, identity: full })],
    ['a made-up seal', () => `AAAA.${until}.${encodeVerdict({ active: true, identity: full })}`],
    ['a seal without until', () => sealed.slice(0, sealed.indexOf('.')) + '.' + encodeVerdict({ active: true, identity: full })],
  ])('should refuse %s', (_name, text, otherKey = key, otherSecret = secret) => {
    expect(openVerdict(text()!, otherKey, otherSecret)).toBeUndefined();
  });
});
