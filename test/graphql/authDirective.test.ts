import { describe, expect, it } from '@jest/globals';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { ApolloServer } from '@apollo/server';
import { parse, subscribe } from 'graphql';
import { pino } from 'pino';
import { identity } from '../helpers/identity.js';
import { execute, fakeVerifier } from '../helpers/operation.js';
import type { TokenVerifier } from '../../src/auth/verifier.js';
import { loadGraphQLConfig } from '../../src/config.js';
import { AuthError } from '../../src/auth/errors.js';
import { createContext, type GraphQLContext } from '../../src/graphql/context.js';
import { translateDomainError } from '../../src/graphql/errors.js';
import { authDirectivesTransformer } from '../../src/graphql/schema/authDirectives.js';
import { buildSchema, loadTypeDefs } from '../../src/graphql/schema/index.js';
import { createApolloServer } from '../../src/graphql/apollo.js';

const ALICE = identity({
  id: 'alice',
  username: 'alice@acme',
  name: 'Alice',
  roleGrants: { writer: ['1'], admin: ['1'] },
  organizationId: '1',
  scopes: ['openid'],
  clientId: 'app',
  exp: 1_900_000_000,
});

function verifier(behaviour: 'ok' | 'down' = 'ok') {
  const { verifier: v, calls } = fakeVerifier({ good: ALICE }, behaviour);
  return { v, calls };
}

const TEST_SDL = /* GraphQL */ `
  directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE
  type Query {
    open: String
    closed: String @authenticated
    "No directive: the resolver asks for the caller itself."
    mine: String
    secretDoc: Document
    node: Node
    account: Account
    note: Note
  }
  "Every field protected, all default-resolved."
  type Document @authenticated { id: ID! title: String }
  interface Node @authenticated { id: ID! }
  type Account implements Node { id: ID! owner: String }
  interface Titled { title: String @authenticated summary: String }
  type Note implements Titled { title: String summary: String }
`;

const testSchema = authDirectivesTransformer(
  makeExecutableSchema({
    typeDefs: TEST_SDL,
    resolvers: {
      Query: {
        open: () => 'open',
        closed: () => 'closed',
        mine: (_source: unknown, _args: unknown, context: GraphQLContext) => context.auth.require().then((caller) => caller.id),
        secretDoc: () => ({ id: 'd1', title: 'plans' }),
        node: () => ({ id: 'a1', owner: 'alice', __typename: 'Account' }),
        account: () => ({ id: 'a1', owner: 'alice' }),
        note: () => ({ title: 'T', summary: 'S' }),
      },
      Node: { __resolveType: () => 'Account' },
      Titled: { __resolveType: () => 'Note' },
    },
  }),
);

const logger = pino({ level: 'silent' });
const testServer = createApolloServer({ schema: testSchema, logger, graphql: loadGraphQLConfig({}, false) });

