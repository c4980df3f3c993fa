/**
 * The development issuer's instance: its organizations, projects, applications and users, and
 * the claims ZITADEL derives from them for a granted scope. Pure data and functions; the
 * issuer (issuer.ts) serves them.
 */

/** Role -> { orgId: orgPrimaryDomain }, as ZITADEL's roles claims spell a user's grants. */
type RoleClaim = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** A user in the development directory. */
export interface DevUser {
  readonly sub: string;
  readonly username: string;
  readonly name?: string;
  readonly givenName?: string;
  readonly familyName?: string;
  readonly email?: string;
  readonly emailVerified?: boolean;
  readonly locale?: string;
  /** Grants in the development project (the API's). */
  readonly roles?: RoleClaim;
  /** Grants in a second project of the instance, whose front end may ask for the API's audience. */
  readonly otherProjectRoles?: RoleClaim;
  readonly organizationId?: string;
  readonly organizationName?: string;
  readonly organizationDomain?: string;
  /** User metadata, sent base64url-encoded with the `urn:zitadel:iam:user:metadata` scope. */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A user who can log in on the issuer's login page. */
export interface DemoAccount {
  readonly user: DevUser;
  /** Fixed, so a front end's own login tests keep working across restarts (loopback only). */
  readonly password: string;
  /** What the login page and the start output say the account is for. */
  readonly description: string;
}

export const DEV_ORG_ID = '100000000000000001';
export const PROJECT_ID = '100000000000000002';
/** A second project of the instance, with a front end of its own. */
export const OTHER_PROJECT_ID = '100000000000000007';
/** A second organization, to which the development project is granted (a ZITADEL project grant). */
export const ACME_ORG_ID = '100000000000000009';
const API_APP_ID = '100000000000000003';
const API_KEY_ID = '100000000000000004';
/** The ids of the development API application and its key, as in its key file. */
export const DEV_API_APPLICATION = { keyId: API_KEY_ID, appId: API_APP_ID, clientId: `${API_APP_ID}@demo` } as const;
export const BASIC_CLIENT_ID = '100000000000000005@demo';
/** The development project's front end: a ZITADEL "User Agent" application with PKCE. */
export const FRONTEND_CLIENT_ID = '100000000000000006@demo';
export const OTHER_FRONTEND_CLIENT_ID = '100000000000000008@other';

export const DEMO_USER: DevUser = {
  sub: '200000000000000001',
  username: 'road.runner@demo.localhost',
  name: 'Road Runner',
  givenName: 'Road',
  familyName: 'Runner',
  email: 'road.runner@demo.localhost',
  emailVerified: true,
  locale: 'en',
  roles: { admin: { [DEV_ORG_ID]: 'demo.localhost' } },
  organizationId: DEV_ORG_ID,
  organizationName: 'Demo',
  organizationDomain: 'demo.localhost',
};

/** The login page's users: an admin, an admin granted by another organization, and one without roles. */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { user: DEMO_USER, password: 'RoadRunner1!', description: 'admin, granted by Demo (the project\'s organization)' },
  {
    user: {
      sub: '200000000000000002',
      username: 'wile.e.coyote@acme.localhost',
      name: 'Wile E. Coyote',
      givenName: 'Wile E.',
      familyName: 'Coyote',
      email: 'wile.e.coyote@acme.localhost',
      emailVerified: true,
      locale: 'en',
      roles: { admin: { [ACME_ORG_ID]: 'acme.localhost' } },
      organizationId: ACME_ORG_ID,
      organizationName: 'Acme',
      organizationDomain: 'acme.localhost',
    },
    password: 'WileCoyote1!',
    description: 'admin, granted by Acme (another organization, through a project grant)',
  },
  {
    user: {
      sub: '200000000000000003',
      username: 'guest@demo.localhost',
      name: 'Guest User',
      givenName: 'Guest',
      familyName: 'User',
      email: 'guest@demo.localhost',
      locale: 'en',
      organizationId: DEV_ORG_ID,
      organizationName: 'Demo',
      organizationDomain: 'demo.localhost',
    },
    password: 'GuestUser1!',
    description: 'no roles',
  },
];

