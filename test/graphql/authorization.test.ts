import { describe, expect, it } from '@jest/globals';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLObjectType } from 'graphql';
import { pino } from 'pino';
import { authDirectivesTransformer, fieldRequirements } from '../../src/graphql/schema/authDirectives.js';
import { buildSchema, loadTypeDefs } from '../../src/graphql/schema/index.js';
import { loadGraphQLConfig } from '../../src/config.js';
import { createApolloServer } from '../../src/graphql/apollo.js';
import { identity } from '../helpers/identity.js';
import { execute, fakeVerifier } from '../helpers/operation.js';

const ORG = '100000000000000001';
const OTHER_ORG = '100000000000000002';

/** Callers by token. */
const CALLERS = {
  admin: identity({ id: 'admin', roleGrants: { admin: [ORG] }, scopes: ['openid', 'profile', 'email'] }),
  foreignAdmin: identity({ id: 'foreign', roleGrants: { admin: [OTHER_ORG] }, scopes: ['openid'] }),
  support: identity({ id: 'support', roleGrants: { support: [ORG] }, scopes: ['openid', 'profile'] }),
  metadata: identity({ id: 'meta', scopes: ['urn:zitadel:iam:user:metadata'] }),
  nobody: identity({ id: 'nobody' }),
};

const SDL = [
  loadTypeDefs().find((sdl) => sdl.includes('directive @hasRole'))!,
  /* GraphQL */ `
    type Query {
      open: String
      staffOnly: String @hasRole(roles: ["admin", "support"])
      reports: Reports
      ledger: Ledger
      audited: Audited
      mustHave: String! @hasRole(roles: ["admin"])
    }
    "Type-level scope; one field also needs a role: both must hold."
    type Reports @requiresScopes(scopes: [["profile"]]) {
      summary: String
      salaries: String @hasRole(roles: ["admin"], organizationId: "${ORG}")
    }
    "Requirements on an interface apply to every implementing type's fields."
    interface Secured @hasRole(roles: ["admin"]) { id: ID! }
    type Ledger implements Secured { id: ID! total: Int }
    "A requirement on an interface field applies to that field only."
    interface Auditable { log: String @requiresScopes(scopes: [["email"]]) note: String }
    type Audited implements Auditable { log: String note: String }
  `,
];

const schema = authDirectivesTransformer(
  makeExecutableSchema({
    typeDefs: SDL,
    resolvers: {
      Query: {
        open: () => 'open',
        staffOnly: () => 'staff',
        reports: () => ({ summary: 'fine', salaries: 'secret' }),
        ledger: () => ({ id: 'l1', total: 42 }),
        audited: () => ({ log: 'L', note: 'N' }),
        mustHave: () => 'had',
      },
    },
  }),
);
const server = createApolloServer({ schema, logger: pino({ level: 'silent' }), graphql: loadGraphQLConfig({}, false) });

async function as(caller: keyof typeof CALLERS | 'invalid' | undefined, query: string, behaviour: 'ok' | 'down' = 'ok') {
  const { verifier, calls } = fakeVerifier(CALLERS, behaviour);
  return { ...(await execute(server, query, caller, verifier)), calls };
}

