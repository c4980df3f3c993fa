import { describe, expect, it } from '@jest/globals';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { getDirective } from '@graphql-tools/utils';
import { parse, print } from 'graphql';
import { pino } from 'pino';
import { authDirectivesTransformer } from '../../src/graphql/schema/authDirectives.js';
import { buildSubgraph, subgraphTypeDefs } from '../../src/graphql/schema/federation.js';
import { buildSchema, loadTypeDefs } from '../../src/graphql/schema/index.js';
import { loadGraphQLConfig } from '../../src/config.js';
import { createApolloServer } from '../../src/graphql/apollo.js';
import { identity } from '../helpers/identity.js';
import { execute, fakeVerifier } from '../helpers/operation.js';

const CALLERS = {
  admin: identity({ id: 'admin', roleGrants: { admin: ['100000000000000001'] }, scopes: ['profile', 'email'] }),
  support: identity({ id: 'support', roleGrants: { support: ['100000000000000001'] } }),
};
const logger = pino({ level: 'silent' });
const subgraph = createApolloServer({ schema: buildSchema({ federation: true }), logger, graphql: loadGraphQLConfig({}, true) });

async function as(caller: keyof typeof CALLERS | undefined, query: string) {
  const { verifier, calls } = fakeVerifier(CALLERS);
  return { ...(await execute(subgraph, query, caller, verifier)), calls };
}

/** The SDL the subgraph serves at `{ _service { sdl } }`, as a router or rover reads it. */
async function servedSdl(): Promise<string> {
  const { result, status, calls } = await as(undefined, '{ _service { sdl } }');
  expect(status).toBeUndefined();
  expect(calls.count).toBe(0);
  return (result.data as { _service: { sdl: string } })._service.sdl;
}

