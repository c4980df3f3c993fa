import { describe, expect, it } from '@jest/globals';
import { getIntrospectionQuery } from 'graphql';
import { pino } from 'pino';
import type { TokenVerifier } from '../../src/auth/verifier.js';
import { loadGraphQLConfig } from '../../src/config.js';
import { createContext } from '../../src/graphql/context.js';
import { buildSchema } from '../../src/graphql/schema/index.js';
import { createApolloServer } from '../../src/graphql/apollo.js';
import { identity } from '../helpers/identity.js';

const logger = pino({ level: 'silent' });
const schema = buildSchema();

/** Counts how often a resolver asked for the caller: zero means nothing ran. */
function countingVerifier() {
  const calls = { count: 0 };
  const v: TokenVerifier = {
    async verify() {
      calls.count += 1;
      return identity({ id: 'alice' });
    },
    known: () => undefined,
  };
  return { v, calls };
}

async function run(env: Record<string, string>, query: string, production = false) {
  const server = createApolloServer({ schema, logger, graphql: loadGraphQLConfig(env, production) });
  const { v, calls } = countingVerifier();
  const res = await server.executeOperation({ query }, { contextValue: createContext(v, { authorization: 'Bearer good' }) });
  if (res.body.kind !== 'single') throw new Error('expected a single result');
  return { status: res.http.status, result: res.body.singleResult, resolved: calls.count };
}

describe('query limits', () => {
  // [variable, value, just under, just over, code]. Cost: objects 2, scalars 1, children x1.5.
  it.each<[string, string, string, string, string]>([
    ['GRAPHQL_MAX_ALIASES', '2', '{ a: hello b: hello }', '{ a: hello b: hello c: hello }', 'TOO_MANY_ALIASES'],
    ['GRAPHQL_MAX_DEPTH', '2', '{ me { id } }', '{ me { ... on User { id } } }', 'QUERY_TOO_DEEP'],
    ['GRAPHQL_MAX_COST', '5', '{ me { id username } }', '{ me { id username name } }', 'QUERY_TOO_COSTLY'],
    [
      'GRAPHQL_MAX_DIRECTIVES',
      '2',
      '{ hello @include(if: true) me @skip(if: false) { id } }',
      '{ hello @include(if: true) me @skip(if: false) { id @include(if: true) } }',
      'TOO_MANY_DIRECTIVES',
    ],
    ['GRAPHQL_MAX_TOKENS', '6', '{ me { id } }', '{ me { id name } }', 'TOO_MANY_TOKENS'],
  ])('%s=%s should pass a query at the limit and refuse one over it with 400', async (variable, value, under, over, code) => {
    const ok = await run({ [variable]: value }, under);
    expect(ok.result.errors).toBeUndefined();
    expect(ok.status).toBeUndefined();
    expect(ok.resolved).toBe(1);

    const refused = await run({ [variable]: value }, over);
    expect(refused.status).toBe(400);
    expect(refused.result.errors).toEqual([{ message: expect.stringContaining(value), extensions: { code, limit: Number(value) } }]);
    expect(refused.result.data).toBeUndefined();
    expect(refused.resolved).toBe(0);
  });

  it('should not echo the query in a limit error', async () => {
    const { result } = await run({ GRAPHQL_MAX_ALIASES: '0' }, '{ secretAlias: hello }');
    expect(result.errors?.[0]?.extensions?.code).toBe('TOO_MANY_ALIASES');
    expect(JSON.stringify(result)).not.toContain('secretAlias');
  });

  it('should leave other syntax errors to Apollo (GRAPHQL_PARSE_FAILED)', async () => {
    const { status, result } = await run({ GRAPHQL_MAX_TOKENS: '6' }, '{ me { id }');
    expect(status).toBe(400);
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('should let the Sandbox’s introspection query through the default limits', async () => {
    const query = getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true });
    const { result } = await run({}, query);
    expect(result.errors).toBeUndefined();
    expect(result.data?.__schema).toBeDefined();
  });
});

describe('field suggestions', () => {
  const suggestion = /Did you mean "hello"\?/;

  it('should suggest field names outside production', async () => {
    const { status, result } = await run({}, '{ helo }');
    expect(status).toBe(400);
    expect(result.errors?.[0]?.message).toMatch(suggestion);
  });

  it('should hide them in production', async () => {
    const { result } = await run({}, '{ helo }', true);
    expect(result.errors?.[0]?.message).toBe('Cannot query field "helo" on type "Query".');
  });

  it('should show them in production with GRAPHQL_INTROSPECTION=1, with introspection', async () => {
    expect((await run({ GRAPHQL_INTROSPECTION: '1' }, '{ helo }', true)).result.errors?.[0]?.message).toMatch(suggestion);
    expect((await run({ GRAPHQL_INTROSPECTION: '1' }, '{ __schema { queryType { name } } }', true)).result.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('should hide them outside production with GRAPHQL_INTROSPECTION=0, with introspection', async () => {
    expect((await run({ GRAPHQL_INTROSPECTION: '0' }, '{ helo }')).result.errors?.[0]?.message).not.toMatch(/Did you mean/);
    const { status, result } = await run({ GRAPHQL_INTROSPECTION: '0' }, '{ __schema { queryType { name } } }');
    expect(status).toBe(400);
    expect(result.errors?.[0]?.message).toMatch(/introspection is not allowed/i);
  });
});
