import { createPublicKey, generateKeyPair, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { compactVerify, createLocalJWKSet, decodeJwt, exportJWK, jwtVerify, SignJWT, type JWK } from 'jose';
import { LRUCache } from 'lru-cache';
import Provider, { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { addressedToLoopback, isLoopbackOrigin, isLoopbackUrl } from '../http/loopback.js';
import {
  ACME_ORG_ID,
  applicationOf,
  APPLICATIONS,
  audience,
  BASIC_CLIENT_ID,
  CLAIMS_BY_SCOPE,
  DEMO_ACCOUNTS,
  DEMO_USER,
  DEV_API_APPLICATION,
  DEV_ORG_ID,
  FRONTEND_CLIENT_ID,
  FRONTEND_SCOPE,
  jwtRoleClaims,
  OTHER_FRONTEND_CLIENT_ID,
  OTHER_PROJECT_ID,
  PROJECT_ID,
  SCOPES,
  scopedClaims,
  userinfoClaims,
  zitadelClaims,
  type Application,
  type DemoAccount,
  type DevUser,
  type RequestingApplication,
} from './directory.js';
import { createInteractions, INTERACTION_PATH } from './interactions.js';
import { createMemoryAdapter } from './memoryAdapter.js';
import { errorPage, logoutPage, signedOutPage } from './pages.js';

export { ACME_ORG_ID, DEMO_ACCOUNTS, DEV_API_APPLICATION, DEV_ORG_ID, FRONTEND_SCOPE, OTHER_PROJECT_ID, type DemoAccount, type DevUser };

/**
 * An OAuth 2.0 / OpenID server for development and tests, built on oidc-provider, that speaks
 * ZITADEL's protocol as the server and its front ends use it: discovery, RFC 7662 introspection
 * authenticated with private_key_jwt (a ZITADEL-format API application key) or Basic; login
 * with the authorization code flow and PKCE for a "User Agent" application, refresh tokens,
 * userinfo and sign-out; ZITADEL's endpoint paths, and ZITADEL-shaped tokens and claims.
 * Loopback only. Never part of production: main.ts imports it only when ZITADEL_ISSUER is unset
 * outside production.
 */

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
  readonly requestedBy?: RequestingApplication;
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
  /**
   * The development project's front end (a public client with PKCE, as a ZITADEL "User Agent"
   * application): any http://localhost or http://127.0.0.1 redirect URI, any port.
   */
  readonly frontendClientId: string;
  /** The scope a front end asks for: the project's audience, roles, organization, refresh tokens. */
  readonly frontendScope: string;
  /** Who can log in on the login page, with their passwords. */
  readonly accounts: readonly DemoAccount[];
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

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

async function signingKey(kid: string, privateKey: KeyObject): Promise<SigningKey> {
  return { kid, privateKey, publicJwk: { ...(await exportJWK(createPublicKey(privateKey))), kid, alg: 'RS256', use: 'sig' } };
}

/** The key set jose checks our JWTs against: the published keys. */
type KeySet = ReturnType<typeof createLocalJWKSet>;
const keySetOf = (keys: readonly SigningKey[]): KeySet => createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) });

/** The `jti` of a JWT one of our published keys signed and that has not expired; undefined for anything else. */
async function verifiedJti(token: string, keySet: KeySet): Promise<string | undefined> {
  if (token.split('.').length !== 3) return undefined;
  try {
    const { payload } = await jwtVerify(token, keySet, { algorithms: ['RS256'] });
    return typeof payload.jti === 'string' ? payload.jti : undefined;
  } catch {
    return undefined;
  }
}

/** Introspection and revocation request bodies are small forms; a larger one is refused. */
const MAX_FORM_BODY_BYTES = 64 * 1024;

/**
 * ZITADEL introspects and revokes its JWT access tokens; oidc-provider refuses any JWT at those
 * endpoints. So the request is replayed with a JWT-shaped `token` replaced by the id its token is
 * stored under, or by a value nobody holds (inactive) when none of our keys signed it.
 */
