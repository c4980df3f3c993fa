import { SharedValues } from './sharedValues.js';

/**
 * The caller as our resolvers see it, mapped once from ZITADEL's introspection claims and
 * cached. Compact on purpose: no raw response, no token, no `jti`.
 */
export interface Identity {
  /** `sub`; for a token without a subject, the client it was issued to. */
  readonly id: string;
  readonly username: string | null;
  readonly name: string | null;
  readonly givenName: string | null;
  readonly familyName: string | null;
  readonly email: string | null;
  readonly emailVerified: boolean | null;
  readonly locale: string | null;
  /** Role key -> ids of the organizations that granted it. */
  readonly roleGrants: Readonly<Record<string, readonly string[]>>;
  readonly organizationId: string | null;
  readonly scopes: readonly string[];
  readonly clientId: string | null;
  /** Token expiry, Unix seconds. */
  readonly exp: number | null;
}

export type IntrospectionClaims = Readonly<Record<string, unknown>>;

const ROLES_CLAIM = 'urn:zitadel:iam:org:project:roles';
const RESOURCE_OWNER_ID_CLAIM = 'urn:zitadel:iam:user:resourceowner:id';

export interface IdentityOptions {
  /** Also count this project's `urn:zitadel:iam:org:project:<id>:roles`; other projects' never count. */
  readonly projectId?: string | undefined;
}

/**
 * Maps an active introspection response (RFC 7662 §2.2 plus ZITADEL's claims) to an Identity.
 * Defensive: ZITADEL omits profile claims without the `profile` scope, email claims without
 * `email`, and `email_verified` when false. Returns undefined when neither `sub` nor
 * `client_id` names the caller.
 */
export function identityFromClaims(claims: IntrospectionClaims, options: IdentityOptions = {}): Identity | undefined {
  const id = str(claims.sub) ?? str(claims.client_id);
  if (id === null) return undefined;
  const email = str(claims.email);
  return compactIdentity({
    id,
    username: str(claims.username) ?? str(claims.preferred_username),
    name: str(claims.name),
    givenName: str(claims.given_name),
    familyName: str(claims.family_name),
    email,
    emailVerified: email === null ? null : claims.email_verified === true,
    locale: str(claims.locale),
    roleGrants: roleGrants(claims, options.projectId),
    organizationId: str(claims[RESOURCE_OWNER_ID_CLAIM]),
    scopes: typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [],
    clientId: str(claims.client_id),
    exp: typeof claims.exp === 'number' && Number.isFinite(claims.exp) ? claims.exp : null,
  });
}

const shared = new SharedValues();

/**
 * The identity with the values users have in common (scopes, role grants, organization, client,
 * locale) replaced by shared instances: what 100 000 cached identities cost is then mostly what
 * is personal to each (ids, names, email).
 */
export function compactIdentity(identity: Identity): Identity {
  return {
    ...identity,
    locale: shared.string(identity.locale),
    roleGrants: shared.grants(identity.roleGrants),
    organizationId: shared.string(identity.organizationId),
    scopes: shared.list(identity.scopes),
    clientId: shared.string(identity.clientId),
  };
}

/** The role keys, deduplicated and sorted. */
export function roleNames(identity: Identity): string[] {
  return Object.keys(identity.roleGrants).sort();
}

/**
 * Union of the generic roles claim and, when the project is configured, its project-specific
 * one: role -> ids of the granting organizations (the claim maps role -> { orgId: domain }).
 */
function roleGrants(claims: IntrospectionClaims, projectId: string | undefined): Record<string, string[]> {
  const grants: Record<string, string[]> = Object.create(null);
  const sources = [ROLES_CLAIM, ...(projectId === undefined ? [] : [`urn:zitadel:iam:org:project:${projectId}:roles`])];
  for (const claim of sources) {
    const value = claims[claim];
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    for (const [role, orgs] of Object.entries(value)) {
      const orgIds = typeof orgs === 'object' && orgs !== null ? Object.keys(orgs) : [];
      grants[role] = [...new Set([...(grants[role] ?? []), ...orgIds])];
    }
  }
  return grants;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}
