import { MapperKind, getDirective, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import type { GraphQLContext } from '../context.js';
import { toGraphQLError } from '../errors.js';

export const AUTHENTICATED_DIRECTIVE = 'authenticated';

type Resolver = GraphQLFieldResolver<unknown, GraphQLContext>;

/**
 * Whether a field of an object type is protected: by `@authenticated` on the field, on its
 * type, on an interface the type implements, or on that interface's field of the same name.
 * Pure; reads the schema only.
 */
export function isAuthenticatedField(schema: GraphQLSchema, type: GraphQLObjectType, fieldName: string): boolean {
  const has = (node: Parameters<typeof getDirective>[1]) => getDirective(schema, node, AUTHENTICATED_DIRECTIVE) !== undefined;
  const field = type.getFields()[fieldName];
  if ((field && has(field)) || has(type)) return true;
  return type.getInterfaces().some((iface) => {
    const ifaceField = iface.getFields()[fieldName];
    return has(iface) || (ifaceField !== undefined && has(ifaceField));
  });
}

/**
 * Makes every protected field (including default-resolved ones and `subscribe`) ask the
 * request's RequestAuth for the caller before it resolves. Public fields are left untouched.
 */
export function authDirectiveTransformer(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig, fieldName, typeName, original) => {
      const type = original.getType(typeName) as GraphQLObjectType;
      return isAuthenticatedField(original, type, fieldName) ? guardField(fieldConfig) : fieldConfig;
    },
  });
}

function guardField(fieldConfig: GraphQLFieldConfig<unknown, GraphQLContext>): GraphQLFieldConfig<unknown, GraphQLContext> {
  const { resolve = defaultFieldResolver, subscribe } = fieldConfig;
  return { ...fieldConfig, resolve: guard(resolve), ...(subscribe ? { subscribe: guard(subscribe) } : {}) };
}

function guard(next: Resolver): Resolver {
  return (source, args, context, info) => {
    // Hot path: once the caller is known, no promise is made per field.
    if (context.auth.current) return next(source, args, context, info);
    return context.auth.require().then(
      () => next(source, args, context, info),
      (error: unknown) => {
        throw toGraphQLError(error);
      },
    );
  };
}