describe('GRAPHQL_FEDERATION subgraph', () => {
  it('should serve its SDL publicly, with the Federation auth directives imported and @hasRole composed', async () => {
    const sdl = await servedSdl();
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@authenticated", "@requiresScopes", "@composeDirective"])');
    expect(sdl).toContain('@composeDirective(name: "@hasRole")');
    expect(sdl).toMatch(/directive @hasRole\(roles: \[String!\]!, organizationId: ID\) on FIELD_DEFINITION \| OBJECT \| INTERFACE/);
    expect(sdl).toContain('hello: String! @authenticated');
    expect(sdl).toContain('adminGreeting: String! @hasRole(roles: ["admin"])');
    expect(sdl).toContain('orgAdminGreeting: String! @hasRole(roles: ["admin"], organizationId: "100000000000000001")');
    expect(sdl).toContain('scopedGreeting: String! @requiresScopes(scopes: [["profile", "email"], ["urn:zitadel:iam:user:metadata"]])');
    // The spec's own definitions are used (`federation__Scope`), not ours.
    expect(sdl).not.toMatch(/directive @requiresScopes\(scopes: \[\[String!\]!\]!\)/);
  });

  it('should give a consumer of the SDL the organization id as the exact 18-digit string', async () => {
    const reread = buildSubgraphSchema(parse(await servedSdl()));
    const field = reread.getQueryType()!.getFields().orgAdminGreeting!;
    expect(getDirective(reread, field, 'hasRole')).toEqual([{ roles: ['admin'], organizationId: '100000000000000001' }]);
  });

  it('should compose into a supergraph that carries every auth directive', async () => {
    const { errors, supergraphSdl } = composeServices([{ name: 'api', typeDefs: parse(await servedSdl()), url: 'http://api.internal/graphql' }]);
    expect(errors).toBeUndefined();
    expect(supergraphSdl).toContain('adminGreeting: String! @hasRole(roles: ["admin"])');
    expect(supergraphSdl).toMatch(/orgAdminGreeting: String! @hasRole\(roles: \["admin"\], organizationId: "?100000000000000001"?\)/);
    expect(supergraphSdl).toMatch(/hello: String! @authenticated/);
    expect(supergraphSdl).toMatch(/scopedGreeting: String! @requiresScopes\(scopes: \[\["profile", "email"\], \["urn:zitadel:iam:user:metadata"\]\]\)/);
  });

  it('should still enforce every directive itself when called directly', async () => {
    expect((await as(undefined, '{ hello }')).result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const forbidden = await as('support', '{ adminGreeting }');
    expect(forbidden.status).toBe(403);
    expect(forbidden.result.errors?.[0]).toMatchObject({ path: ['adminGreeting'], extensions: { code: 'FORBIDDEN' } });
    expect((await as('support', '{ scopedGreeting }')).result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const { result, calls } = await as('admin', '{ hello adminGreeting staffGreeting orgAdminGreeting scopedGreeting }');
    expect(result.data).toEqual({
      hello: 'Hello World!',
      adminGreeting: 'Hello, admin!',
      staffGreeting: 'Hello, staff!',
      orgAdminGreeting: 'Hello, org admin!',
      scopedGreeting: 'Hello, scoped!',
    });
    expect(calls.count).toBe(1);
  });
});

describe('interface requirements in the subgraph', () => {
  const directives = loadTypeDefs().find((sdl) => sdl.includes('directive @hasRole'))!;
  const typeDefs = [
    directives,
    /* GraphQL */ `
      type Query { ledger: Ledger audited: Audited }
      interface Secured @hasRole(roles: ["admin"]) { id: ID! }
      type Ledger implements Secured { id: ID! @hasRole(roles: ["admin"]) total: Int @authenticated }
      interface Auditable { log: String @requiresScopes(scopes: [["email"]]) note: String }
      type Audited implements Auditable { log: String note: String }
    `,
  ];

  it('should push them down onto the implementing types fields, once each', () => {
    const printed = print(subgraphTypeDefs(typeDefs));
    expect(printed).toContain('interface Secured {');
    expect(printed).toContain('log: String\n');
    expect(printed).toContain('id: ID! @hasRole(roles: ["admin"])\n');
    expect(printed).toContain('total: Int @authenticated @hasRole(roles: ["admin"])');
    expect(printed).toContain('log: String @requiresScopes(scopes: [["email"]])');
    expect(printed).toContain('note: String\n');
  });

  it('should compose where interface-level auth directives would be refused', () => {
    const { errors } = composeServices([{ name: 'api', typeDefs: subgraphTypeDefs(typeDefs), url: 'http://api.internal/graphql' }]);
    expect(errors).toBeUndefined();
    const raw = composeServices([{ name: 'api', typeDefs: parse(`${print(subgraphTypeDefs([directives]))}\n${typeDefs[1]}`), url: 'http://x' }]);
    expect(raw.errors?.[0]?.message).toMatch(/cannot be applied on interfaces/);
  });

  it('should enforce the pushed-down requirements like the standalone schema', async () => {
    const schema = authDirectivesTransformer(
      buildSubgraph(typeDefs, { Query: { ledger: () => ({ id: 'l1', total: 1 }), audited: () => ({ log: 'L', note: 'N' }) } }),
    );
    const server = createApolloServer({ schema, logger, graphql: loadGraphQLConfig({}, false) });
    const { verifier } = fakeVerifier(CALLERS);
    const support = await execute(server, '{ ledger { id total } audited { log note } }', 'support', verifier);
    expect(support.result.data).toEqual({ ledger: null, audited: { log: null, note: 'N' } });
    expect(support.result.errors?.every((e) => e.extensions?.code === 'FORBIDDEN')).toBe(true);
    const admin = await execute(server, '{ ledger { id total } audited { log note } }', 'admin', verifier);
    expect(admin.result.data).toEqual({ ledger: { id: 'l1', total: 1 }, audited: { log: 'L', note: 'N' } });
  });
});

describe('requirements on scalars and enums, as Federation places them', () => {
  const directives = loadTypeDefs().find((sdl) => sdl.includes('directive @hasRole'))!;
  const typeDefs = [
    directives,
    /* GraphQL */ `
      type Query { open: String clearance: Clearance secret: Secret levels: [Clearance!] }
      enum Clearance @authenticated { LOW HIGH }
      scalar Secret @requiresScopes(scopes: [["email"]])
    `,
  ];
  const resolvers = { Query: { open: () => 'open', clearance: () => 'HIGH', secret: () => 's3cret', levels: () => ['LOW'] } };

  it.each([
    ['standalone', () => authDirectivesTransformer(makeExecutableSchema({ typeDefs, resolvers }))],
    ['federation', () => authDirectivesTransformer(buildSubgraph(typeDefs, resolvers))],
  ])('should enforce them on every field returning the type (%s)', async (_mode, build) => {
    const server = createApolloServer({ schema: build(), logger, graphql: loadGraphQLConfig({}, false) });
    const { verifier } = fakeVerifier(CALLERS);
    const anonymous = await execute(server, '{ open clearance levels secret }', undefined, verifier);
    expect(anonymous.result.data).toEqual({ open: 'open', clearance: null, levels: null, secret: null });
    expect(anonymous.result.errors?.map((e) => e.extensions?.code)).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
    const support = await execute(server, '{ clearance secret }', 'support', verifier);
    expect(support.result.data).toEqual({ clearance: 'HIGH', secret: null });
    expect(support.result.errors?.[0]).toMatchObject({ path: ['secret'], extensions: { code: 'FORBIDDEN' } });
    expect((await execute(server, '{ clearance levels secret }', 'admin', verifier)).result.data).toEqual({ clearance: 'HIGH', levels: ['LOW'], secret: 's3cret' });
  });

  it('should compose', () => {
    const { errors, supergraphSdl } = composeServices([{ name: 'api', typeDefs: subgraphTypeDefs(typeDefs), url: 'http://api.internal/graphql' }]);
    expect(errors).toBeUndefined();
    expect(supergraphSdl).toMatch(/enum Clearance[^{]*@authenticated/);
  });
});
