// The playground page's script: GraphiQL (served from this server, no CDN) with the
// Authorization header prefilled, and, with the development issuer, a login through it
// (authorization code + PKCE, by oidc-client-ts, as a front end does it). Its settings are
// the JSON in #playground-config, written by the server (src/http/playground.ts).
/* global React, ReactDOM, GraphiQL, oidc */
'use strict';

(async function main() {
  const config = JSON.parse(document.getElementById('playground-config').textContent);
  const bar = document.getElementById('playground-bar');
  // Where the login returns: this page, with `?graphiql` when Apollo Sandbox is the default.
  const here = location.origin + location.pathname + (new URLSearchParams(location.search).has('graphiql') ? '?graphiql' : '');
  let headers = config.headers;
  let status = config.login ? { text: `Authorization: the token printed at start (${config.login.printedFor}).` } : undefined;
  let userManager;

  if (config.login) {
    // Stored per start of the issuer: a login from an earlier run holds tokens nobody accepts now.
    const store = new oidc.WebStorageStateStore({ store: window.sessionStorage, prefix: `playground.${config.login.instance}.` });
    userManager = new oidc.UserManager({
      authority: config.login.issuer,
      client_id: config.login.clientId,
      redirect_uri: here,
      post_logout_redirect_uri: here,
      response_type: 'code',
      scope: config.login.scope,
      loadUserInfo: true,
      automaticSilentRenew: false,
      userStore: store,
      stateStore: store,
    });
    const params = new URLSearchParams(location.search);
    let user = null;
    if (params.has('state') && (params.has('code') || params.has('error'))) {
      try {
        user = await userManager.signinRedirectCallback();
      } catch (error) {
        status = { text: `Login failed: ${error.message}`, error: true };
      }
      // The code is spent; keep it out of the history and of reloads.
      history.replaceState(null, '', here);
    } else {
      user = await userManager.getUser();
    }
    if (user && !user.expired) {
      headers = { Authorization: `Bearer ${user.access_token}` };
      const roles = Object.keys(user.profile[`urn:zitadel:iam:org:project:${config.login.projectId}:roles`] || {});
      status = { text: `Logged in as ${user.profile.preferred_username || user.profile.sub} (roles: ${roles.length ? roles.join(', ') : 'none'}).`, user };
    }
  }

  renderBar();
  const fetcher = GraphiQL.createFetcher({ url: config.endpoint });
  const headerText = headers ? JSON.stringify(headers, null, 2) : undefined;
  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: config.query,
      defaultEditorToolsVisibility: 'headers',
      ...(headerText ? { headers: headerText, defaultHeaders: headerText } : {}),
    }),
  );

  function renderBar() {
    bar.replaceChildren();
    const text = document.createElement('span');
    text.id = 'playground-status';
    text.textContent = status ? status.text : 'Put your token into the Authorization header (Headers, below).';
    if (status && status.error) text.className = 'error';
    bar.append(text);
    if (userManager) {
      const button = document.createElement('button');
      button.type = 'button';
      if (status && status.user) {
        button.textContent = 'Log out';
        button.onclick = () => userManager.signoutRedirect({ id_token_hint: status.user.id_token });
      } else {
        button.textContent = 'Log in';
        // prompt=login: choose the user every time, even while the issuer remembers one.
        button.onclick = () => userManager.signinRedirect({ prompt: 'login' });
      }
      bar.append(button);
    }
    const sandbox = document.createElement('a');
    sandbox.href = `${config.endpoint}?sandbox`;
    sandbox.textContent = 'Apollo Sandbox';
    bar.append(sandbox);
  }
})();
