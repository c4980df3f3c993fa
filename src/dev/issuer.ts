import { createPublicKey, generateKeyPair, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { createLocalJWKSet, exportJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { createMemoryAdapter } from './memoryAdapter.js';

/**
 * An OAuth 2.0 / OpenID server for development and tests, built on oidc-provider, that speaks
 * ZITADEL's protocol as the server uses it: discovery, RFC 7662 introspection authenticated
 * with private_key_jwt (a ZITADEL-format API application key) or Basic, ZITADEL's endpoint
 * paths, and ZITADEL-shaped claims. Never part of production: main.ts imports it only when
 * ZITADEL_ISSUER is unset outside production.
 */

/** Role -> { orgId: orgPrimaryDomain }, as ZITADEL's roles claims spell a user's grants. */
export type RoleClaim = Readonly<Record<string, Readonly<Record<string, string>>>>;

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

export interface MintOptions {
  /** Default: the demo user. A user not yet known is added to the directory. */
  readonly user?: DevUser;
  /** Default: DEFAULT_SCOPE, or for the other project's front end `openid` and the API's audience scope. */
  readonly scope?: string;
  readonly expiresInSeconds?: number;
  /**
   * The application that obtained the token: the development project's front end (default), or
   * the front end of another project, which put the API's project into `aud` by asking for
   * `urn:zitadel:iam:org:project:id:<projectId>:aud`, as any application of the instance may.
   */
  readonly requestedBy?: 'this-project' | 'other-project';
}

export interface JwtMintOptions extends MintOptions {
  /** Sign with this published key; default: the newest. */
  readonly kid?: string;
  /** Claims added to ZITADEL's or replacing them (`undefined` removes one): for tests of refused tokens (ID tokens, tokens not yet valid). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface DevIssuer {
  /** The issuer, as discovery spells it. */
  readonly issuer: string;
  readonly projectId: string;
  /** The API application's key file, exactly as ZITADEL's console downloads it. */
  readonly keyJson: string;
  /** An API application configured for Basic authentication instead. */
  readonly basicClient: { readonly clientId: string; readonly clientSecret: string };
  readonly demoUser: DevUser;
  /** The development project's front end (a public client with PKCE, as a ZITADEL "User Agent" application). */
  readonly frontendClientId: string;
  /** An opaque access token for the user, as a ZITADEL front-end application would receive. */
  mintToken(options?: MintOptions): Promise<string>;
  /**
   * A JWT access token for the user, as ZITADEL issues to an application set to "Auth Token
   * Type: JWT" with "Add user roles to the access token" on (zitadel `createJWT`): `iss, sub,
   * aud, exp, iat, nbf, jti, client_id`, the roles of the requesting application's project in
   * the generic and that project's roles claim, organization and metadata claims only for their
   * scopes; no `scope`, no profile or email claims. Introspection answers for it, and revoking
   * it is seen there, as at ZITADEL.
   */
  mintJwt(options?: JwtMintOptions): Promise<string>;
  /** The `kid`s of the published signing keys (`/oauth/v2/keys`), oldest first. */
  readonly signingKeyIds: readonly string[];
  /** Publishes a new signing key and signs new JWTs with it; the older keys stay published. Returns its kid. */
  rotateSigningKey(): Promise<string>;
  /** Stops publishing a key, as after its rotation period. */
  retireSigningKey(kid: string): void;
  revokeToken(token: string): Promise<void>;
  close(): Promise<void>;
}

export const DEV_ORG_ID = '100000000000000001';
const PROJECT_ID = '100000000000000002';
/** A second project of the instance, with a front end of its own. */
export const OTHER_PROJECT_ID = '100000000000000007';
const OTHER_FRONTEND_CLIENT_ID = '100000000000000008@other';
const API_APP_ID = '100000000000000003';
const API_CLIENT_ID = `${API_APP_ID}@demo`;
const API_KEY_ID = '100000000000000004';
/** The ids of the development API application and its key, as in its key file. */
export const DEV_API_APPLICATION = { keyId: API_KEY_ID, appId: API_APP_ID, clientId: API_CLIENT_ID } as const;
const BASIC_CLIENT_ID = '100000000000000005@demo';
const FRONTEND_CLIENT_ID = '100000000000000006@demo';

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

const METADATA_SCOPE = 'urn:zitadel:iam:user:metadata';
/** Without it ZITADEL sends no `urn:zitadel:iam:user:resourceowner:*` claims. */
const RESOURCE_OWNER_SCOPE = 'urn:zitadel:iam:user:resourceowner';
/** Asks for a roles claim of every project named by an audience scope. */
const PROJECTS_ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
const AUDIENCE_SCOPE = /^urn:zitadel:iam:org:project:id:(\d+):aud$/;
const GENERIC_ROLES_CLAIM = 'urn:zitadel:iam:org:project:roles';
const projectRolesClaim = (projectId: string) => `urn:zitadel:iam:org:project:${projectId}:roles`;

/** What a front end of the development project asks for. */
const DEFAULT_SCOPE = `openid profile email ${RESOURCE_OWNER_SCOPE}`;

interface Application {
  readonly clientId: string;
  readonly projectId: string;
  readonly defaultScope: string;
}

const APPLICATIONS: Readonly<Record<NonNullable<MintOptions['requestedBy']>, Application>> = {
  'this-project': { clientId: FRONTEND_CLIENT_ID, projectId: PROJECT_ID, defaultScope: DEFAULT_SCOPE },
  'other-project': { clientId: OTHER_FRONTEND_CLIENT_ID, projectId: OTHER_PROJECT_ID, defaultScope: `openid urn:zitadel:iam:org:project:id:${PROJECT_ID}:aud` },
};

function rolesIn(user: DevUser, projectId: string): RoleClaim | undefined {
  const roles = projectId === PROJECT_ID ? user.roles : projectId === OTHER_PROJECT_ID ? user.otherProjectRoles : undefined;
  return roles && Object.keys(roles).length > 0 ? roles : undefined;
}

/** Projects an audience scope named. */
function audienceProjects(scopes: ReadonlySet<string>): string[] {
  return [...scopes].flatMap((scope) => AUDIENCE_SCOPE.exec(scope)?.[1] ?? []);
}

/** `aud`: the client, its project, and every project an audience scope asked for (ZITADEL adds them unchecked). */
function audience(application: Application, scopes: ReadonlySet<string>): string[] {
  return [...new Set([application.clientId, application.projectId, ...audienceProjects(scopes)])];
}

/**
 * The claims ZITADEL derives from scopes alone, in introspection answers and JWT access tokens
 * alike (zitadel `userinfo.go`): user metadata, and the organization only with
 * RESOURCE_OWNER_SCOPE.
 */
function scopedClaims(user: DevUser, scopes: ReadonlySet<string>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.has(METADATA_SCOPE) && user.metadata) {
    claims[METADATA_SCOPE] = Object.fromEntries(Object.entries(user.metadata).map(([key, value]) => [key, Buffer.from(value).toString('base64url')]));
  }
  if (scopes.has(RESOURCE_OWNER_SCOPE) && user.organizationId) {
    claims['urn:zitadel:iam:user:resourceowner:id'] = user.organizationId;
    claims['urn:zitadel:iam:user:resourceowner:name'] = user.organizationName;
    claims['urn:zitadel:iam:user:resourceowner:primary_domain'] = user.organizationDomain;
  }
  return claims;
}

/**
 * The roles claims of a JWT access token: the requesting application's project in the generic
 * claim and its own, plus, with PROJECTS_ROLES_SCOPE, the own claim of every audience project
 * the user holds roles in (zitadel `userinfo.go`, `assertRoles`).
 */
function jwtRoleClaims(user: DevUser, application: Application, scopes: ReadonlySet<string>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  const own = rolesIn(user, application.projectId);
  if (own) {
    claims[GENERIC_ROLES_CLAIM] = own;
    claims[projectRolesClaim(application.projectId)] = own;
  }
  if (scopes.has(PROJECTS_ROLES_SCOPE)) {
    for (const projectId of audienceProjects(scopes)) {
      const roles = rolesIn(user, projectId);
      if (roles) claims[projectRolesClaim(projectId)] = roles;
    }
  }
  return claims;
}

/**
 * ZITADEL's introspection claims for a user, by granted scope (see ../shared ZITADEL.md). Roles
 * are always the introspecting API application's project's, in both claims
 * (`introspect.go`, `currentProjectOnly`), whichever application obtained the token.
 */
export function zitadelClaims(user: DevUser, scopes: ReadonlySet<string>): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  if (scopes.has('profile')) {
    Object.assign(claims, {
      username: user.username,
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
  const roles = rolesIn(user, PROJECT_ID);
  if (roles) {
    claims[GENERIC_ROLES_CLAIM] = roles;
    claims[projectRolesClaim(PROJECT_ID)] = roles;
  }
  return { ...claims, ...scopedClaims(user, scopes) };
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

async function signingKey(kid: string, privateKey: KeyObject): Promise<SigningKey> {
  return { kid, privateKey, publicJwk: { ...(await exportJWK(createPublicKey(privateKey))), kid, alg: 'RS256', use: 'sig' } };
}

/**
 * The id a JWT access token of ours is stored under (its `jti`), when one of our published keys
 * signed it and it has not expired; undefined for anything else.
 */
async function storedIdOf(token: string, keys: readonly SigningKey[]): Promise<string | undefined> {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) }), { algorithms: ['RS256'] });
    return typeof payload.jti === 'string' ? payload.jti : undefined;
  } catch {
    return undefined;
  }
}

