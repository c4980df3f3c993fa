import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { rsaKey } from './keys.js';
import { startDevIssuer, type DevIssuer, type DevIssuerOptions, type IssuerMiddleware, type MintOptions } from '../../src/dev/issuer.js';

/** A failure the issuer's introspection endpoint acts out, for the next `times` requests (default: all). */
export type Fault = (
  | { readonly kind: 'status'; readonly status: number; readonly headers?: Record<string, string>; readonly body?: string }
  | { readonly kind: 'delay'; readonly ms: number }
  /** Answers only once `until` settles: a ZITADEL slower than any deadline, released by the test. */
  | { readonly kind: 'hold'; readonly until: Promise<void> }
  | { readonly kind: 'reset' }
) & { readonly times?: number };

export interface TestIssuer extends DevIssuer {
  /** Introspection requests received so far. */
  readonly introspections: number;
  /** Discovery requests received so far. */
  readonly discoveries: number;
  /** Key set (JWKS) requests received so far. */
  readonly jwksFetches: number;
  /** Introspection requests received while `action` ran. */
  introspectionsDuring(action: () => Promise<unknown>): Promise<number>;
  /** Every token minted so far (to prove none reaches a log). */
  readonly minted: readonly string[];
  /** What the introspection endpoint acts out. */
  fault: Fault | undefined;
  /** What the discovery endpoint acts out. */
  discoveryFault: Fault | undefined;
  /** What the key set endpoint acts out. */
  jwksFault: Fault | undefined;
}

/** Waits `ms`, or less when the client closes the connection first: no timer outlives the request. */
async function delay(ms: number, socket: Socket): Promise<void> {
  if (socket.destroyed) return;
  const gone = new AbortController();
  const abort = () => gone.abort();
  socket.once('close', abort);
  try {
    await sleep(ms, undefined, { signal: gone.signal });
  } catch (error) {
    if (!gone.signal.aborted) throw error;
  } finally {
    socket.off('close', abort);
  }
}

/**
 * An opaque token that expires in 0.5 to 1 s. A token's exp is whole seconds after the second it
 * was minted in, so one minted late in a second could be dead on arrival: it waits for the next
 * second first.
 */
export async function mintShortLived(issuer: Pick<DevIssuer, 'mintToken'>, options: Omit<MintOptions, 'expiresInSeconds'> = {}): Promise<string> {
  const intoSecond = Date.now() % 1000;
  if (intoSecond > 500) await sleep(1000 - intoSecond);
  return issuer.mintToken({ ...options, expiresInSeconds: 1 });
}

/** The development issuer's two RSA keys, from the run's pool. */
export function devIssuerKeys(): Pick<DevIssuerOptions, 'apiPrivateKey' | 'signingPrivateKey'> {
  return { apiPrivateKey: rsaKey(), signingPrivateKey: rsaKey() };
}

/**
 * The real development issuer (oidc-provider over HTTP on loopback), plus a Koa middleware in
 * front of it that counts requests and can act out an outage. Nothing of ours is mocked.
 */
export async function startTestIssuer(options: DevIssuerOptions = {}): Promise<TestIssuer> {
  const counts = { introspections: 0, discoveries: 0, jwksFetches: 0 };
  const state: { fault: Fault | undefined; discoveryFault: Fault | undefined; jwksFault: Fault | undefined } = {
    fault: undefined,
    discoveryFault: undefined,
    jwksFault: undefined,
  };

  const uses = new WeakMap<Fault, number>();
  const faults: IssuerMiddleware = async (ctx, next) => {
    let fault: Fault | undefined;
    if (ctx.path === '/.well-known/openid-configuration') {
      counts.discoveries += 1;
      fault = state.discoveryFault;
    } else if (ctx.path === '/oauth/v2/introspect') {
      counts.introspections += 1;
      fault = state.fault;
    } else if (ctx.path === '/oauth/v2/keys') {
      counts.jwksFetches += 1;
      fault = state.jwksFault;
    }
    if (fault?.times !== undefined) {
      const used = (uses.get(fault) ?? 0) + 1;
      uses.set(fault, used);
      if (used > fault.times) fault = undefined;
    }
    if (!fault) return next();
    switch (fault.kind) {
      case 'status':
        ctx.status = fault.status;
        for (const [name, value] of Object.entries(fault.headers ?? {})) ctx.set(name, value);
        ctx.body = fault.body ?? JSON.stringify({ error: 'server_error' });
        return;
      case 'delay':
      case 'hold':
        await (fault.kind === 'delay' ? delay(fault.ms, ctx.req.socket) : fault.until);
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
  const issuer = await startDevIssuer({ ...devIssuerKeys(), ...options, middleware: [faults] });

  const minted: string[] = [];
  return {
    ...issuer,
    minted,
    async mintToken(mintOptions) {
      const token = await issuer.mintToken(mintOptions);
      minted.push(token);
      return token;
    },
    async mintJwt(mintOptions) {
      const token = await issuer.mintJwt(mintOptions);
      minted.push(token);
      return token;
    },
    async introspectionsDuring(action) {
      const before = counts.introspections;
      await action();
      return counts.introspections - before;
    },
    // Spreading `issuer` copied its getters' values: read them live.
    get signingKeyIds() {
      return issuer.signingKeyIds;
    },
    get jwksFetches() {
      return counts.jwksFetches;
    },
    get jwksFault() {
      return state.jwksFault;
    },
    set jwksFault(value: Fault | undefined) {
      state.jwksFault = value;
    },
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
    get discoveryFault() {
      return state.discoveryFault;
    },
    set discoveryFault(value: Fault | undefined) {
      state.discoveryFault = value;
    },
  };
}
