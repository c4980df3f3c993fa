import type { Logger } from 'pino';
import { OutageLog } from '../../observability/outageLog.js';
import type { HttpClient, HttpResponse } from './httpClient.js';
import { ProviderUnavailableError } from '../errors.js';
import { toProviderError } from './transport.js';

/** What we use from `/.well-known/openid-configuration`. */
export interface IssuerMetadata {
  /** Exactly as discovery spells it: the `aud` of our client assertions (ZITADEL compares it verbatim). */
  readonly issuer: string;
  readonly introspectionEndpoint: URL;
  /** The issuer's published signing keys, for local JWT validation; undefined when not advertised. */
  readonly jwksUri: URL | undefined;
}

/** A discovery document we cannot use; a configuration fault, logged and retried. */
export class DiscoveryDocumentError extends Error {
  readonly code = 'DISCOVERY_DOCUMENT_INVALID';
  override name = 'DiscoveryDocumentError';
}

/** Validates a discovery response (OpenID Connect Discovery 1.0 §4). Pure. */
export function parseDiscoveryResponse(response: HttpResponse, configuredIssuer: URL): IssuerMetadata {
  if (response.status !== 200) {
    throw new DiscoveryDocumentError(`discovery answered HTTP ${response.status}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(response.body);
  } catch {
    throw new DiscoveryDocumentError('discovery document is not JSON');
  }
  if (typeof doc !== 'object' || doc === null) throw new DiscoveryDocumentError('discovery document is not an object');
  const { issuer, introspection_endpoint: endpoint, jwks_uri: jwksUri } = doc as Record<string, unknown>;
  if (typeof issuer !== 'string') throw new DiscoveryDocumentError('discovery document lacks "issuer"');
  // §4.3: the issuer must be the one we asked; tolerate only a trailing slash typed in config.
  if (stripSlash(issuer) !== stripSlash(configuredIssuer.href)) {
    throw new DiscoveryDocumentError(`discovery names issuer ${issuer}, but ZITADEL_ISSUER is ${configuredIssuer.href}`);
  }
  if (typeof endpoint !== 'string' || !URL.canParse(endpoint)) {
    throw new DiscoveryDocumentError('discovery document lacks a valid "introspection_endpoint"');
  }
  // Only JWT validation needs the keys, so a missing jwks_uri fails there, not here.
  const keys = typeof jwksUri === 'string' && URL.canParse(jwksUri) ? new URL(jwksUri) : undefined;
  const introspectionEndpoint = new URL(endpoint);
  // ZITADEL serves every endpoint on the issuer's origin. One elsewhere would receive our
  // client credentials and every token, and could call any of them active.
  const origin = new URL(issuer).origin;
  for (const [name, url] of [['introspection_endpoint', introspectionEndpoint], ['jwks_uri', keys]] as const) {
    if (url && url.origin !== origin) {
      throw new DiscoveryDocumentError(`discovery names ${name} ${url.origin}, outside the issuer's origin ${origin}: refused`);
    }
  }
  return { issuer, introspectionEndpoint, jwksUri: keys };
}

export function discoveryUrl(issuer: URL): URL {
  return new URL(`${stripSlash(issuer.href)}/.well-known/openid-configuration`);
}

function stripSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

export interface DiscoveryOptions {
  readonly issuer: URL;
  readonly http: HttpClient;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** Background retry after a failure: doubles from `initialMs` up to `maxMs`. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
}

/**
 * Holds the issuer's metadata. Fetched at start; while it fails, retried in the background
 * with exponential backoff (the server is up but not ready). Once known, a later refresh
 * (after introspection failed at the transport level) keeps the old metadata in use until a
 * new document arrives.
 */
export class Discovery {
  #metadata: IssuerMetadata | undefined;
  #inflight: Promise<IssuerMetadata> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delayMs: number;
  #stopped = false;
  readonly #options: DiscoveryOptions;
  readonly #backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly #outage: OutageLog;

  constructor(options: DiscoveryOptions) {
    this.#options = options;
    this.#outage = new OutageLog(options.logger, 'issuer discovery');
    this.#backoff = options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    this.#delayMs = this.#backoff.initialMs;
  }

  /** True once a discovery document has been fetched. */
  get ready(): boolean {
    return this.#metadata !== undefined;
  }

  /** Seconds a caller should wait before retrying while discovery is failing. */
  get retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.#delayMs / 1000));
  }

  /** Starts the first fetch; failures are logged and retried in the background. */
  start(): Promise<boolean> {
    return this.#refresh().then(
      () => true,
      () => false,
    );
  }

  /** The metadata, or ProviderUnavailableError('PROVIDER_NOT_READY') while none is known. */
  async get(): Promise<IssuerMetadata> {
    if (this.#metadata) return this.#metadata;
    try {
      // While a retry is scheduled, fail fast: requests must not turn into a discovery flood.
      if (this.#timer) throw new Error('waiting for the next discovery attempt');
      return await this.#refresh();
    } catch (cause) {
      throw new ProviderUnavailableError('PROVIDER_NOT_READY', 'issuer discovery has not succeeded', this.retryAfterSeconds, { cause });
    }
  }

  /** The endpoint looked unreachable: fetch the document again in the background. */
  invalidate(): void {
    if (!this.#timer && !this.#inflight) this.#refresh().catch(() => undefined);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #refresh(): Promise<IssuerMetadata> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<IssuerMetadata> {
    const { issuer, http, timeoutMs, logger } = this.#options;
    const url = discoveryUrl(issuer);
    try {
      const response = await http.send({ method: 'GET', url, timeoutMs }).catch((error: unknown) => {
        throw toProviderError(error, url);
      });
      const metadata = parseDiscoveryResponse(response, issuer);
      if (!this.#metadata) logger.info({ issuer: metadata.issuer, introspectionEndpoint: metadata.introspectionEndpoint.href, jwksUri: metadata.jwksUri?.href }, 'issuer discovered');
      this.#outage.succeeded();
      this.#metadata = metadata;
      this.#delayMs = this.#backoff.initialMs;
      return metadata;
    } catch (error) {
      // An unusable document needs an operator; an unreachable issuer passes by itself. Logged
      // once per kind of failure, however many retries it takes.
      const level = error instanceof ProviderUnavailableError ? 'warn' : 'error';
      // A different answer is a different failure (a 502, then a document naming a foreign issuer).
      const kind = error instanceof Error ? `${(error as { code?: unknown }).code ?? error.name}: ${error.message}` : String(error);
      this.#outage.failed(kind, level, { err: error, url: url.href, retryInMs: this.#delayMs }, 'issuer discovery failed');
      this.#scheduleRetry();
      throw error;
    }
  }

  #scheduleRetry(): void {
    if (this.#stopped || this.#timer) return;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(this.#delayMs * 2, this.#backoff.maxMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#refresh().catch(() => undefined);
    }, delay);
    this.#timer.unref();
  }
}
