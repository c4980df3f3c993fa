import bodyParser from 'body-parser';
import type http from 'node:http';
import type Provider from 'oidc-provider';
import type { DemoAccount } from './directory.js';
import { errorPage, loginPage } from './pages.js';

/** Where oidc-provider sends the browser to log in; ZITADEL's login UI lives under the same path. */
export const INTERACTION_PATH = '/ui/login/';

const readForm = bodyParser.urlencoded({ extended: false, limit: '16kb' });

/**
 * The login UI: a password form for the demo accounts, and consent given at once, as ZITADEL
 * gives it for the applications of its own instance. Answers requests under INTERACTION_PATH;
 * returns false for any other.
 */
export function createInteractions(provider: Provider, accounts: readonly DemoAccount[]) {
  const byUsername = new Map(accounts.map((account) => [account.user.username.toLowerCase(), account]));

  async function show(req: http.IncomingMessage, res: http.ServerResponse, error?: { username: string; message: string }): Promise<void> {
    const interaction = await provider.interactionDetails(req, res);
    const { uid, prompt, params, session } = interaction;
    if (prompt.name === 'login') {
      const html = loginPage({
        action: `${INTERACTION_PATH}${uid}/login`,
        abortAction: `${INTERACTION_PATH}${uid}/abort`,
        clientId: String(params.client_id),
        accounts,
        ...(error ? { username: error.username, error: error.message } : {}),
      });
      send(res, error ? 401 : 200, html);
      return;
    }
    // Consent: grant what was asked for, and go on.
    const grant = interaction.grantId
      ? await provider.Grant.find(interaction.grantId)
      : new provider.Grant({ accountId: session?.accountId, clientId: String(params.client_id) });
    if (!grant) throw new Error('the interaction\'s grant is gone');
    const details = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }

  async function login(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const form = await new Promise<Record<string, unknown>>((resolve, reject) =>
      readForm(req, res, (error?: unknown) => (error ? reject(error) : resolve(((req as { body?: Record<string, unknown> }).body) ?? {}))),
    );
    const username = typeof form.username === 'string' ? form.username.trim() : '';
    const account = byUsername.get(username.toLowerCase());
    if (!account || form.password !== account.password) {
      return show(req, res, { username, message: 'Unknown login name or wrong password.' });
    }
    await provider.interactionFinished(req, res, { login: { accountId: account.user.sub, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
  }

  async function abort(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'The user cancelled the login.' }, { mergeWithLastSubmission: false });
  }

  return function handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    if (!path.startsWith(INTERACTION_PATH)) return false;
    const action = path.slice(INTERACTION_PATH.length).split('/')[1];
    const step = req.method === 'GET' && action === undefined ? show : req.method === 'POST' && action === 'login' ? login : req.method === 'POST' && action === 'abort' ? abort : undefined;
    if (!step) {
      send(res, 404, errorPage('not_found', 'No such page.'));
      return true;
    }
    step(req, res).catch((error: unknown) => {
      // An unknown or expired interaction (its cookie gone, or a second tab): say so, start over.
      const name = (error as { name?: string }).name;
      const description = name === 'SessionNotFound' ? 'This login has expired or was finished in another tab; start again from the application.' : 'The login could not go on.';
      if (!res.headersSent) send(res, 400, errorPage('invalid_request', description));
      else res.destroy();
    });
    return true;
  };
}

function send(res: http.ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
}