async function withJwtResolved(req: http.IncomingMessage, storedIdOf: (jwt: string) => Promise<string | undefined>): Promise<http.IncomingMessage> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BODY_BYTES) throw new Error('request too large');
    chunks.push(chunk);
  }
  let body = Buffer.concat(chunks);
  const form = new URLSearchParams(body.toString('utf8'));
  const token = form.get('token');
  if (token !== null && token.split('.').length === 3) {
    form.set('token', (await storedIdOf(token)) ?? 'not-a-token');
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

/** ZITADEL's "Auth Token Type" of the front-end applications: opaque (Bearer) or JWT access tokens. */
export type AccessTokenType = 'bearer' | 'jwt';

export interface DevIssuerOptions {
  /** Default: any free loopback port (0). */
  readonly port?: number;
  /** What a login hands out as the access token; default `bearer` (opaque, as ZITADEL's default). */
  readonly accessTokenType?: AccessTokenType;
  /** The API application's RSA key; default: a new one. */
  readonly apiPrivateKey?: KeyObject;
  /** The first signing key's RSA key (`dev-signing`); default: a new one. */
  readonly signingPrivateKey?: KeyObject;
  /** Koa middleware run before oidc-provider's own (tests count requests and act out outages). */
  readonly middleware?: readonly IssuerMiddleware[];
}

interface AccessTokenClaims {
  readonly user: DevUser;
  readonly application: Application;
  readonly scopes: ReadonlySet<string>;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

/**
 * A JWT access token as ZITADEL signs it (zitadel `createJWT`): `iss, sub, aud, exp, iat, nbf,
 * jti, client_id`, roles, and the organization and metadata claims of their scopes; header
 * `typ: JWT`.
 */
function signAccessToken(issuer: string, key: SigningKey, token: AccessTokenClaims, claims: Readonly<Record<string, unknown>> = {}): Promise<string> {
  const { user, application, scopes } = token;
  return new SignJWT({
    ...jwtRoleClaims(user, application, scopes),
    ...scopedClaims(user, scopes),
    iss: issuer,
    sub: user.sub,
    aud: audience(application, scopes),
    exp: token.exp,
    iat: token.iat,
    nbf: token.iat,
    jti: token.jti,
    client_id: application.clientId,
    ...claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(key.privateKey);
}

/**
 * A token's `aud` as ZITADEL sets it: the application, its project, and every project an
 * audience scope named. oidc-provider keeps no `aud` on tokens for userinfo (and refuses one
 * that has it there), so the introspection answer gets it from here.
 */
function audienceOf(token: { readonly clientId?: string | undefined; readonly scope?: string | undefined }): string[] | undefined {
  const application = applicationOf(token.clientId ?? '');
  return application && audience(application, new Set((token.scope ?? '').split(' ')));
}

/** The front-end applications: any http(s) redirect URI on a loopback host (any port and path) is theirs. */
const FRONTEND_CLIENTS = new Set([FRONTEND_CLIENT_ID, OTHER_FRONTEND_CLIENT_ID]);

/** A new RSA 2048 key, made off the event loop (about 250 ms of CPU each). */
async function newRsaKey(): Promise<KeyObject> {
  return (await promisify(generateKeyPair)('rsa', { modulusLength: 2048 })).privateKey;
}

export async function startDevIssuer(options: DevIssuerOptions = {}): Promise<DevIssuer> {
  // Until the provider is ready, a caller (a front end knows the fixed port) is told to come back.
  const server = http.createServer((_req, res) => void res.writeHead(503, { 'retry-after': '1' }).end());
  // The port first: when it is taken, say so before any work.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  try {
    return await serve(server, options);
  } catch (error) {
    server.close();
    throw error;
  }
}

async function serve(server: http.Server, options: DevIssuerOptions): Promise<DevIssuer> {
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const [apiPrivateKey, firstKey] = await Promise.all([options.apiPrivateKey ?? newRsaKey(), options.signingPrivateKey ?? newRsaKey()]);
  const apiKey = { privateKey: apiPrivateKey, publicKey: createPublicKey(apiPrivateKey) };
  // Published at /oauth/v2/keys, oldest first; the first is also oidc-provider's own (ID tokens).
  const signingKeys: SigningKey[] = [await signingKey('dev-signing', firstKey)];
  const [providerKey] = signingKeys as [SigningKey];
  const providerPublicKey = createPublicKey(providerKey.privateKey);
  // Made again only when the published keys change.
  let keySet = keySetOf(signingKeys);
  const basicSecret = randomBytes(24).toString('base64url');
  const users = new Map<string, DevUser>(DEMO_ACCOUNTS.map(({ user }) => [user.sub, user]));
  const accessTokenType = options.accessTokenType ?? 'bearer';
  // ZITADEL keeps the token behind each JWT access token it issues: introspection answers for
  // it and sees its revocation. Ours is stored under its own id; the JWT's `jti` leads to it and
  // is no token itself.
  const storedIds = new LRUCache<string, string>({ max: 100_000 });
  const storedIdOf = async (jwt: string) => {
    const jti = await verifiedJti(jwt, keySet);
    return jti === undefined ? undefined : storedIds.get(jti);
  };
  /** A ZITADEL-shaped JWT for a stored access token (its claims, its lifetime). */
  const jwtFor = (storedId: string, token: Omit<AccessTokenClaims, 'jti'>, key = signingKeys.at(-1)!, claims?: Readonly<Record<string, unknown>>) => {
    const jti = `V2_${randomUUID()}`;
    storedIds.set(jti, storedId, { ttl: Math.max(1, token.exp - token.iat) * 1000 });
    return signAccessToken(issuer, key, { ...token, jti }, claims);
  };
  const frontend = (clientId: string) => ({
    client_id: clientId,
    application_type: 'web' as const,
    token_endpoint_auth_method: 'none' as const,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code' as const],
    // Registered for form's sake; any loopback URI is allowed below.
    redirect_uris: ['http://localhost:3000/callback'],
    post_logout_redirect_uris: ['http://localhost:3000/'],
  });

  const provider = new Provider(issuer, {
    adapter: createMemoryAdapter(),
    jwks: { keys: [{ ...(await exportJWK(firstKey)), kid: 'dev-signing', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: [
      {
        client_id: DEV_API_APPLICATION.clientId,
        token_endpoint_auth_method: 'private_key_jwt',
        token_endpoint_auth_signing_alg: 'RS256',
        jwks: { keys: [{ ...(await exportJWK(apiKey.publicKey)), kid: DEV_API_APPLICATION.keyId, alg: 'RS256', use: 'sig' }] },
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
      { client_id: BASIC_CLIENT_ID, client_secret: basicSecret, token_endpoint_auth_method: 'client_secret_basic', grant_types: [], response_types: [], redirect_uris: [] },
      frontend(FRONTEND_CLIENT_ID),
      frontend(OTHER_FRONTEND_CLIENT_ID),
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
    interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}${interaction.uid}` },
    async findAccount(ctx, sub) {
      const user = users.get(sub);
      if (!user) return undefined;
      return {
        accountId: sub,
        // ZITADEL's ID token holds no profile ("User Info inside ID Token" is off by default): userinfo does.
        async claims(use, scope) {
          const application = applicationOf(ctx.oidc.client?.clientId ?? '') ?? APPLICATIONS['this-project'];
          return { sub, ...(use === 'userinfo' ? userinfoClaims(user, application, new Set(scope.split(' '))) : {}) };
        },
      };
    },
    claims: Object.fromEntries(Object.entries(CLAIMS_BY_SCOPE).map(([scope, names]) => [scope, [...names]])),
    // Browsers on loopback origins (front ends in development) may call every endpoint.
    clientBasedCORS: (_ctx, origin) => isLoopbackOrigin(origin),
    features: {
      devInteractions: { enabled: false },
      // A client revokes the tokens issued to it (RFC 7009), others are silently kept.
      revocation: { enabled: true, allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = logoutPage(form);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = signedOutPage();
        },
      },
      introspection: {
        enabled: true,
        // Only API applications (authenticated clients) may introspect, as in ZITADEL, and a token
        // whose audience lacks their project is inactive to them (`validateIntrospectionAudience`).
        // Refresh tokens are never active there.
        allowedPolicy: async (_ctx, client, token) =>
          client.clientAuthMethod !== 'none' && token.kind === 'AccessToken' && (audienceOf(token)?.includes(PROJECT_ID) ?? false),
      },
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(String(out.error), typeof out.error_description === 'string' ? out.error_description : undefined);
    },
    // ZITADEL's defaults: access and ID tokens 12 h, refresh tokens 30 days idle.
    ttl: { AccessToken: 12 * 3600, IdToken: 12 * 3600, RefreshToken: 30 * 24 * 3600, Grant: 30 * 24 * 3600, Session: 14 * 24 * 3600, Interaction: 3600 },
    scopes: SCOPES,
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
  const { redirectUriAllowed, postLogoutRedirectUriAllowed } = provider.Client.prototype;
  Object.assign(provider.Client.prototype, {
    redirectUriAllowed(this: InstanceType<Provider['Client']>, uri: string) {
      return (FRONTEND_CLIENTS.has(this.clientId) && isLoopbackUrl(uri)) || redirectUriAllowed.call(this, uri);
    },
    postLogoutRedirectUriAllowed(this: InstanceType<Provider['Client']>, uri: string) {
      return (FRONTEND_CLIENTS.has(this.clientId) && isLoopbackUrl(uri)) || postLogoutRedirectUriAllowed.call(this, uri);
    },
  });
  for (const middleware of options.middleware ?? []) provider.use(middleware);
  // oidc-provider's key set is fixed at construction; ZITADEL's rotates. Serve the current one.
  provider.use(async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.path !== '/oauth/v2/keys') return next();
    ctx.set('access-control-allow-origin', '*');
    ctx.type = 'application/json';
    ctx.body = JSON.stringify({ keys: signingKeys.map((k) => k.publicJwk) });
  });
  // Authorization requests as ZITADEL reads them. It hands out a refresh token for
  // `offline_access` whenever the application may use one; oidc-provider only with
  // `prompt=consent` (OpenID Connect Core 11), so ask for it on the front end's behalf (consent
  // is given at once, interactions.ts). It shows its account list for `prompt=select_account`,
  // which oidc-provider does not know: our login page is that list.
  provider.use(async (ctx, next) => {
    if (ctx.method === 'GET' && ctx.path === '/oauth/v2/authorize') {
      const prompts = new Set(typeof ctx.query.prompt === 'string' ? ctx.query.prompt.split(' ').filter(Boolean) : []);
      if (prompts.delete('select_account')) prompts.add('login');
      const scopes = typeof ctx.query.scope === 'string' ? ctx.query.scope.split(' ') : [];
      if (scopes.includes('offline_access') && !prompts.has('none')) prompts.add('consent');
      if (prompts.size > 0) ctx.query = { ...ctx.query, prompt: [...prompts].join(' ') };
    }
    return next();
  });
  // oidc-provider takes an ID token's `aud` for the client id at sign-out; ZITADEL's holds the
  // project too. Name the client as the token's `azp`, once our key is seen to have signed it.
  provider.use(async (ctx, next) => {
    const hint = ctx.method === 'GET' && ctx.path === '/oidc/v1/end_session' ? ctx.query.id_token_hint : undefined;
    if (typeof hint === 'string') {
      const azp = await compactVerify(hint, providerPublicKey).then(
        ({ payload }) => (JSON.parse(new TextDecoder().decode(payload)) as { azp?: unknown }).azp,
        () => undefined,
      );
      if (typeof azp === 'string') {
        const { id_token_hint: _hint, ...rest } = ctx.query;
        ctx.query = { ...rest, client_id: azp };
      }
    }
    return next();
  });
  // Answers as ZITADEL gives them: the token response's tokens, and an introspection answer's `aud`.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.status !== 200 || typeof ctx.body !== 'object' || ctx.body === null) return;
    const body = ctx.body as Record<string, unknown>;
    if (ctx.oidc?.route === 'token') await asZitadelIssuesThem(body);
    if (ctx.oidc?.route === 'introspection' && body.active === true) {
      body.aud = audienceOf({ clientId: body.client_id as string, scope: body.scope as string });
    }
  });

  /**
   * A login's tokens as ZITADEL issues them: a JWT access token for a "JWT" application, and an
   * ID token with ZITADEL's `aud` (oidc-provider's has the client alone), `azp` and `typ: JWT`.
   */
  async function asZitadelIssuesThem(body: Record<string, unknown>): Promise<void> {
    if (typeof body.access_token !== 'string') return;
    const stored = await provider.AccessToken.find(body.access_token);
    const application = stored && applicationOf(stored.clientId ?? '');
    const user = stored?.accountId === undefined ? undefined : users.get(stored.accountId);
    if (!stored || !application || !user) return;
    const scopes = new Set((stored.scope ?? '').split(' '));
    if (accessTokenType === 'jwt') body.access_token = await jwtFor(stored.jti, { user, application, scopes, iat: stored.iat!, exp: stored.exp! });
    if (typeof body.id_token === 'string') {
      // Signed again with the key oidc-provider holds, which checks it as an end_session id_token_hint.
      body.id_token = await new SignJWT({ ...decodeJwt(body.id_token), aud: audience(application, scopes), azp: application.clientId })
        .setProtectedHeader({ alg: 'RS256', kid: providerKey.kid, typ: 'JWT' })
        .sign(providerKey.privateKey);
    }
  }

  const handle = provider.callback();
  const interactions = createInteractions(provider, DEMO_ACCOUNTS);
  server.removeAllListeners('request');
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    // Loopback names only: a page whose host name was made to resolve to 127.0.0.1 (DNS
    // rebinding) would otherwise be same-origin with the login.
    if (!addressedToLoopback(req.headers.host)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end('The development issuer answers requests to localhost only.\n');
      return;
    }
    const path = req.url?.split('?', 1)[0];
    if (interactions(req, res)) return;
    if (req.method === 'POST' && (path === '/oauth/v2/introspect' || path === '/oauth/v2/revoke')) {
      withJwtResolved(req, storedIdOf).then((resolved) => handle(resolved, res), () => res.writeHead(400).end());
      return;
    }
    const bearer = /^Bearer (\S+\.\S+\.\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (path === '/oidc/v1/userinfo' && bearer !== undefined) {
      // A JWT access token at userinfo, as at introspection: the id it is stored under.
      storedIdOf(bearer).then((id) => {
        req.headers.authorization = `Bearer ${id ?? 'not-a-token'}`;
        handle(req, res);
      }, () => res.writeHead(400).end());
      return;
    }
    handle(req, res);
  });
  let rotations = 0;

  /** As after a login: a grant for the user and the application, and an opaque access token under it; its value. */
  async function saveAccessToken(user: DevUser, application: Application, scope: string, expiresInSeconds: number): Promise<string> {
    users.set(user.sub, user);
    const client = await provider.Client.find(application.clientId);
    if (!client) throw new Error(`development client ${application.clientId} missing`);
    const grant = new provider.Grant({ accountId: user.sub, clientId: application.clientId });
    grant.addOIDCScope(scope);
    const grantId = await grant.save();
    const token = new provider.AccessToken({
      accountId: user.sub,
      client,
      grantId,
      gty: 'authorization_code',
      scope,
      expiresIn: expiresInSeconds,
    });
    return token.save();
  }

  return {
    issuer,
    projectId: PROJECT_ID,
    keyJson: JSON.stringify({
      type: 'application',
      keyId: DEV_API_APPLICATION.keyId,
      key: apiKey.privateKey.export({ type: 'pkcs1', format: 'pem' }),
      appId: DEV_API_APPLICATION.appId,
      clientId: DEV_API_APPLICATION.clientId,
    }),
    basicClient: { clientId: BASIC_CLIENT_ID, clientSecret: basicSecret },
    demoUser: DEMO_USER,
    frontendClientId: FRONTEND_CLIENT_ID,
    frontendScope: FRONTEND_SCOPE,
    accounts: DEMO_ACCOUNTS,
    async mintToken({ user = DEMO_USER, scope, expiresInSeconds = 12 * 3600, requestedBy = 'this-project' } = {}) {
      const application = APPLICATIONS[requestedBy];
      return saveAccessToken(user, application, scope ?? application.defaultScope, expiresInSeconds);
    },
    async mintJwt({ user = DEMO_USER, scope, expiresInSeconds = 12 * 3600, requestedBy = 'this-project', kid, claims = {} } = {}) {
      const key = kid === undefined ? signingKeys.at(-1) : signingKeys.find((k) => k.kid === kid);
      if (!key) throw new Error(`no published signing key "${kid}"`);
      const application = APPLICATIONS[requestedBy];
      const granted = scope ?? application.defaultScope;
      const iat = Math.floor(Date.now() / 1000);
      // An already expired token (tests of refusal) has nothing behind it.
      const storedId = expiresInSeconds > 0 ? await saveAccessToken(user, application, granted, expiresInSeconds) : 'expired';
      return jwtFor(storedId, { user, application, scopes: new Set(granted.split(' ')), iat, exp: iat + expiresInSeconds }, key, claims);
    },
    get signingKeyIds() {
      return signingKeys.map((k) => k.kid);
    },
    async rotateSigningKey() {
      rotations += 1;
      const key = await signingKey(`dev-signing-${rotations + 1}`, await newRsaKey());
      signingKeys.push(key);
      keySet = keySetOf(signingKeys);
      return key.kid;
    },
    retireSigningKey(kid) {
      const index = signingKeys.findIndex((k) => k.kid === kid);
      if (index >= 0) signingKeys.splice(index, 1);
      keySet = keySetOf(signingKeys);
    },
    async revokeToken(token) {
      const found = await provider.AccessToken.find((await storedIdOf(token)) ?? token);
      await found?.destroy();
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
