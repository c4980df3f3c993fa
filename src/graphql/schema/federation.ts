import { buildSubgraphSchema } from '@apollo/subgraph';
import {
  Kind,
  parse,
  print,
  type DefinitionNode,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldDefinitionNode,
  type GraphQLSchema,
} from 'graphql';
import type { FederationAuthLink } from '../../config.js';
import { AUTH_DIRECTIVE_NAMES } from './authDirectives.js';

/** The directives the Federation spec defines itself: with the `security` link the subgraph imports them instead. */
const FEDERATION_AUTH_DIRECTIVES: ReadonlySet<string> = new Set(['authenticated', 'requiresScopes']);

const LINKS: Readonly<Record<FederationAuthLink, string>> = {
  /**
   * Federation 2.5's own `@authenticated` and `@requiresScopes`, which composition links
   * `for: SECURITY` and Apollo Router enforces; `@hasRole` is ours, linked from our own spec URL
   * so `@composeDirective` carries it into the supergraph for the router.
   */
  security: /* GraphQL */ `
    extend schema
      @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@authenticated", "@requiresScopes", "@composeDirective"])
      @link(url: "https://zitadel-graphql-api.dev/authorization/v1.0", import: ["@hasRole"])
      @composeDirective(name: "@hasRole")
  `,
  /**
   * All three from our own spec URL, kept in the supergraph by `@composeDirective`: nothing is
   * linked `for: SECURITY`, which the JavaScript @apollo/gateway refuses to load ("is for:
   * SECURITY but is unsupported"). No gateway enforces them then; the subgraph does, as always.
   */
  composed: /* GraphQL */ `
    extend schema
      @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@composeDirective"])
      @link(url: "https://zitadel-graphql-api.dev/authorization/v1.0", import: ["@authenticated", "@requiresScopes", "@hasRole"])
      @composeDirective(name: "@authenticated")
      @composeDirective(name: "@requiresScopes")
      @composeDirective(name: "@hasRole")
  `,
};

/**
 * Our schema as an Apollo Federation 2 subgraph. `{ _service { sdl } }` serves our SDL as
 * written: the library would reprint `organizationId: "100000000000000001"` as an Int literal,
 * which composition then reads as a JavaScript number and rounds.
 */
export function buildSubgraph(typeDefs: readonly string[], resolvers: object, authLink: FederationAuthLink = 'security'): GraphQLSchema {
  const document = subgraphTypeDefs(typeDefs, authLink);
  const sdl = print(document);
  // Its resolver map type is looser than codegen's Resolvers, which it accepts at runtime.
  type Module = Extract<Parameters<typeof buildSubgraphSchema>[0], { resolvers?: unknown }>;
  const withSdl = { ...resolvers, _Service: { sdl: () => sdl } } as Module['resolvers'];
  return buildSubgraphSchema({ typeDefs: document, resolvers: withSdl });
}

/**
 * The subgraph's SDL: the links first, with the `security` link our definitions of the spec's
 * own directives dropped, and interface-level requirements pushed down onto the implementing
 * types' fields (composition from Federation 2.9 refuses auth directives on interfaces). Pure.
 */
export function subgraphTypeDefs(typeDefs: readonly string[], authLink: FederationAuthLink = 'security'): DocumentNode {
  const definitions = typeDefs
    .flatMap((sdl) => parse(sdl).definitions)
    .filter((d) => authLink !== 'security' || !(d.kind === Kind.DIRECTIVE_DEFINITION && FEDERATION_AUTH_DIRECTIVES.has(d.name.value)));
  return pushInterfaceRequirementsDown({
    kind: Kind.DOCUMENT,
    definitions: [...parse(LINKS[authLink]).definitions, ...definitions],
  });
}

/**
 * Moves every auth directive of an interface (on the interface itself, or on one of its fields)
 * onto the fields of the object types implementing it, the same requirements the standalone
 * schema enforces by inheritance. Pure.
 */
function pushInterfaceRequirementsDown(document: DocumentNode): DocumentNode {
  const isAuth = (directive: ConstDirectiveNode) => AUTH_DIRECTIVE_NAMES.includes(directive.name.value);
  type Inherited = { own: ConstDirectiveNode[]; fields: Map<string, ConstDirectiveNode[]> };
  const inherited = new Map<string, Inherited>();
  for (const d of document.definitions) {
    if (d.kind !== Kind.INTERFACE_TYPE_DEFINITION && d.kind !== Kind.INTERFACE_TYPE_EXTENSION) continue;
    const entry: Inherited = inherited.get(d.name.value) ?? { own: [], fields: new Map() };
    entry.own.push(...(d.directives ?? []).filter(isAuth));
    for (const field of d.fields ?? []) {
      entry.fields.set(field.name.value, [...(entry.fields.get(field.name.value) ?? []), ...(field.directives ?? []).filter(isAuth)]);
    }
    inherited.set(d.name.value, entry);
  }
  // A type may list its interfaces in one extension and its fields in another.
  const interfacesOf = new Map<string, string[]>();
  for (const d of document.definitions) {
    if (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) {
      interfacesOf.set(d.name.value, [...(interfacesOf.get(d.name.value) ?? []), ...(d.interfaces ?? []).map((i) => i.name.value)]);
    }
  }

  const withDirectives = (field: FieldDefinitionNode, extra: ConstDirectiveNode[]): FieldDefinitionNode => {
    const directives = [...(field.directives ?? [])];
    for (const directive of extra) {
      if (!directives.some((existing) => print(existing) === print(directive))) directives.push(directive);
    }
    return { ...field, directives };
  };

  const definitions = document.definitions.map((d): DefinitionNode => {
    if (d.kind === Kind.INTERFACE_TYPE_DEFINITION || d.kind === Kind.INTERFACE_TYPE_EXTENSION) {
      return {
        ...d,
        directives: (d.directives ?? []).filter((x) => !isAuth(x)),
        fields: (d.fields ?? []).map((f) => ({ ...f, directives: (f.directives ?? []).filter((x) => !isAuth(x)) })),
      };
    }
    if (d.kind === Kind.OBJECT_TYPE_DEFINITION || d.kind === Kind.OBJECT_TYPE_EXTENSION) {
      const sources = (interfacesOf.get(d.name.value) ?? []).flatMap((name) => {
        const entry = inherited.get(name);
        return entry ? [entry] : [];
      });
      if (sources.length === 0) return d;
      return {
        ...d,
        fields: (d.fields ?? []).map((field) =>
          withDirectives(field, sources.flatMap((entry) => [...entry.own, ...(entry.fields.get(field.name.value) ?? [])])),
        ),
      };
    }
    return d;
  });
  return { ...document, definitions };
}