/** Introspection request bodies are small forms; a larger one is refused. */
const MAX_INTROSPECTION_BODY_BYTES = 64 * 1024;

/**
 * ZITADEL introspects its JWT access tokens; oidc-provider refuses any JWT at its introspection
 * endpoint. So the request is replayed with a JWT-shaped `token` replaced by the id its token is
 * stored under, or by a value nobody holds (inactive) when none of our keys signed it.
 */
async function withJwtResolved(req: http.IncomingMessage, keys: readonly SigningKey[]): Promise<http.IncomingMessage> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_INTROSPECTION_BODY_BYTES) throw new Error('introspection request too large');
    chunks.push(chunk);
  }
  let body = Buffer.concat(chunks);
  const form = new URLSearchParams(body.toString('utf8'));
  const token = form.get('token');
  if (token !== null && token.split('.').length === 3) {
    form.set('token', (await storedIdOf(token, keys)) ?? 'not-a-token');
    body = Buffer.from(form.toString());
  }
  const replayed = new http.IncomingMessage(req.socket);
  // `complete`: a message that ends incomplete destroys its socket.
  Object.assign(replayed, { complete: true, method: req.method, url: req.url, httpVersion: req.httpVersion, headers: { ...req.headers, 'content-length': String(body.length) } });
  replayed.push(body);
  replayed.push(null);
  return replayed;
}

