// The development issuer in its own process (its AsyncLocalStorage would slow a server sharing
// the process), answering introspection after a realistic delay and counting the calls.
import { startDevIssuer } from '../../dist/dev/issuer.js';

const delayMs = Number(process.env.BENCH_ISSUER_DELAY_MS ?? 20);
const counts = { introspections: 0, jwks: 0 };

const issuer = await startDevIssuer({
  port: 0,
  middleware: [
    async (ctx, next) => {
      if (ctx.path.endsWith('/introspect')) {
        counts.introspections += 1;
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      } else if (ctx.path.endsWith('/keys') || ctx.path.endsWith('/jwks')) {
        counts.jwks += 1;
      }
      await next();
    },
  ],
});

process.on('message', async (message) => {
  if (message.type === 'counts') process.send({ type: 'counts', ...counts });
  if (message.type === 'mint') {
    const tokens = [];
    for (let i = 0; i < message.count; i += 1) {
      const user = { ...issuer.demoUser, sub: String(300000000000000000n + BigInt(i)) };
      tokens.push(await issuer.mintToken({ user, scope: 'openid profile email' }));
    }
    // And one JWT access token, for local validation.
    process.send({ type: 'minted', tokens, jwt: await issuer.mintJwt({ scope: 'openid profile email' }) });
  }
  if (message.type === 'close') {
    await issuer.close();
    process.exit(0);
  }
});

process.send({ type: 'ready', issuer: issuer.issuer, keyJson: issuer.keyJson, projectId: issuer.projectId });
