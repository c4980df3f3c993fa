import { readdirSync, readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { authDirectiveTransformer } from './authDirective.js';
import { resolvers } from './resolvers/index.js';

/** schema/ at the repository root; the same depth from src/schema and dist/schema. */
const SCHEMA_DIR = new URL('../../schema/', import.meta.url);

/** The SDL of schema/*.graphql, in file-name order. */
export function loadTypeDefs(dir: URL = SCHEMA_DIR): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => readFileSync(new URL(file, dir), 'utf8'));
}

/** The executable schema: SDL + resolvers, with `@authenticated` enforced. */
export function buildSchema(typeDefs: string[] = loadTypeDefs()): GraphQLSchema {
  return authDirectiveTransformer(makeExecutableSchema({ typeDefs, resolvers }));
}
