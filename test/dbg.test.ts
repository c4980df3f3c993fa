import { it } from '@jest/globals';
import { startDevIssuer, FRONTEND_SCOPE, DEMO_ACCOUNTS } from '../src/dev/issuer.js';
import { logIn } from './helpers/login.js';
it('dbg', async () => {
  const issuer = await startDevIssuer();
  try { console.log(await logIn(issuer.issuer, { clientId: issuer.frontendClientId, scope: FRONTEND_SCOPE, username: DEMO_ACCOUNTS[0]!.user.username, password: DEMO_ACCOUNTS[0]!.password })); } catch (e) { console.log(e); }
  await issuer.close();
});
