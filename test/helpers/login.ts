import { createHash, randomBytes } from 'node:crypto';

/**
 * A front end's login at the development issuer, done over HTTP as a browser would: the
 * authorization code flow with PKCE (S256), redirects followed by hand with a cookie jar, the
 * login form filled in, the code exchanged at the token endpoint.
 */

export const FRONT_END_REDIRECT = 'http://localhost:5173/callback';

export interface TokenResponse {
  readonly access_token: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly id_token?: string;
  readonly refresh_token?: string;
  readonly scope?: string;
}

export interface LoginOptions {
  readonly clientId: string;
  readonly username: string;
  readonly password: string;
  readonly scope: string;
  readonly redirectUri?: string;
}

/** Cookies by name, whatever their path: enough for one issuer on one host. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';', 1) as [string];
      const at = pair.indexOf('=');
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** GET (or POST a form) and follow redirects until one leaves the issuer; the last response and where it pointed. */
export async function browse(jar: CookieJar, url: string, form?: Record<string, string>): Promise<{ response: Response; location: string | undefined }> {
  let next: string | undefined = url;
  let body: URLSearchParams | undefined = form && new URLSearchParams(form);
  const origin = new URL(url).origin;
  for (let hops = 0; hops < 10; hops += 1) {
    const response: Response = await fetch(next, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body ? { body } : {}),
    });
    jar.take(response);
    body = undefined;
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || location === null) return { response, location: undefined };
    next = new URL(location, next).href;
    if (new URL(next).origin !== origin) {
      await response.body?.cancel();
      return { response, location: next };
    }
    await response.body?.cancel();
  }
  throw new Error('too many redirects');
}

export function authorizeUrl(issuer: string, options: Omit<LoginOptions, 'username' | 'password'>, challenge: string, extra: Record<string, string> = {}): string {
  const url = new URL('/oauth/v2/authorize', issuer);
  url.search = new URLSearchParams({
    client_id: options.clientId,
    redirect_uri: options.redirectUri ?? FRONT_END_REDIRECT,
    response_type: 'code',
    scope: options.scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
    ...extra,
  }).toString();
  return url.href;
}

/** The login form's action in a login page. */
export function formAction(html: string): string {
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
  if (!action) throw new Error(`no login form in the page: ${html.slice(0, 200)}`);
  return action.replace(/&amp;/g, '&');
}

/** The whole login; throws with the page when it does not end at the redirect URI with a code. */
export async function logIn(issuer: string, options: LoginOptions, jar = new CookieJar()): Promise<TokenResponse> {
  const { verifier, challenge } = pkcePair();
  const page = await browse(jar, authorizeUrl(issuer, options, challenge));
  const html = await page.response.text();
  const done = await browse(jar, new URL(formAction(html), issuer).href, { username: options.username, password: options.password });
  const code = done.location && new URL(done.location).searchParams.get('code');
  if (!code) throw new Error(`login did not end with a code (status ${done.response.status}): ${(await done.response.text()).slice(0, 300)}`);
  return exchange(issuer, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: options.redirectUri ?? FRONT_END_REDIRECT,
    client_id: options.clientId,
    code_verifier: verifier,
  });
}

export async function exchange(issuer: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<TokenResponse> {
  const response = await fetch(new URL('/oauth/v2/token', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  const body = (await response.json()) as TokenResponse & { error?: string; error_description?: string };
  if (!response.ok) throw new Error(`token endpoint: ${response.status} ${body.error}: ${body.error_description}`);
  return body;
}
