import type { Identity } from './identity.js';

/**
 * What a caller must have to resolve a field, as the schema's directives declare it. Pure data;
 * `unmet` decides against an Identity without I/O.
 */
export type Requirement =
  /** `@authenticated`: any verified caller. */
  | { readonly kind: 'authenticated' }
  /** `@requiresScopes`: all scopes of at least one inner list (Apollo Federation semantics). */
  | { readonly kind: 'scopes'; readonly anyOf: readonly (readonly string[])[] }
  /** `@hasRole`: any of the roles, granted in `organizationId` when set. */
  | { readonly kind: 'role'; readonly roles: readonly string[]; readonly organizationId: string | null };

/** Undefined when the identity meets the requirement; otherwise what it lacks, for the client. */
export function unmet(requirement: Requirement, identity: Identity): string | undefined {
  switch (requirement.kind) {
    case 'authenticated':
      return undefined;
    case 'scopes': {
      // Unknown scopes (null) meet no requirement: fail closed.
      const held = new Set(identity.scopes);
      return requirement.anyOf.some((all) => all.every((scope) => held.has(scope))) ? undefined : describe(requirement);
    }
    case 'role': {
      const { roles, organizationId } = requirement;
      const granted = roles.some((role) => {
        const orgs = Object.hasOwn(identity.roleGrants, role) ? identity.roleGrants[role] : undefined;
        // Organization ids are compared as strings: ZITADEL's 18-digit ids exceed exact JS numbers.
        return orgs !== undefined && (organizationId === null || orgs.includes(organizationId));
      });
      return granted ? undefined : describe(requirement);
    }
  }
}

/** The requirement in words, naming only what the schema declares. */
export function describe(requirement: Requirement): string {
  switch (requirement.kind) {
    case 'authenticated':
      return 'an authenticated caller';
    case 'scopes':
      return requirement.anyOf.map((all) => (all.length === 1 ? `scope ${all[0]}` : `scopes ${all.join(' and ')}`)).join(', or ');
    case 'role': {
      const roles = requirement.roles.length === 1 ? `role ${requirement.roles[0]}` : `one of the roles ${requirement.roles.join(', ')}`;
      return requirement.organizationId === null ? roles : `${roles} in organization ${requirement.organizationId}`;
    }
  }
}