const METADATA_SCOPE = 'urn:zitadel:iam:user:metadata';
/** Without it ZITADEL sends no `urn:zitadel:iam:user:resourceowner:*` claims. */
const RESOURCE_OWNER_SCOPE = 'urn:zitadel:iam:user:resourceowner';
/** Asks for a roles claim of every project named by an audience scope. */
const PROJECTS_ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
const audienceScope = (projectId: string) => `urn:zitadel:iam:org:project:id:${projectId}:aud`;
const AUDIENCE_SCOPE = /^urn:zitadel:iam:org:project:id:(\d+):aud$/;
const GENERIC_ROLES_CLAIM = 'urn:zitadel:iam:org:project:roles';
const projectRolesClaim = (projectId: string) => `urn:zitadel:iam:org:project:${projectId}:roles`;
const RESOURCE_OWNER_CLAIMS = ['id', 'name', 'primary_domain'].map((suffix) => `${RESOURCE_OWNER_SCOPE}:${suffix}`);

/** What a front end of the development project asks for (the printed token's scope). */
const DEFAULT_SCOPE = `openid profile email ${PROJECTS_ROLES_SCOPE} ${RESOURCE_OWNER_SCOPE}`;

/** What a front end asks for to call the API, roles included, and to stay logged in. */
export const FRONTEND_SCOPE = `openid profile email offline_access ${audienceScope(PROJECT_ID)} ${PROJECTS_ROLES_SCOPE} ${RESOURCE_OWNER_SCOPE}`;

/** Every scope the instance knows: oidc-provider drops others from a request. */
export const SCOPES = [
  'openid',
  'profile',
  'email',
  'offline_access',
  METADATA_SCOPE,
  RESOURCE_OWNER_SCOPE,
  PROJECTS_ROLES_SCOPE,
  audienceScope(PROJECT_ID),
  audienceScope(OTHER_PROJECT_ID),
  // The role scopes of the development project's roles (the schema's `admin` and `support`).
  ...['admin', 'support'].map((role) => `urn:zitadel:iam:org:project:role:${role}`),
];

/** A front-end application of the instance. */
export interface Application {
  readonly clientId: string;
  readonly projectId: string;
  readonly defaultScope: string;
}

export type RequestingApplication = 'this-project' | 'other-project';

export const APPLICATIONS: Readonly<Record<RequestingApplication, Application>> = {
  'this-project': { clientId: FRONTEND_CLIENT_ID, projectId: PROJECT_ID, defaultScope: DEFAULT_SCOPE },
  'other-project': { clientId: OTHER_FRONTEND_CLIENT_ID, projectId: OTHER_PROJECT_ID, defaultScope: `openid ${audienceScope(PROJECT_ID)} ${PROJECTS_ROLES_SCOPE}` },
};

export function applicationOf(clientId: string): Application | undefined {
  return Object.values(APPLICATIONS).find((application) => application.clientId === clientId);
}

function rolesIn(user: DevUser, projectId: string): RoleClaim | undefined {
  const roles = projectId === PROJECT_ID ? user.roles : projectId === OTHER_PROJECT_ID ? user.otherProjectRoles : undefined;
  return roles && Object.keys(roles).length > 0 ? roles : undefined;
}

/** Projects an audience scope named. */
function audienceProjects(scopes: ReadonlySet<string>): string[] {
  return [...scopes].flatMap((scope) => AUDIENCE_SCOPE.exec(scope)?.[1] ?? []);
}

/** `aud`: the client, its project, and every project an audience scope asked for (ZITADEL adds them unchecked). */
export function audience(application: Application, scopes: ReadonlySet<string>): string[] {
  return [...new Set([application.clientId, application.projectId, ...audienceProjects(scopes)])];
}

/**
 * The claims ZITADEL derives from scopes alone, in introspection answers, userinfo and JWT
 * access tokens alike (zitadel `userinfo.go`): user metadata, and the organization only with
 * RESOURCE_OWNER_SCOPE.
 */
export function scopedClaims(user: DevUser, scopes: ReadonlySet<string>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.has(METADATA_SCOPE) && user.metadata) {
    claims[METADATA_SCOPE] = Object.fromEntries(Object.entries(user.metadata).map(([key, value]) => [key, Buffer.from(value).toString('base64url')]));
  }
  if (scopes.has(RESOURCE_OWNER_SCOPE) && user.organizationId) {
    const [id, name, domain] = RESOURCE_OWNER_CLAIMS as [string, string, string];
    claims[id] = user.organizationId;
    claims[name] = user.organizationName;
    claims[domain] = user.organizationDomain;
  }
  return claims;
}

