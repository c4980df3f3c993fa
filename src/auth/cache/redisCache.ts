import { createHash, hkdfSync } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { OutageLog } from '../../observability/outageLog.js';
import type { ClientCredentials } from '../../config.js';
import type { SharedCache, SharedEntry } from './tokenCache.js';
import type { TokenValidationMode } from '../../config.js';
import { openVerdict, sealVerdict } from './verdictCodec.js';

export const KEY_PREFIX = 'zitadel-graphql:token:';
/** Part of every key: a new value format gets new keys instead of misreading old ones. */
const FORMAT_VERSION = 3;

/**
 * How a verdict was made: it holds only for the issuer, client and project that obtained it, and
 * for the validation mode that made it (an `auto` replica's locally validated JWT saw no
 * revocation, and read its roles from the token; an introspecting replica must not take it).
 */
export interface KeyScope {
  readonly issuer: string;
  readonly clientId: string | undefined;
  readonly projectId: string | undefined;
  readonly mode: TokenValidationMode;
}

/**
 * `zitadel-graphql:token:<scope>:`, the token hash follows. The scope (a short hash of the
 * issuer, client, project, validation mode and value format) keeps deployments that share one
 * Redis apart: a token active for another project must never be taken as active here.
 */
export function redisKeyPrefix(scope: KeyScope): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([FORMAT_VERSION, scope.issuer, scope.clientId ?? null, scope.projectId ?? null, scope.mode]))
    .digest('base64url')
    .slice(0, 16);
  return `${KEY_PREFIX}${digest}:`;
}

/**
 * The secret under which replicas seal what they share (verdictCodec `sealVerdict`): derived
 * (HKDF-SHA256, RFC 5869) from the API application's credentials, which every replica of a
 * deployment has and Redis does not.
 */
export function sharedCacheSecret(credentials: ClientCredentials): Buffer {
  const material =
    credentials.method === 'private_key_jwt' ? credentials.key.privateKey.export({ type: 'pkcs8', format: 'der' }) : Buffer.from(credentials.clientSecret, 'utf8');
  return Buffer.from(hkdfSync('sha256', material, 'zitadel-graphql-api', 'shared token verdicts v1', 32));
}

export interface RedisCacheOptions {
  /** redis:// or rediss:// (validated by the configuration). */
  readonly url: string;
  /** Longest a request waits for Redis before going on without it. */
  readonly timeoutMs: number;
  readonly keyPrefix: string;
  /** sharedCacheSecret(): values are sealed with it, and a value that fails it is a miss. */
  readonly secret: Buffer;
  readonly logger: Logger;
}

/** Reconnect delay: quick at first, then every 2 s while Redis stays away. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 100, 2000);

/**
 * The shared verdict cache on Redis. Redis is an optimisation, never a dependency: every
 * failure (down, slow, restarted, a value we cannot read) is a miss, within `timeoutMs`.
 * Commands are never queued while disconnected nor resent after a reconnect; the client
 * reconnects by itself. An outage is logged once, and so is its recovery.
 */
export class RedisCache implements SharedCache {
  readonly #client: Redis;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #secret: Buffer;
  readonly #outage: OutageLog;
  /** A value failed its seal since the last one that passed (logged once). */
  #forged = false;
  #connected = false;
  #closed = false;

