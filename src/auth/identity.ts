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
  /**
   * The token's scopes; null when unknown: ZITADEL's JWT access tokens carry none, so a JWT
   * validated locally has them only once introspection has been asked.
   */
  readonly scopes: readonly string[] | null;
  readonly clientId: string | null;
  /** Token expiry, Unix seconds. */
  readonly exp: number | null;
}

export type IntrospectionClaims = Readonly<Record<string, unknown>>;

const ROLES_CLAIM = 'urn:zitadel:iam:org:project:roles';
const RESOURCE_OWNER_ID_CLAIM = 'urn:zitadel:iam:user:resourceowner:id';

export interface IdentityOptions {
  /**
   * ZITADEL_PROJECT_ID. Set: roles come only from `urn:zitadel:iam:org:project:<id>:roles`.
   * Unset: from the generic `urn:zitadel:iam:org:project:roles`, which holds the roles of the
   * project of the application that requested the token; only introspection (which fills it
   * with the introspecting project's roles) can be trusted with it.
   */
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

/**
 * Maps the verified payload of a ZITADEL JWT access token to an Identity. Such a token carries
 * no scopes and no profile or email claims (zitadel `internal/api/oidc/token.go`, `createJWT`),
 * so those stay unknown (null) whatever else the payload holds; roles, organization and
 * metadata claims are ZITADEL's own and read as introspection's are.
 */
export function identityFromAccessTokenJwt(payload: IntrospectionClaims, options: IdentityOptions): Identity | undefined {
  const identity = identityFromClaims(payload, options);
  return (
    identity && {
      ...identity,
      username: null,
      name: null,
      givenName: null,
      familyName: null,
      email: null,
      emailVerified: null,
      locale: null,
      scopes: null,
    }
  );
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
    scopes: identity.scopes === null ? null : shared.list(identity.scopes),
    clientId: shared.string(identity.clientId),
  };
}

/** The role keys, deduplicated and sorted. */
export function roleNames(identity: Identity): string[] {
  return Object.keys(identity.roleGrants).sort();
}

/**
 * Role -> ids of the granting organizations (the claim maps role -> { orgId: domain }), from
 * the project's own claim when the project is known, else from the generic one (see
 * IdentityOptions). The generic claim of a JWT that another project's application obtained
 * for our audience holds that project's roles: with a project id it never counts.
 */
function roleGrants(claims: IntrospectionClaims, projectId: string | undefined): Record<string, string[]> {
  const grants: Record<string, string[]> = Object.create(null);
  const value = claims[projectId === undefined ? ROLES_CLAIM : `urn:zitadel:iam:org:project:${projectId}:roles`];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return grants;
  for (const [role, orgs] of Object.entries(value)) {
    grants[role] = typeof orgs === 'object' && orgs !== null ? Object.keys(orgs) : [];
  }
  return grants;
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}