/** Asks for one role of the requesting application's project. */
const ROLE_SCOPE = /^urn:zitadel:iam:org:project:role:(.+)$/;

/** The roles of `roles` whose keys are listed. */
function only(roles: RoleClaim | undefined, keys: readonly string[]): RoleClaim | undefined {
  const kept = roles && Object.entries(roles).filter(([key]) => keys.includes(key));
  return kept && kept.length > 0 ? Object.fromEntries(kept) : undefined;
}

/**
 * The roles claims of a JWT access token or a userinfo answer (zitadel `userinfo.go`,
 * `assertRoles`). The development projects do not assert roles on authentication, so roles come
 * only when a scope asks: PROJECTS_ROLES_SCOPE for the requesting application's project (in the
 * generic claim and its own) and the own claim of every audience project, a role scope for that
 * role of the application's project.
 */
export function jwtRoleClaims(user: DevUser, application: Application, scopes: ReadonlySet<string>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  const allRoles = scopes.has(PROJECTS_ROLES_SCOPE);
  const requested = [...scopes].flatMap((scope) => ROLE_SCOPE.exec(scope)?.[1] ?? []);
  const own = allRoles ? rolesIn(user, application.projectId) : only(rolesIn(user, application.projectId), requested);
  if (own) {
    claims[GENERIC_ROLES_CLAIM] = own;
    claims[projectRolesClaim(application.projectId)] = own;
  }
  if (allRoles) {
    for (const projectId of audienceProjects(scopes)) {
      const roles = rolesIn(user, projectId);
      if (roles) claims[projectRolesClaim(projectId)] = roles;
    }
  }
  return claims;
}

function profileClaims(user: DevUser, scopes: ReadonlySet<string>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.has('profile')) {
    Object.assign(claims, {
      preferred_username: user.username,
      name: user.name,
      given_name: user.givenName,
      family_name: user.familyName,
      locale: user.locale,
    });
  }
  if (scopes.has('email') && user.email) {
    claims.email = user.email;
    // ZITADEL omits email_verified when it is false.
    if (user.emailVerified) claims.email_verified = true;
  }
  return claims;
}

/**
 * ZITADEL's introspection claims for a user, by granted scope (see ../shared ZITADEL.md). Roles
 * are always the introspecting API application's project's, in both claims
 * (`introspect.go`, `currentProjectOnly`), whichever application obtained the token.
 */
export function zitadelClaims(user: DevUser, scopes: ReadonlySet<string>): Record<string, unknown> {
  const claims: Record<string, unknown> = profileClaims(user, scopes);
  if (scopes.has('profile')) claims.username = user.username;
  const roles = rolesIn(user, PROJECT_ID);
  if (roles) {
    claims[GENERIC_ROLES_CLAIM] = roles;
    claims[projectRolesClaim(PROJECT_ID)] = roles;
  }
  return { ...claims, ...scopedClaims(user, scopes) };
}

/**
 * What ZITADEL's userinfo endpoint answers a front end: profile and email by scope, the
 * organization and metadata by scope, and the roles as in a JWT access token.
 */
export function userinfoClaims(user: DevUser, application: Application, scopes: ReadonlySet<string>): Record<string, unknown> {
  return { ...profileClaims(user, scopes), ...jwtRoleClaims(user, application, scopes), ...scopedClaims(user, scopes) };
}

/** Claim names by scope, as oidc-provider wants them declared to release them (`amr`: in the ID token). */
export const CLAIMS_BY_SCOPE: Readonly<Record<string, readonly string[]>> = {
  openid: ['sub', 'amr', GENERIC_ROLES_CLAIM, projectRolesClaim(PROJECT_ID), projectRolesClaim(OTHER_PROJECT_ID)],
  profile: ['preferred_username', 'name', 'given_name', 'family_name', 'locale'],
  email: ['email', 'email_verified'],
  [RESOURCE_OWNER_SCOPE]: RESOURCE_OWNER_CLAIMS,
  [METADATA_SCOPE]: [METADATA_SCOPE],
};