/** Koa middleware, as oidc-provider's `use` takes it. */
export type IssuerMiddleware = Parameters<Provider['use']>[0];

export interface DevIssuerOptions {
  /** Default: any free loopback port. */
  readonly port?: number;
  /** The API application's RSA key; default: a new one. */
  readonly apiPrivateKey?: KeyObject;
  /** Koa middleware run before oidc-provider's own (tests count requests and act out outages). */
  readonly middleware?: readonly IssuerMiddleware[];
}

export async function startDevIssuer(options: DevIssuerOptions = {}): Promise<DevIssuer> {
  const apiPrivateKey = options.apiPrivateKey ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  const apiKey = { privateKey: apiPrivateKey, publicKey: createPublicKey(apiPrivateKey) };
  const firstKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  // Published at /oauth/v2/keys, oldest first; the first is also oidc-provider's own.
  const signingKeys: SigningKey[] = [await signingKey('dev-signing', firstKey)];
  const basicSecret = randomBytes(24).toString('base64url');
  const users = new Map<string, DevUser>([[DEMO_USER.sub, DEMO_USER]]);

  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', resolve);
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    adapter: createMemoryAdapter(),
    jwks: { keys: [{ ...(await exportJWK(firstKey)), kid: 'dev-signing', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: [
      {
        client_id: API_CLIENT_ID,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks: { keys: [{ ...(await exportJWK(apiKey.publicKey)), kid: API_KEY_ID, alg: 'RS256', use: 'sig' }] },
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
      { client_id: BASIC_CLIENT_ID, client_secret: basicSecret, token_endpoint_auth_method: 'client_secret_basic', grant_types: [], response_types: [], redirect_uris: [] },
      { client_id: FRONTEND_CLIENT_ID, token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost:3000/callback'] },
      { client_id: OTHER_FRONTEND_CLIENT_ID, token_endpoint_auth_method: 'none', redirect_uris: ['http://localhost:3001/callback'] },
    ],
    routes: {
      authorization: '/oauth/v2/authorize',
      token: '/oauth/v2/token',
      introspection: '/oauth/v2/introspect',
      revocation: '/oauth/v2/revoke',
      jwks: '/oauth/v2/keys',
      userinfo: '/oidc/v1/userinfo',
      end_session: '/oidc/v1/end_session',
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: {
        enabled: true,
        // Only API applications (authenticated clients) may introspect, as in ZITADEL, and a token
        // whose audience lacks their project is inactive to them (`validateIntrospectionAudience`).
        allowedPolicy: async (_ctx, client, token) =>
          client.clientAuthMethod !== 'none' && 'aud' in token && Array.isArray(token.aud) && token.aud.includes(PROJECT_ID),
      },
    },
    ttl: { AccessToken: 12 * 3600, Grant: 14 * 24 * 3600, Session: 14 * 24 * 3600, Interaction: 3600 },
    scopes: [
      'openid',
      'profile',
      'email',
      'offline_access',
      METADATA_SCOPE,
      RESOURCE_OWNER_SCOPE,
      PROJECTS_ROLES_SCOPE,
      `urn:zitadel:iam:org:project:id:${PROJECT_ID}:aud`,
      `urn:zitadel:iam:org:project:id:${OTHER_PROJECT_ID}:aud`,
    ],
    // Hold our server to ZITADEL's verifier of client assertions at the introspection endpoint
    // (zitadel/oidc `pkg/op/verifier_jwt_profile.go`, max age 1 h, offset 1 s), not oidc-provider's.
    async assertJwtClientAuthClaimsAndHeader(_ctx, claims) {
      const now = Math.floor(Date.now() / 1000);
      const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!audiences.includes(issuer)) throw new errors.InvalidClientAuth('aud must be the issuer');
      if (claims.sub !== claims.iss) throw new errors.InvalidClientAuth('sub must equal iss');
      if (typeof claims.iat !== 'number' || claims.iat > now + 1) throw new errors.InvalidClientAuth('iat must not be more than 1 s ahead');
      if (claims.iat < now - 3600) throw new errors.InvalidClientAuth('iat must not be older than 1 h');
      if (typeof claims.exp !== 'number' || claims.exp <= now + 1) throw new errors.InvalidClientAuth('exp must be more than 1 s ahead');
    },
    async extraTokenClaims(_ctx: KoaContextWithOIDC, token) {
      const user = 'accountId' in token && typeof token.accountId === 'string' ? users.get(token.accountId) : undefined;
      const scope = 'scope' in token && typeof token.scope === 'string' ? token.scope : '';
      return user ? zitadelClaims(user, new Set(scope.split(' '))) : undefined;
    },
  });
  for (const middleware of options.middleware ?? []) provider.use(middleware);
  // oidc-provider's key set is fixed at construction; ZITADEL's rotates. Serve the current one.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.path !== '/oauth/v2/keys') return next();
    ctx.type = 'application/json';
    ctx.body = JSON.stringify({ keys: signingKeys.map((k) => k.publicJwk) });
  });
  const handle = provider.callback();
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method === 'POST' && req.url?.split('?', 1)[0] === '/oauth/v2/introspect') {
      withJwtResolved(req, signingKeys).then((resolved) => handle(resolved, res), () => res.writeHead(400).end());
    } else {
      handle(req, res);
    }
  });
  let rotations = 0;

  /** As after a login: a grant for the user and the application, and an access token under it; its value (or `id`). */
  async function saveAccessToken(user: DevUser, application: Application, scope: string, expiresInSeconds: number, id?: string): Promise<string> {
    users.set(user.sub, user);
    const client = await provider.Client.find(application.clientId);
    if (!client) throw new Error(`development client ${application.clientId} missing`);
    const grant = new provider.Grant({ accountId: user.sub, clientId: application.clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const token = new provider.AccessToken({
      ...(id === undefined ? {} : { jti: id }),
      accountId: user.sub,
      client,
      grantId,
      gty: 'authorization_code',
      scope,
      expiresIn: expiresInSeconds,
      aud: audience(application, new Set(scope.split(' '))),
    });
    // oidc-provider picks the format when it makes the id; a given id needs it said.
    if (id !== undefined) Object.assign(token, { format: 'opaque' });
    return token.save();
  }

  return {
    issuer,
    projectId: PROJECT_ID,
    keyJson: JSON.stringify({
      type: 'application',
      keyId: API_KEY_ID,
      key: apiKey.privateKey.export({ type: 'pkcs1', format: 'pem' }),
      appId: API_APP_ID,
      clientId: API_CLIENT_ID,
    }),
    basicClient: { clientId: BASIC_CLIENT_ID, clientSecret: basicSecret },
    demoUser: DEMO_USER,
    frontendClientId: FRONTEND_CLIENT_ID,
    async mintToken({ user = DEMO_USER, scope, expiresInSeconds = 12 * 3600, requestedBy = 'this-project' } = {}) {
      const application = APPLICATIONS[requestedBy];
      return saveAccessToken(user, application, scope ?? application.defaultScope, expiresInSeconds);
    },
    async mintJwt({ user = DEMO_USER, scope, expiresInSeconds = 12 * 3600, requestedBy = 'this-project', kid, claims = {} } = {}) {
      const key = kid === undefined ? signingKeys.at(-1) : signingKeys.find((k) => k.kid === kid);
      if (!key) throw new Error(`no published signing key "${kid}"`);
      const application = APPLICATIONS[requestedBy];
      const granted = scope ?? application.defaultScope;
      const scopes = new Set(granted.split(' '));
      const now = Math.floor(Date.now() / 1000);
      const jti = `V2_${randomUUID()}`;
      const jwt = await new SignJWT({
        ...jwtRoleClaims(user, application, scopes),
        ...scopedClaims(user, scopes),
        iss: issuer,
        sub: user.sub,
        aud: audience(application, scopes),
        exp: now + expiresInSeconds,
        iat: now,
        nbf: now,
        jti,
        client_id: application.clientId,
        ...claims,
      })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
      // ZITADEL keeps the token behind a JWT: introspection answers for it and sees its revocation.
      if (expiresInSeconds > 0) await saveAccessToken(user, application, granted, expiresInSeconds, jti);
      return jwt;
    },
    get signingKeyIds() {
      return signingKeys.map((k) => k.kid);
    },
    async rotateSigningKey() {
      rotations += 1;
      const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
      const key = await signingKey(`dev-signing-${rotations + 1}`, privateKey);
      signingKeys.push(key);
      return key.kid;
    },
    retireSigningKey(kid) {
      const index = signingKeys.findIndex((k) => k.kid === kid);
      if (index >= 0) signingKeys.splice(index, 1);
    },
    async revokeToken(token) {
      const found = await provider.AccessToken.find((await storedIdOf(token, signingKeys)) ?? token);
      await found?.destroy();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
