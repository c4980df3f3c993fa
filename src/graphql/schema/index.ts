import { readdirSync, readFileSync } from 'node:fs';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLSchema } from 'graphql';
import { authDirectivesTransformer } from './authDirectives.js';
import type { FederationAuthLink } from '../../config.js';
import { buildSubgraph } from './federation.js';
import { resolvers } from './resolvers/index.js';

/** schema/ at the repository root; the same depth from src/graphql/schema and dist/graphql/schema. */
const SCHEMA_DIR = new URL('../../../schema/', import.meta.url);

/** The SDL of schema/*.graphql, in file-name order. */
export function loadTypeDefs(dir: URL = SCHEMA_DIR): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => readFileSync(new URL(file, dir), 'utf8'));
}

export interface SchemaOptions {
  readonly typeDefs?: readonly string[];
  /** An Apollo Federation 2 subgraph instead of a standalone schema. */
  readonly federation?: boolean;
  /** How the subgraph links its auth directives; default `security`. */
  readonly federationAuthLink?: FederationAuthLink;
}

/** The executable schema: SDL + resolvers, with the auth directives enforced in either form. */
export function buildSchema({ typeDefs = loadTypeDefs(), federation = false, federationAuthLink }: SchemaOptions = {}): GraphQLSchema {
  const schema = federation ? buildSubgraph(typeDefs, resolvers, federationAuthLink) : makeExecutableSchema({ typeDefs: [...typeDefs], resolvers });
  return authDirectivesTransformer(schema);
}
