import { createHmac, timingSafeEqual } from 'node:crypto';
import { compactIdentity, type Identity } from '../identity.js';
import type { Verdict } from '../verdict.js';

/**
 * A verdict as compact JSON for a cache shared between replicas: the mapped Identity only
 * (never the token, the raw introspection response or its `jti`), with absent claims left out.
 * Decoding trusts nothing: a value that is not exactly what `encodeVerdict` writes is a miss.
 */

const STRING_FIELDS = ['username', 'name', 'givenName', 'familyName', 'email', 'locale', 'organizationId', 'clientId'] as const;
const IDENTITY_FIELDS = new Set<string>(['id', ...STRING_FIELDS, 'emailVerified', 'roleGrants', 'scopes', 'exp']);

/** A refusal's reason, as the checks spell them (`expired`, `id_token`, ...). */
const REASON = /^[a-z_]{1,32}$/;

export function encodeVerdict(verdict: Verdict): string {
  if (!verdict.active) return verdict.reason === undefined ? '{"active":false}' : JSON.stringify({ active: false, reason: verdict.reason });
  const { identity } = verdict;
  const compact: Record<string, unknown> = { id: identity.id };
  for (const field of STRING_FIELDS) if (identity[field] !== null) compact[field] = identity[field];
  if (identity.emailVerified !== null) compact.emailVerified = identity.emailVerified;
  if (Object.keys(identity.roleGrants).length > 0) compact.roleGrants = identity.roleGrants;
  // Absent: unknown (a locally validated JWT), which differs from none.
  if (identity.scopes !== null) compact.scopes = identity.scopes;
  if (identity.exp !== null) compact.exp = identity.exp;
  return JSON.stringify({ active: true, identity: compact });
}

/** The verdict `text` encodes, or undefined when it is not one (corrupt, foreign, hostile). */
export function decodeVerdict(text: string): Verdict | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  if (value.active === false && keys.length === 1) return { active: false };
  if (value.active === false && keys.length === 2 && typeof value.reason === 'string' && REASON.test(value.reason)) return { active: false, reason: value.reason };
  if (value.active !== true || keys.length !== 2) return undefined;
  const identity = decodeIdentity(value.identity);
  return identity ? { active: true, identity } : undefined;
}

function decodeIdentity(value: unknown): Identity | undefined {
  if (!isRecord(value) || Object.keys(value).some((key) => !IDENTITY_FIELDS.has(key))) return undefined;
  const { id, emailVerified = null, roleGrants = {}, scopes = null, exp = null } = value;
  if (typeof id !== 'string' || id.length === 0) return undefined;
  const strings: Partial<Record<(typeof STRING_FIELDS)[number], string | null>> = {};
  for (const field of STRING_FIELDS) {
    const text = value[field] ?? null;
    if (text !== null && (typeof text !== 'string' || text.length === 0)) return undefined;
    strings[field] = text;
  }
  if (!(emailVerified === null || typeof emailVerified === 'boolean')) return undefined;
  if (!(exp === null || (typeof exp === 'number' && Number.isFinite(exp)))) return undefined;
  if (scopes !== null && !isStringArray(scopes)) return undefined;
  const grants = decodeRoleGrants(roleGrants);
  if (!grants) return undefined;
  return compactIdentity({
    id,
    username: strings.username ?? null,
    name: strings.name ?? null,
    givenName: strings.givenName ?? null,
    familyName: strings.familyName ?? null,
    email: strings.email ?? null,
    emailVerified,
    locale: strings.locale ?? null,
    roleGrants: grants,
    organizationId: strings.organizationId ?? null,
    scopes,
    clientId: strings.clientId ?? null,
    exp,
  });
}

/** Role -> org ids, into a prototype-less object so a key like `__proto__` stays a plain key. */
function decodeRoleGrants(value: unknown): Record<string, string[]> | undefined {
  if (!isRecord(value)) return undefined;
  const grants: Record<string, string[]> = Object.create(null);
  for (const [role, orgIds] of Object.entries(value)) {
    if (!isStringArray(orgIds)) return undefined;
    grants[role] = orgIds;
  }
  return grants;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * A verdict as a shared cache holds it: `<mac>.<until>.<verdict JSON>`, where `until` is when it
 * stops counting (ms since the epoch) and the MAC is HMAC-SHA256, under the deployment's secret,
 * of the cache key, `until` and the JSON. Whoever can write to the cache then can neither make up
 * a verdict, nor move one under another token's key, nor make one count longer.
 */
export function sealVerdict(verdict: Verdict, key: string, untilMs: number, secret: Buffer): string {
  const json = encodeVerdict(verdict);
  const until = String(Math.floor(untilMs));
  return `${mac(secret, key, until, json)}.${until}.${json}`;
}

/** The verdict `sealVerdict` sealed under `key`, and until when it counts; undefined for anything else. */
export function openVerdict(text: string, key: string, secret: Buffer): { verdict: Verdict; untilMs: number } | undefined {
  const first = text.indexOf('.');
  const second = text.indexOf('.', first + 1);
  if (first < 0 || second < 0) return undefined;
  const given = Buffer.from(text.slice(0, first), 'base64url');
  const until = text.slice(first + 1, second);
  const json = text.slice(second + 1);
  const expected = Buffer.from(mac(secret, key, until, json), 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected) || !/^\d{1,15}$/.test(until)) return undefined;
  const verdict = decodeVerdict(json);
  return verdict && { verdict, untilMs: Number(until) };
}

function mac(secret: Buffer, key: string, until: string, json: string): string {
  return createHmac('sha256', secret).update(`${key}\n${until}\n${json}`).digest('base64url');
}
