import { createPublicKey, generateKeyPair, generateKeyPairSync, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { exportJWK, SignJWT, type JWK } from 'jose';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { createMemoryAdapter } from './memoryAdapter.js';

/**
 * An OAuth 2.0 / OpenID server for development and tests, built on oidc-provider, that speaks
 * ZITADEL's protocol as the server uses it: discovery, RFC 7662 introspection authenticated
 * with private_key_jwt (a ZITADEL-format API application key) or Basic, ZITADEL's endpoint
 * paths, and ZITADEL-shaped claims. Never part of production: main.ts imports it only when
 * ZITADEL_ISSUER is unset outside production.
 */

/** A user in the development directory. `roles` maps role -> { orgId: orgPrimaryDomain }. */
export interface DevUser {
  readonly sub: string;
  readonly username: string;
  readonly name?: string;
  readonly givenName?: string;
  readonly familyName?: string;
  readonly email?: string;
  readonly emailVerified?: boolean;
  readonly locale?: string;
  readonly roles?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly organizationId?: string;
  readonly organizationName?: string;
  readonly organizationDomain?: string;
  /** User metadata, sent base64url-encoded with the `urn:zitadel:iam:user:metadata` scope. */
  readonly metadata?: Readonly<Record<string, string>>;
}

export interface MintOptions {
  /** Default: the demo user. A user not yet known is added to the directory. */
  readonly user?: DevUser;
  readonly scope?: string;
  readonly expiresInSeconds?: number;
}

export interface JwtMintOptions extends MintOptions {
  /** Sign with this published key; default: the newest. */
  readonly kid?: string;
  /** Claims added to ZITADEL's or replacing them (`undefined` removes one): for tests of refused tokens. */
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
  /** An opaque access token for the user, as a ZITADEL front-end application would receive. */
  mintToken(options?: MintOptions): Promise<string>;
  /**
   * A JWT access token for the user, as ZITADEL issues to an application set to "Auth Token
   * Type: JWT": signed with a published key, `aud` holding the project id, roles and
   * organization claims, but no profile or email claims.
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

/** ZITADEL's introspection claims for a user, by granted scope (see ../shared ZITADEL.md). */
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
  if (scopes.has(METADATA_SCOPE) && user.metadata) {
    claims[METADATA_SCOPE] = Object.fromEntries(Object.entries(user.metadata).map(([key, value]) => [key, Buffer.from(value).toString('base64url')]));
  }
  if (user.roles) {
    claims['urn:zitadel:iam:org:project:roles'] = user.roles;
    claims[`urn:zitadel:iam:org:project:${PROJECT_ID}:roles`] = user.roles;
  }
  if (user.organizationId) {
    claims['urn:zitadel:iam:user:resourceowner:id'] = user.organizationId;
    claims['urn:zitadel:iam:user:resourceowner:name'] = user.organizationName;
    claims['urn:zitadel:iam:user:resourceowner:primary_domain'] = user.organizationDomain;
  }
  return claims;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

async function signingKey(kid: string, privateKey: KeyObject): Promise<SigningKey> {
  return { kid, privateKey, publicJwk: { ...(await exportJWK(createPublicKey(privateKey))), kid, alg: 'RS256', use: 'sig' } };
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
        // Only API applications (authenticated clients) may introspect, as in ZITADEL.
        allowedPolicy: async (_ctx, client) => client.clientAuthMethod !== 'none',
      },
    },
    ttl: { AccessToken: 12 * 3600, Grant: 14 * 24 * 3600, Session: 14 * 24 * 3600, Interaction: 3600 },
    scopes: ['openid', 'profile', 'email', 'offline_access', METADATA_SCOPE, `urn:zitadel:iam:org:project:id:${PROJECT_ID}:aud`],
    // ZITADEL is stricter than oidc-provider about client assertions: hold our server to ZITADEL's rules.
    async assertJwtClientAuthClaimsAndHeader(_ctx, claims) {
      const now = Math.floor(Date.now() / 1000);
      const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!audiences.includes(issuer)) throw new errors.InvalidClientAuth('aud must be the issuer');
      if (claims.sub !== claims.iss) throw new errors.InvalidClientAuth('sub must equal iss');
      if (typeof claims.iat !== 'number' || claims.iat > now + 1) throw new errors.InvalidClientAuth('iat must not be in the future');
      if (typeof claims.exp !== 'number' || claims.exp - claims.iat > 3600) throw new errors.InvalidClientAuth('exp at most 1 h after iat');
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
  server.on('request', provider.callback());
  let rotations = 0;

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
    async mintToken({ user = DEMO_USER, scope = 'openid profile email', expiresInSeconds = 12 * 3600 } = {}) {
      users.set(user.sub, user);
      const client = await provider.Client.find(FRONTEND_CLIENT_ID);
      if (!client) throw new Error('development front-end client missing');
      // As after a login: a grant for the user and the front end, and a token under it.
      const grant = new provider.Grant({ accountId: user.sub, clientId: FRONTEND_CLIENT_ID });
      grant.addOIDCScope(scope);
      const grantId = await grant.save();
      const token = new provider.AccessToken({
        accountId: user.sub,
        client,
        grantId,
        gty: 'authorization_code',
        scope,
        expiresIn: expiresInSeconds,
        aud: [FRONTEND_CLIENT_ID, PROJECT_ID],
      });
      return token.save();
    },
    async mintJwt({ user = DEMO_USER, scope = 'openid profile email', expiresInSeconds = 12 * 3600, kid, claims = {} } = {}) {
      users.set(user.sub, user);
      const key = kid === undefined ? signingKeys.at(-1) : signingKeys.find((k) => k.kid === kid);
      if (!key) throw new Error(`no published signing key "${kid}"`);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({
        // The profile and email scopes do not put claims into ZITADEL's JWT access tokens.
        ...zitadelClaims(user, new Set()),
        iss: issuer,
        sub: user.sub,
        aud: [FRONTEND_CLIENT_ID, PROJECT_ID],
        client_id: FRONTEND_CLIENT_ID,
        scope,
        iat: now,
        nbf: now,
        exp: now + expiresInSeconds,
        jti: randomUUID(),
        ...claims,
      })
        .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
        .sign(key.privateKey);
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
      const found = await provider.AccessToken.find(token);
      await found?.destroy();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