const codes = (result: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => result.errors?.map((e) => e.extensions?.code);

describe('authorization directives', () => {
  it('should let any holder of a listed role through, and forbid others with the field path', async () => {
    expect((await as('support', '{ staffOnly }')).result.data).toEqual({ staffOnly: 'staff' });
    expect((await as('admin', '{ staffOnly }')).result.data).toEqual({ staffOnly: 'staff' });
    const { result } = await as('metadata', '{ staffOnly }');
    expect(result.data).toEqual({ staffOnly: null });
    expect(result.errors).toEqual([
      expect.objectContaining({ path: ['staffOnly'], message: 'Forbidden: requires one of the roles admin, support.', extensions: { code: 'FORBIDDEN' } }),
    ]);
  });

  it('should check authentication before authorization', async () => {
    expect(codes((await as(undefined, '{ staffOnly }')).result)).toEqual(['UNAUTHENTICATED']);
    expect(codes((await as('invalid', '{ staffOnly }')).result)).toEqual(['UNAUTHENTICATED']);
  });

  it('should report an unreachable provider, never FORBIDDEN', async () => {
    expect(codes((await as('admin', '{ staffOnly }', 'down')).result)).toEqual(['AUTH_PROVIDER_UNAVAILABLE']);
  });

  it('should require both the type-level scope and the field-level organization role', async () => {
    const query = '{ reports { summary salaries } }';
    expect((await as('admin', query)).result).toEqual({ data: { reports: { summary: 'fine', salaries: 'secret' } } });

    const foreign = (await as('foreignAdmin', query)).result; // Role from another organization, no `profile` scope.
    expect(foreign.data).toEqual({ reports: { summary: null, salaries: null } });
    expect(foreign.errors?.map((e) => [e.path?.join('.'), e.message])).toEqual([
      ['reports.summary', 'Forbidden: requires scope profile.'],
      ['reports.salaries', `Forbidden: requires role admin in organization ${ORG} and scope profile.`],
    ]);

    const support = (await as('support', query)).result; // `profile` scope, wrong role.
    expect(support.data).toEqual({ reports: { summary: 'fine', salaries: null } });
    expect(support.errors?.map((e) => [e.path?.join('.'), e.message])).toEqual([['reports.salaries', `Forbidden: requires role admin in organization ${ORG}.`]]);
  });

  it("should apply an interface's requirements to its implementing types, however the field is reached", async () => {
    for (const query of ['{ ledger { id total } }', '{ ledger { ... on Secured { id } } }']) {
      const { result } = await as('support', query);
      expect(result.errors?.every((e) => e.extensions?.code === 'FORBIDDEN')).toBe(true);
      expect(result.errors?.length).toBeGreaterThan(0);
    }
    expect((await as('foreignAdmin', '{ ledger { id total } }')).result.data).toEqual({ ledger: { id: 'l1', total: 42 } });
  });

  it("should apply an interface field's requirement to that field only", async () => {
    const { result } = await as('support', '{ audited { log note } }');
    expect(result.data).toEqual({ audited: { log: null, note: 'N' } });
    expect(result.errors?.map((e) => e.path)).toEqual([['audited', 'log']]);
  });

  it('should mix public, protected and forbidden fields: partial data, 200, one verification', async () => {
    const { result, status, calls } = await as('support', '{ open staffOnly reports { summary salaries } ledger { id } }');
    expect(result.data).toEqual({ open: 'open', staffOnly: 'staff', reports: { summary: 'fine', salaries: null }, ledger: null });
    expect(result.errors?.map((e) => [e.path?.join('.'), e.extensions?.code])).toEqual([
      ['reports.salaries', 'FORBIDDEN'],
      ['ledger.id', 'FORBIDDEN'],
    ]);
    expect(status).toBeUndefined();
    expect(calls.count).toBe(1);
  });

  it('should answer 403 insufficient_scope when a forbidden non-null field nulls data', async () => {
    const { result, status, headers } = await as('support', '{ open mustHave }');
    expect(result.data).toBeNull();
    expect(codes(result)).toEqual(['FORBIDDEN']);
    expect(status).toBe(403);
    expect(headers.get('www-authenticate')).toBe('Bearer realm="graphql", error="insufficient_scope"');
  });

  it('should answer 403 when every root field is forbidden, and 200 once one resolves', async () => {
    expect((await as('nobody', '{ staffOnly again: staffOnly }')).status).toBe(403);
    // `reports` resolves (to an object whose field is forbidden): partial data, not a refusal.
    expect((await as('nobody', '{ staffOnly reports { summary } }')).status).toBeUndefined();
  });

  it('should say nothing about other users or grants in a FORBIDDEN message', async () => {
    const { result } = await as('foreignAdmin', '{ reports { salaries } }');
    expect(JSON.stringify(result)).not.toMatch(new RegExp(`${OTHER_ORG}|foreign`));
  });
});

describe('fieldRequirements', () => {
  it('should collect field, type and interface requirements, deduplicated', () => {
    const ledger = schema.getType('Ledger') as GraphQLObjectType;
    expect(fieldRequirements(schema, ledger, 'total')).toEqual([{ kind: 'role', roles: ['admin'], organizationId: null }]);
    const reports = schema.getType('Reports') as GraphQLObjectType;
    expect(fieldRequirements(schema, reports, 'salaries')).toEqual([
      { kind: 'role', roles: ['admin'], organizationId: ORG },
      { kind: 'scopes', anyOf: [['profile']] },
    ]);
    expect(fieldRequirements(schema, schema.getQueryType()!, 'open')).toEqual([]);
  });

  it.each([
    ['an empty role list', 'f: String @hasRole(roles: [])', '@hasRole(roles:) on Query.f must be a non-empty list'],
    ['an empty scope list', 'f: String @requiresScopes(scopes: [])', '@requiresScopes(scopes:) on Query.f must be a non-empty list'],
    ['an empty inner scope list', 'f: String @requiresScopes(scopes: [["a"], []])', '@requiresScopes(scopes:) list 2 on Query.f must be a non-empty list'],
  ])('should refuse %s at startup, naming the field', (_what, field, message) => {
    const typeDefs = [SDL[0]!, `type Query { ${field} }`];
    expect(() => authDirectivesTransformer(makeExecutableSchema({ typeDefs }))).toThrow(message);
  });
});

describe('the demonstration fields', () => {
  const product = createApolloServer({ schema: buildSchema(), logger: pino({ level: 'silent' }), graphql: loadGraphQLConfig({}, false) });
  const run = async (caller: keyof typeof CALLERS, query: string) => {
    const { verifier } = fakeVerifier(CALLERS);
    return (await execute(product, query, caller, verifier)).result;
  };

  it('should greet each caller the directives admit', async () => {
    expect((await run('admin', '{ adminGreeting staffGreeting orgAdminGreeting scopedGreeting }')).data).toEqual({
      adminGreeting: 'Hello, admin!',
      staffGreeting: 'Hello, staff!',
      orgAdminGreeting: 'Hello, org admin!',
      scopedGreeting: 'Hello, scoped!',
    });
    expect((await run('support', '{ staffGreeting }')).data).toEqual({ staffGreeting: 'Hello, staff!' });
    expect((await run('foreignAdmin', '{ adminGreeting }')).data).toEqual({ adminGreeting: 'Hello, admin!' });
    expect((await run('metadata', '{ scopedGreeting }')).data).toEqual({ scopedGreeting: 'Hello, scoped!' });
  });

  it.each([
    ['support', 'adminGreeting'],
    ['foreignAdmin', 'orgAdminGreeting'],
    ['support', 'scopedGreeting'],
    ['nobody', 'staffGreeting'],
  ] as const)('should forbid %s the %s', async (caller, field) => {
    const result = await run(caller, `{ ${field} }`);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]).toMatchObject({ path: [field], extensions: { code: 'FORBIDDEN' } });
  });
});
