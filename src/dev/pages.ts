import type { DemoAccount } from './directory.js';

/**
 * The development issuer's HTML pages: login, sign-out and errors. Pure functions of their
 * inputs; nothing loads from elsewhere (no fonts, no scripts but the sign-out page's one line),
 * so they work offline.
 */

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escape = (text: string) => text.replace(/[&<>"']/g, (c) => escapes[c]!);

const STYLE = `body{font:15px/1.4 system-ui,sans-serif;background:#f4f5f7;color:#1d1f24;margin:0}
main{max-width:34rem;margin:3rem auto;background:#fff;border-radius:8px;box-shadow:0 1px 4px #0002;padding:1.5rem 2rem}
h1{font-size:1.3rem;margin:0 0 .25rem}p.note{color:#5b6270;margin:.25rem 0 1rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #c3c7cf;border-radius:4px}
.actions{display:flex;gap:.5rem;margin-top:1rem}button{font:inherit;padding:.5rem 1rem;border-radius:4px;border:1px solid #3b5bdb;background:#3b5bdb;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#3b5bdb}.error{background:#fff0f0;border:1px solid #e03131;color:#a61e1e;padding:.5rem .75rem;border-radius:4px}
table{border-collapse:collapse;width:100%;margin-top:1.5rem;font-size:13px}th,td{text-align:left;padding:.35rem .4rem;border-top:1px solid #e3e5e9;vertical-align:top}code{font-size:12px}`;

function page(title: string, body: string, head = ''): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,"><title>${escape(title)}</title><style>${STYLE}</style>${head}</head>
<body><main>${body}</main></body></html>`;
}

interface LoginPageInput {
  /** The form's target (the interaction's login URL). */
  readonly action: string;
  readonly abortAction: string;
  readonly clientId: string;
  readonly accounts: readonly DemoAccount[];
  readonly username?: string;
  readonly error?: string;
}

/** ZITADEL's login, reduced to a form: inputs named `username` and `password`, and the demo accounts beside it. */
export function loginPage(input: LoginPageInput): string {
  const rows = input.accounts
    .map(({ user, password, description }) => `<tr><td><code>${escape(user.username)}</code></td><td><code>${escape(password)}</code></td><td>${escape(description)}</td></tr>`)
    .join('');
  return page(
    'Log in · development issuer',
    `<h1>Log in</h1>
<p class="note">Development issuer standing in for ZITADEL, for application <code>${escape(input.clientId)}</code>.</p>
${input.error ? `<p class="error" role="alert">${escape(input.error)}</p>` : ''}
<form method="post" action="${escape(input.action)}" autocomplete="off">
<label for="username">Login name</label><input id="username" name="username" value="${escape(input.username ?? '')}" autofocus required>
<label for="password">Password</label><input id="password" name="password" type="password" required>
<div class="actions"><button type="submit">Log in</button><button type="submit" class="secondary" formaction="${escape(input.abortAction)}" formnovalidate>Cancel</button></div>
</form>
<table><thead><tr><th>Demo user</th><th>Password</th><th>Project roles</th></tr></thead><tbody>${rows}</tbody></table>`,
  );
}

/**
 * Sign-out, as ZITADEL's end_session does it: no question asked, the browser goes on to the
 * application's post-logout URI. `form` is oidc-provider's (it holds the anti-forgery value).
 */
export function logoutPage(form: string): string {
  return page(
    'Signing out · development issuer',
    `<h1>Signing out…</h1>${form}<input type="hidden" name="logout" value="yes" form="op.logoutForm">
<noscript><button type="submit" form="op.logoutForm">Sign out</button></noscript>
<script>document.getElementById('op.logoutForm').submit()</script>`,
  );
}

export function signedOutPage(): string {
  return page('Signed out · development issuer', '<h1>Signed out</h1><p class="note">You can close this page.</p>');
}

export function errorPage(error: string, description: string | undefined): string {
  return page(
    'Error · development issuer',
    `<h1>Error</h1><p class="error" role="alert"><code>${escape(error)}</code>${description ? `: ${escape(description)}` : ''}</p>`,
  );
}
