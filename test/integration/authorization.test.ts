import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEV_ORG_ID, type DevUser } from '../../src/dev/issuer.js';
import { startTestIssuer, type TestIssuer } from '../helpers/issuer.js';
import { bearer, startTestServer, type TestServer } from '../helpers/server.js';

const OTHER_ORG_ID = '100000000000000009';

const SUPPORT: DevUser = {
  sub: '200000000000000002',
  username: 'wile.e@demo.localhost',
  roles: { support: { [DEV_ORG_ID]: 'demo.localhost' } },
  organizationId: DEV_ORG_ID,
};
/** An admin, but granted by another organization than the one orgAdminGreeting names. */
const FOREIGN_ADMIN: DevUser = {
  sub: '200000000000000003',
  username: 'bugs@other.localhost',
  roles: { admin: { [OTHER_ORG_ID]: 'other.localhost' }, support: { [OTHER_ORG_ID]: 'other.localhost' } },
  organizationId: OTHER_ORG_ID,
};
const NO_ROLES: DevUser = { sub: '200000000000000004', username: 'nobody@demo.localhost' };

let issuer: TestIssuer;
let server: TestServer;
let subgraph: TestServer;

beforeAll(async () => {
  issuer = await startTestIssuer();
  [server, subgraph] = await Promise.all([startTestServer({ issuer }), startTestServer({ issuer, federation: true })]);
});

afterAll(async () => {
  await Promise.all([server.close(), subgraph.close()]);
  await issuer.close();
});

const ALL_GREETINGS = '{ adminGreeting staffGreeting orgAdminGreeting scopedGreeting }';

describe('roles and scopes from real ZITADEL-shaped tokens', () => {
  it('should greet the demo admin everywhere, with one introspection for the whole operation', async () => {
    const token = await issuer.mintToken({ scope: 'openid profile email' });
    const before = issuer.introspections;
    const res = await server.post(`{ ${ALL_GREETINGS.slice(1, -1)} me { roles scopes } }`, bearer(token));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      data: {
        adminGreeting: 'Hello, admin!',
        staffGreeting: 'Hello, staff!',
        orgAdminGreeting: 'Hello, org admin!',
        scopedGreeting: 'Hello, scoped!',
        me: { roles: ['admin'], scopes: ['openid', 'profile', 'email'] },
      },
    });
    expect(issuer.introspections - before).toBe(1);
  });

  it('should let a support user into staffGreeting only, and say which role is missing', async () => {
    const token = await issuer.mintToken({ user: SUPPORT, scope: 'openid' });
    expect((await server.post('{ staffGreeting }', bearer(token))).body.data).toEqual({ staffGreeting: 'Hello, staff!' });
    const res = await server.post('{ adminGreeting }', bearer(token));
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="graphql", error="insufficient_scope"');
    expect(res.body).toEqual({
      data: null,
      errors: [expect.objectContaining({ message: 'Forbidden: requires role admin.', path: ['adminGreeting'], extensions: { code: 'FORBIDDEN' } })],
    });
    expect(res.text).not.toContain(token);
  });

  it('should refuse orgAdminGreeting to an admin of another organization', async () => {
    const token = await issuer.mintToken({ user: FOREIGN_ADMIN, scope: 'openid' });
    const res = await server.post('{ adminGreeting }', bearer(token));
    expect(res.body.data).toEqual({ adminGreeting: 'Hello, admin!' });
    const denied = await server.post('{ orgAdminGreeting }', bearer(token));
    expect(denied.status).toBe(403);
    expect(denied.body.errors?.[0]?.message).toBe(`Forbidden: requires role admin in organization ${DEV_ORG_ID}.`);
    expect(denied.text).not.toContain(OTHER_ORG_ID);
  });

  it.each([
    ['openid profile email', true],
    ['openid urn:zitadel:iam:user:metadata', true],
    ['openid profile', false],
    ['openid email', false],
  ])('should apply scopedGreeting to a token with scopes "%s" (allowed: %s)', async (scope, allowed) => {
    const token = await issuer.mintToken({ user: NO_ROLES, scope });
    const res = await server.post('{ scopedGreeting me { scopes } }', bearer(token));
    if (allowed) {
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ scopedGreeting: 'Hello, scoped!', me: { scopes: scope.split(' ') } });
    } else {
      expect(res.status).toBe(403);
      expect(res.body.errors?.[0]?.message).toBe('Forbidden: requires scopes profile and email, or scope urn:zitadel:iam:user:metadata.');
    }
  });

  it('should null data and answer 403 when a forbidden non-null field sits beside resolved ones', async () => {
    const token = await issuer.mintToken({ user: NO_ROLES, scope: 'openid' });
    const res = await server.post('{ __typename hello me { id roles } adminGreeting }', bearer(token));
    expect(res.status).toBe(403);
    expect(res.body.data).toBeNull();
    expect(res.body.errors?.map((e) => e.extensions?.code)).toEqual(['FORBIDDEN']);
  });

  it('should keep public and protected parts when nothing forbidden is asked', async () => {
    const token = await issuer.mintToken({ user: NO_ROLES, scope: 'openid' });
    const res = await server.post('{ __typename hello me { roles scopes } }', bearer(token));
    expect(res.body).toEqual({ data: { __typename: 'Query', hello: 'Hello World!', me: { roles: [], scopes: ['openid'] } } });
  });

  it('should answer 401, not 403, to anonymous and rejected callers', async () => {
    const anonymous = await server.post('{ adminGreeting }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const rejected = await server.post('{ adminGreeting }', bearer('not-a-real-token'));
    expect(rejected.status).toBe(401);
    expect(rejected.headers.get('www-authenticate')).toBe('Bearer realm="graphql", error="invalid_token"');
  });

  it('should answer 503, not 403, when ZITADEL cannot be asked', async () => {
    const token = await issuer.mintToken({ user: SUPPORT, scope: 'openid' });
    issuer.fault = { kind: 'status', status: 502 };
    try {
      const res = await server.post('{ adminGreeting }', bearer(token));
      expect(res.status).toBe(503);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('AUTH_PROVIDER_UNAVAILABLE');
    } finally {
      issuer.fault = undefined;
    }
  });
});

describe('GRAPHQL_FEDERATION=1 over HTTP', () => {
  it('should serve the subgraph SDL to anyone, without asking ZITADEL', async () => {
    const before = issuer.introspections;
    const res = await subgraph.post('{ _service { sdl } }');
    expect(res.status).toBe(200);
    const sdl = (res.body.data as { _service: { sdl: string } })._service.sdl;
    expect(sdl).toContain('adminGreeting: String! @hasRole(roles: ["admin"])');
    expect(issuer.introspections).toBe(before);
  });

  it('should enforce roles itself when called directly', async () => {
    const token = await issuer.mintToken({ user: SUPPORT, scope: 'openid' });
    const res = await subgraph.post('{ staffGreeting adminGreeting }', bearer(token));
    expect(res.status).toBe(403);
    expect(res.body.errors?.[0]).toMatchObject({ path: ['adminGreeting'], extensions: { code: 'FORBIDDEN' } });
    expect((await subgraph.post('{ staffGreeting }', bearer(token))).body.data).toEqual({ staffGreeting: 'Hello, staff!' });
  });
});