describe('@authenticated', () => {
  it('should leave a public field public', async () => {
    const { v, calls } = verifier();
    const { result, status } = await execute(testServer, '{ open }', undefined, v);
    expect(result).toEqual({ data: { open: 'open' } });
    expect(status).toBeUndefined();
    expect(calls.count).toBe(0);
  });

  it('should refuse a protected field to an anonymous caller', async () => {
    const { v } = verifier();
    const { result } = await execute(testServer, '{ closed }', undefined, v);
    expect(result.data).toEqual({ closed: null });
    expect(result.errors?.[0]).toMatchObject({ path: ['closed'], extensions: { code: 'UNAUTHENTICATED', reason: 'missing_token' } });
  });

  it('should resolve a protected field for a valid caller', async () => {
    const { v } = verifier();
    expect((await execute(testServer, '{ closed }', 'good', v)).result).toEqual({ data: { closed: 'closed' } });
  });

  it('should protect default-resolved fields of an @authenticated type', async () => {
    const { v } = verifier();
    const anon = await execute(testServer, '{ open secretDoc { id title } }', undefined, v);
    expect(anon.result.data).toEqual({ open: 'open', secretDoc: null });
    expect(anon.result.errors?.map((e) => e.path?.join('.')).sort()).toEqual(['secretDoc.id', 'secretDoc.title']);
    expect((await execute(testServer, '{ secretDoc { id title } }', 'good', v)).result.data).toEqual({ secretDoc: { id: 'd1', title: 'plans' } });
  });

  it('should protect the fields of every type implementing an @authenticated interface', async () => {
    const { v } = verifier();
    for (const query of ['{ account { owner } }', '{ node { id } }', '{ node { ... on Account { owner } } }']) {
      const { result } = await execute(testServer, query, 'bad', v);
      expect(result.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
    expect((await execute(testServer, '{ account { id owner } }', 'good', v)).result.data).toEqual({ account: { id: 'a1', owner: 'alice' } });
  });

  it('should protect an implementing field when the interface field is @authenticated, and only that one', async () => {
    const { v } = verifier();
    const { result } = await execute(testServer, '{ note { title summary } }', undefined, v);
    expect(result.data).toEqual({ note: { title: null, summary: 'S' } });
    expect(result.errors?.map((e) => e.path)).toEqual([['note', 'title']]);
  });

  it('should verify the token at most once per operation however many protected fields resolve', async () => {
    const { v, calls } = verifier();
    await execute(testServer, '{ closed secretDoc { id title } account { id owner } c2: closed }', 'good', v);
    expect(calls.count).toBe(1);
  });

  it('should report an unreachable provider with its own code, not as UNAUTHENTICATED', async () => {
    const { v } = verifier('down');
    const { result } = await execute(testServer, '{ closed }', 'good', v);
    expect(result.errors?.[0]?.extensions).toEqual({ code: 'AUTH_PROVIDER_UNAVAILABLE', retryAfterSeconds: 9 });
  });
});

describe('context.auth.require() in a resolver without a directive', () => {
  it.each<[string, string | undefined, 'ok' | 'down', number, Record<string, unknown>]>([
    ['an anonymous caller', undefined, 'ok', 401, { code: 'UNAUTHENTICATED', reason: 'missing_token' }],
    ['a rejected token', 'bad', 'ok', 401, { code: 'UNAUTHENTICATED', reason: 'invalid_token' }],
    ['an unreachable provider', 'good', 'down', 503, { code: 'AUTH_PROVIDER_UNAVAILABLE', retryAfterSeconds: 9 }],
  ])('should answer %s as a directive would, translated once', async (_name, token, behaviour, status, extensions) => {
    const { v } = verifier(behaviour);
    const { result, status: http } = await execute(testServer, '{ mine }', token, v);
    expect(http).toBe(status);
    expect(result.data).toEqual({ mine: null });
    expect(result.errors?.[0]).toMatchObject({ path: ['mine'], extensions });
  });

  it('should answer the caller', async () => {
    const { v } = verifier();
    expect((await execute(testServer, '{ mine }', 'good', v)).result).toEqual({ data: { mine: 'alice' } });
  });
});

describe('@authenticated on a subscription field', () => {
  const schema = authDirectivesTransformer(
    makeExecutableSchema({
      typeDefs: /* GraphQL */ `
        directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE
        type Query { open: String }
        type Subscription { ticks: Int @authenticated }
      `,
      resolvers: {
        Subscription: {
          ticks: {
            subscribe: async function* () {
              yield { ticks: 1 };
            },
          },
        },
      },
    }),
  );

  async function subscribeAs(token: string | undefined) {
    const { v, calls } = verifier();
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const result = await subscribe({ schema, document: parse('subscription { ticks }'), contextValue: createContext(v, headers) });
    return { result, calls };
  }

  it('should refuse to subscribe an anonymous caller, with the domain error a transport translates once', async () => {
    const { result } = await subscribeAs(undefined);
    const error = 'errors' in result ? result.errors?.[0] : undefined;
    expect(error?.originalError).toBeInstanceOf(AuthError);
    expect(translateDomainError(error?.originalError)?.extensions).toEqual({ code: 'UNAUTHENTICATED', reason: 'missing_token' });
  });

  it('should let a valid caller subscribe, verifying the token once', async () => {
    const { result, calls } = await subscribeAs('good');
    if (!(Symbol.asyncIterator in result)) throw new Error('expected a stream');
    const first = await result[Symbol.asyncIterator]().next();
    expect(first.value).toEqual({ data: { ticks: 1 } });
    expect(calls.count).toBe(1);
  });
});

describe('the product schema', () => {
  const server = createApolloServer({ schema: buildSchema(), logger, graphql: loadGraphQLConfig({}, false) });

  it('should declare hello and me as @authenticated in schema/', () => {
    const sdl = loadTypeDefs().join('\n');
    expect(sdl).toMatch(/hello: String! @authenticated/);
    expect(sdl).toMatch(/me: User @authenticated/);
  });

  it('should greet and describe a valid caller', async () => {
    const { v } = verifier();
    const { result } = await execute(server, '{ hello me { id username roles organizationId scopes expiresAt } }', 'good', v);
    expect(result.data).toEqual({
      hello: 'Hello World!',
      me: { id: 'alice', username: 'alice@acme', roles: ['admin', 'writer'], organizationId: '1', scopes: ['openid'], expiresAt: new Date(1_900_000_000_000).toISOString() },
    });
  });

  it('should mask an unexpected resolver error and never send a stack trace', async () => {
    const broken: TokenVerifier = {
      async verify() {
        throw new TypeError('secret internal detail');
      },
      known: () => undefined,
    };
    const { result } = await execute(server, '{ hello }', 'good', broken);
    expect(result.errors?.[0]).toMatchObject({ message: 'Internal server error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(result)).not.toMatch(/secret internal detail|stacktrace/);
  });
});
