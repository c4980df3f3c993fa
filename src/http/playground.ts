import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlaygroundKind } from '../config.js';

/**
 * The in-browser GraphQL IDE, outside production: GraphiQL with its assets served from
 * node_modules (so it works offline), the Authorization header prefilled, and with the
 * development issuer a "Log in" button. Apollo Sandbox (loaded from Apollo's CDN by Apollo's
 * landing page) stays one query parameter away.
 */

/** The development issuer's front-end application, for the playground's login. */
interface PlaygroundLogin {
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  readonly projectId: string;
  /** Whose token `headers` holds. */
  readonly printedFor: string;
}

export interface PlaygroundOptions {
  readonly default: PlaygroundKind;
  /** Headers the IDE starts with (the development token). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly login?: PlaygroundLogin;
}

/** The document both IDEs open with. */
export const DEMO_DOCUMENT = `query Me {
  hello
  me { id username name email roles organizationId scopes expiresAt }
}
`;

const PLAYGROUND_ASSETS_PATH = '/playground/';

const require = createRequire(import.meta.url);
const packageFile = (name: string, file: string) => join(dirname(require.resolve(`${name}/package.json`)), file);
// static/ sits beside src/ and dist/, two levels above this module in either.
const ownFile = (file: string) => fileURLToPath(new URL(`../../static/${file}`, import.meta.url));

/** A Map, not an object: a name from the URL must find nothing but these (no `constructor`). */
const ASSETS: ReadonlyMap<string, { readonly file: () => string; readonly type: string }> = new Map([
  ['react.js', { file: () => packageFile('react', 'umd/react.production.min.js'), type: 'text/javascript' }],
  ['react-dom.js', { file: () => packageFile('react-dom', 'umd/react-dom.production.min.js'), type: 'text/javascript' }],
  ['graphiql.js', { file: () => packageFile('graphiql', 'graphiql.min.js'), type: 'text/javascript' }],
  ['graphiql.css', { file: () => packageFile('graphiql', 'graphiql.min.css'), type: 'text/css' }],
  ['oidc-client-ts.js', { file: () => packageFile('oidc-client-ts', 'dist/browser/oidc-client-ts.min.js'), type: 'text/javascript' }],
  ['playground.js', { file: () => ownFile('playground.js'), type: 'text/javascript' }],
  ['playground.css', { file: () => ownFile('playground.css'), type: 'text/css' }],
]);

const SCRIPTS = ['react.js', 'react-dom.js', 'graphiql.js', 'oidc-client-ts.js', 'playground.js'];

/** JSON safe inside a <script> element: no `</script>`, no HTML comment. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

export function playgroundPage(options: PlaygroundOptions, endpoint: string, instance: string): string {
  const config = {
    endpoint,
    query: DEMO_DOCUMENT,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.login ? { login: { ...options.login, instance } } : {}),
  };
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>GraphiQL · ${endpoint}</title>
<link rel="stylesheet" href="${PLAYGROUND_ASSETS_PATH}graphiql.css"><link rel="stylesheet" href="${PLAYGROUND_ASSETS_PATH}playground.css">
<script id="playground-config" type="application/json">${scriptJson(config)}</script>
</head><body><div id="playground-bar"></div><div id="graphiql">Loading…</div>
${SCRIPTS.map((name) => `<script src="${PLAYGROUND_ASSETS_PATH}${name}"></script>`).join('\n')}
</body></html>`;
}

/**
 * Serves the page at GET `endpoint` to a browser (one that accepts HTML) and the assets under
 * PLAYGROUND_ASSETS_PATH; returns false for any other request, which goes on to GraphQL.
 */
export function createPlayground(options: PlaygroundOptions, endpoint: string): (req: IncomingMessage, res: ServerResponse) => boolean {
  // Logins are kept in the browser per start, so one from an earlier run is not offered.
  const page = playgroundPage(options, endpoint, randomBytes(6).toString('hex'));
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    // GraphiQL and CodeMirror set styles inline.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${options.login ? ` ${options.login.issuer}` : ''}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const loaded = new Map<string, Promise<{ body: Buffer; etag: string }>>();

  function serveAsset(name: string, req: IncomingMessage, res: ServerResponse): void {
    const asset = ASSETS.get(name);
    if (!asset) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found\n');
      return;
    }
    let content = loaded.get(name);
    if (!content) {
      // Inside the promise: a package that cannot be found is a 500, not a throw in the handler.
      content = Promise.resolve()
        .then(() => readFile(asset.file()))
        .then((body) => ({ body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` }));
      loaded.set(name, content);
    }
    content.then(
      ({ body, etag }) => {
        // Revalidated on every load: cheap on loopback, and never stale after an upgrade.
        const headers = { 'content-type': `${asset.type}; charset=utf-8`, etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
        if (req.headers['if-none-match'] === etag) res.writeHead(304, headers).end();
        else res.writeHead(200, { ...headers, 'content-length': body.length }).end(body);
      },
      () => {
        loaded.delete(name);
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`The playground's ${name} is missing; run npm ci.\n`);
      },
    );
  }

  return function playground(req, res) {
    if (req.method !== 'GET') return false;
    const [path, query = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
    if (path.startsWith(PLAYGROUND_ASSETS_PATH)) {
      serveAsset(path.slice(PLAYGROUND_ASSETS_PATH.length), req, res);
      return true;
    }
    if (path !== endpoint || !req.headers.accept?.includes('text/html')) return false;
    const params = new URLSearchParams(query);
    const kind = params.has('sandbox') ? 'sandbox' : params.has('graphiql') ? 'graphiql' : options.default;
    if (kind === 'sandbox') return false;
    res
      .writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': csp,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
      })
      .end(page);
    return true;
  };
}
