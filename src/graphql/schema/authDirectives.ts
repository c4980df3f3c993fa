import { MapperKind, getDirective, mapSchema } from '@graphql-tools/utils';
import {
  defaultFieldResolver,
  getNamedType,
  isEnumType,
  isIntrospectionType,
  isObjectType,
  isScalarType,
  type GraphQLFieldConfig,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { describe, unmet, type Identity, type Requirement } from '../../auth/index.js';
import type { GraphQLContext } from '../context.js';
import { forbidden, scopesUnknown } from '../errors.js';

type Resolver = GraphQLFieldResolver<unknown, GraphQLContext>;
type DirectiveArgs = Record<string, unknown>;

/**
 * The authorization directives and the requirement each declares. Adding one is a row here:
 * collecting, composing and enforcing are shared. Argument mistakes fail at startup.
 */
const AUTH_DIRECTIVES: Readonly<Record<string, (args: DirectiveArgs, where: string) => Requirement>> = {
  authenticated: () => ({ kind: 'authenticated' }),
  requiresScopes: (args, where) => ({
    kind: 'scopes',
    anyOf: nonEmptyList(args.scopes, `@requiresScopes(scopes:) on ${where}`).map((all, i) =>
      nonEmptyList(all, `@requiresScopes(scopes:) list ${i + 1} on ${where}`),
    ),
  }),
  hasRole: (args, where) => ({
    kind: 'role',
    roles: nonEmptyList(args.roles, `@hasRole(roles:) on ${where}`),
    organizationId: typeof args.organizationId === 'string' ? args.organizationId : null,
  }),
};

export const AUTH_DIRECTIVE_NAMES: readonly string[] = Object.keys(AUTH_DIRECTIVES);

/**
 * Every requirement on a field of an object type: the field's own directives, its type's, those
 * of each interface the type implements (on the interface or on its field of that name), and
 * those of the scalar or enum it returns (as Apollo Federation places them). All must hold.
 * Pure; reads the schema only. Empty: a public field.
 */
export function fieldRequirements(schema: GraphQLSchema, type: GraphQLObjectType, fieldName: string): Requirement[] {
  const field = type.getFields()[fieldName];
  const returned = field && getNamedType(field.type);
  const sources = [
    { node: field, where: `${type.name}.${fieldName}` },
    { node: type, where: type.name },
    ...(returned && (isScalarType(returned) || isEnumType(returned)) ? [{ node: returned, where: returned.name }] : []),
    ...type.getInterfaces().flatMap((iface) => [
      { node: iface, where: iface.name },
      { node: iface.getFields()[fieldName], where: `${iface.name}.${fieldName}` },
    ]),
  ];
  const found = new Map<string, Requirement>();
  for (const { node, where } of sources) {
    if (!node) continue;
    for (const [name, toRequirement] of Object.entries(AUTH_DIRECTIVES)) {
      for (const args of getDirective(schema, node, name) ?? []) {
        const requirement = toRequirement(args, where);
        found.set(JSON.stringify(requirement), requirement);
      }
    }
  }
  return [...found.values()];
}

/** `Type.field` of every field that some `@requiresScopes` guards. Pure. */
export function fieldsRequiringScopes(schema: GraphQLSchema): string[] {
  return Object.values(schema.getTypeMap())
    .filter((type): type is GraphQLObjectType => isObjectType(type) && !isIntrospectionType(type))
    .flatMap((type) =>
      Object.keys(type.getFields())
        .filter((field) => fieldRequirements(schema, type, field).some((requirement) => requirement.kind === 'scopes'))
        .map((field) => `${type.name}.${field}`),
    );
}

/**
 * Makes every field with requirements (including default-resolved fields and `subscribe`) verify
 * the caller first, then check each requirement: authentication before authorization, so an
 * anonymous caller is UNAUTHENTICATED, never FORBIDDEN. Public fields are left untouched.
 */
export function authDirectivesTransformer(schema: GraphQLSchema): GraphQLSchema {
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (fieldConfig, fieldName, typeName, original) => {
      const requirements = fieldRequirements(original, original.getType(typeName) as GraphQLObjectType, fieldName);
      return requirements.length > 0 ? guardField(fieldConfig, requirements) : fieldConfig;
    },
  });
}

function guardField(
  fieldConfig: GraphQLFieldConfig<unknown, GraphQLContext>,
  requirements: readonly Requirement[],
): GraphQLFieldConfig<unknown, GraphQLContext> {
  const checks = requirements.filter((r) => r.kind !== 'authenticated');
  const { resolve = defaultFieldResolver, subscribe } = fieldConfig;
  return {
    ...fieldConfig,
    resolve: guard(resolve, checks),
    ...(subscribe ? { subscribe: guard(subscribe, checks) } : {}),
  };
}

function guard(next: Resolver, checks: readonly Requirement[]): Resolver {
  const needsScopes = checks.some((requirement) => requirement.kind === 'scopes');
  const authorize = (identity: Identity) => {
    if (checks.length === 0) return;
    const unmetChecks = checks.filter((requirement) => unmet(requirement, identity) !== undefined);
    if (unmetChecks.length === 0) return;
    const missing = unmetChecks.map(describe).join(' and ');
    // Unknown scopes explain a refusal only when a scope requirement is what failed.
    throw identity.scopes === null && unmetChecks.some((requirement) => requirement.kind === 'scopes') ? scopesUnknown(missing) : forbidden(missing);
  };
  return (source, args, context, info) => {
    // Hot path: once the caller is known, no promise is made per field.
    const known = context.auth.current;
    if (known && (!needsScopes || known.scopes !== null)) {
      authorize(known);
      return next(source, args, context, info);
    }
    // A locally validated JWT knows no scopes: requireScopes learns them once, by introspection.
    // A rejection (AuthError, ProviderUnavailableError, ...) is translated by formatError.
    return (needsScopes ? context.auth.requireScopes() : context.auth.require()).then((identity) => {
      authorize(identity);
      return next(source, args, context, info);
    });
  };
}

function nonEmptyList(value: unknown, what: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`${what} must be a non-empty list`);
  return value as string[];
}