  constructor(options: RedisCacheOptions) {
    this.#prefix = options.keyPrefix;
    this.#timeoutMs = options.timeoutMs;
    this.#logger = options.logger;
    this.#secret = options.secret;
    this.#outage = new OutageLog(options.logger, 'shared token cache');
    this.#client = new Redis(options.url, {
      // Fail a command at once while disconnected instead of holding it for the reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.timeoutMs,
      // A connection that answers nothing (a paused or wedged server) is dropped, so requests
      // meanwhile fail fast as "not connected" rather than each waiting for the timeout.
      socketTimeout: options.timeoutMs * 4,
      connectTimeout: Math.max(options.timeoutMs * 4, 1000),
      // On close, how long a socket may take to end before it is destroyed (default 2 s).
      disconnectTimeout: options.timeoutMs,
      retryStrategy: reconnectDelay,
    });
    this.#client.on('ready', () => this.#up());
    // Connection errors arrive here (once per reconnect attempt); without a listener ioredis
    // would print each to the console.
    this.#client.on('error', (error: Error) => this.#down(error));
    this.#client.on('close', () => this.#down(new Error('connection closed')));
  }

  async get(key: string): Promise<SharedEntry | undefined> {
    if (this.#client.status !== 'ready') return undefined;
    const redisKey = this.#prefix + key;
    try {
      // GET and PTTL in one round trip: the copy we keep expires when the shared entry does,
      // measured by Redis's clock, not ours.
      const replies = await this.#withTimeout(this.#client.pipeline().get(redisKey).pttl(redisKey).exec());
      const [[getError, text] = [], [ttlError, ttl] = []] = replies ?? [];
      if (getError || ttlError) throw getError ?? ttlError;
      this.#up();
      if (typeof text !== 'string' || typeof ttl !== 'number' || ttl <= 0) return undefined;
      const opened = openVerdict(text, redisKey, this.#secret);
      if (!opened) {
        this.#unsealed();
        return undefined;
      }
      this.#forged = false;
      // Redis's own expiry, and never past the time sealed into the value.
      const ttlMs = Math.min(ttl, opened.untilMs - Date.now());
      return ttlMs > 0 ? { verdict: opened.verdict, ttlMs } : undefined;
    } catch (error) {
      this.#down(error);
      return undefined;
    }
  }

  /** Fire-and-forget: the response never waits for it. */
  set(key: string, { verdict, ttlMs }: SharedEntry): void {
    const ttl = Math.floor(ttlMs);
    if (this.#client.status !== 'ready' || ttl <= 0) return;
    // PX: Redis counts the remaining time by its own clock; the entry goes at the token's
    // `exp` or the max TTL, whichever comes first (the caller's `ttlMs`).
    const redisKey = this.#prefix + key;
    this.#client.set(redisKey, sealVerdict(verdict, redisKey, Date.now() + ttl, this.#secret), 'PX', ttl).then(
      () => this.#up(),
      (error: unknown) => this.#down(error),
    );
  }

  /** Stops reconnecting and closes the connection, waiting at most `timeoutMs` for it to end. */
  async close(): Promise<void> {
    this.#closed = true;
    // Between reconnect attempts there is no socket, and so no 'end' to wait for.
    const open = ['connecting', 'connect', 'ready'].includes(this.#client.status);
    const ended = open ? new Promise<void>((resolve) => this.#client.once('end', () => resolve())) : undefined;
    this.#client.disconnect();
    // A paused server never acknowledges the close: do not let it hold up a shutdown.
    if (ended) await this.#withTimeout(ended).catch(() => undefined);
  }

  /** Our own bound on top of ioredis's command timeout, so nothing can hold a request longer. */
  async #withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #up(): void {
    if (this.#closed) return;
    if (this.#outage.ongoing) this.#outage.succeeded();
    else if (!this.#connected) this.#logger.info('shared token cache connected');
    this.#connected = true;
  }

  /** Someone else writes to this Redis, or replicas run with different credentials. */
  #unsealed(): void {
    if (this.#forged) return;
    this.#forged = true;
    this.#logger.warn('shared token cache holds a value that fails its seal: ignored (does something else write to this Redis, or do replicas use different credentials?)');
  }

  /** Logs only the message: ioredis errors can carry the command, and a value holds an identity. */
  #down(error: unknown): void {
    if (this.#closed) return;
    // One kind of outage: ioredis reports each reconnect attempt, with messages that vary.
    const reason = error instanceof Error ? error.message : String(error);
    this.#outage.failed('unavailable', 'warn', { reason }, 'shared token cache unavailable: using the local cache and introspection');
  }
}
