import { setTimeout as sleep } from 'node:timers/promises';
import { startDevIssuer, type DevIssuer, type DevIssuerOptions, type IssuerMiddleware } from '../../src/dev/issuer.js';

/** A failure the issuer's introspection endpoint acts out. */
export type Fault =
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | { readonly kind: 'delay'; readonly ms: number }
  | { readonly kind: 'reset' };

export interface TestIssuer extends DevIssuer {
  /** Introspection requests received so far. */
  readonly introspections: number;
  /** Discovery requests received so far. */
  readonly discoveries: number;
  fault: Fault | undefined;
}

/**
 * The real development issuer (oidc-provider over HTTP on loopback), plus a Koa middleware in
 * front of it that counts requests and can act out an outage. Nothing of ours is mocked.
 */
export async function startTestIssuer(options: DevIssuerOptions = {}): Promise<TestIssuer> {
  const counts = { introspections: 0, discoveries: 0 };
  const state: { fault: Fault | undefined } = { fault: undefined };

  const faults: IssuerMiddleware = async (ctx, next) => {
    if (ctx.path === '/.well-known/openid-configuration') counts.discoveries += 1;
    if (ctx.path !== '/oauth/v2/introspect') return next();
    counts.introspections += 1;
    const fault = state.fault;
    if (!fault) return next();
    switch (fault.kind) {
      case 'status':
        ctx.status = fault.status;
        for (const [name, value] of Object.entries(fault.headers ?? {})) ctx.set(name, value);
        ctx.body = fault.body ?? JSON.stringify({ error: 'server_error' });
        return;
      case 'delay':
        await sleep(fault.ms);
        // The server gave up on us meanwhile: nothing left to answer.
        if (ctx.req.socket.destroyed) {
          ctx.respond = false;
          return;
        }
        return next();
      case 'reset':
        ctx.respond = false;
        ctx.req.socket.destroy();
        return;
    }
  };
  const issuer = await startDevIssuer({ ...options, middleware: [faults] });

  return {
    ...issuer,
    get introspections() {
      return counts.introspections;
    },
    get discoveries() {
      return counts.discoveries;
    },
    get fault() {
      return state.fault;
    },
    set fault(value: Fault | undefined) {
      state.fault = value;
    },
  };
}
