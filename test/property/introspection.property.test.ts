import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ProviderUnavailableError } from '../../src/auth/errors.js';
import { identityFromClaims } from '../../src/auth/identity.js';
import { processIntrospectionResponse } from '../../src/auth/zitadel/introspection.js';
import { fullResponse } from '../fixtures/zitadel.js';

const NOW_MS = 1_700_000_100_000;

/** ZITADEL-like claims with any of them missing, mistyped or replaced by arbitrary JSON. */
const claims = fc.dictionary(
  fc.oneof(fc.constantFrom(...Object.keys(fullResponse), '__proto__', 'constructor', 'urn:zitadel:iam:org:project:7:roles'), fc.string()),
  fc.oneof(fc.jsonValue(), fc.constantFrom(...Object.values(fullResponse))),
);

/** As `claims`, half the time with a subject, without which no identity is mapped. */
const withSubject = fc.oneof(claims, fc.tuple(claims, fc.string({ minLength: 1 })).map(([c, sub]) => ({ ...c, sub })));

describe('processIntrospectionResponse (property)', () => {
  it('should return a verdict or throw ProviderUnavailableError, never anything else', () => {
    const body = fc.oneof(fc.string(), fc.json(), claims.map((c) => JSON.stringify({ active: true, ...c })), claims.map((c) => JSON.stringify(c)));
    fc.assert(
      fc.property(fc.integer({ min: 100, max: 599 }), body, fc.dictionary(fc.constantFrom('retry-after', 'content-type'), fc.string()), (status, text, headers) => {
        try {
          const result = processIntrospectionResponse({ status, headers, body: text }, NOW_MS);
          expect(status).toBe(200);
          expect(typeof result.active).toBe('boolean');
        } catch (error) {
          expect(error).toBeInstanceOf(ProviderUnavailableError);
          const retryAfter = (error as ProviderUnavailableError).retryAfterSeconds;
          expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 120).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('identityFromClaims (property)', () => {
  it('should map any claims to a well-typed Identity or to undefined, without throwing', () => {
    let mapped = 0;
    fc.assert(
      fc.property(withSubject, fc.option(fc.stringMatching(/^\d{1,18}$/), { nil: undefined }), (input, projectId) => {
        const identity = identityFromClaims(input, { projectId });
        if (identity === undefined) return;
        mapped += 1;
        expect(typeof identity.id).toBe('string');
        expect(identity.id.length).toBeGreaterThan(0);
        for (const field of ['username', 'name', 'givenName', 'familyName', 'email', 'locale', 'organizationId', 'clientId'] as const) {
          expect(identity[field] === null || typeof identity[field] === 'string').toBe(true);
        }
        expect(identity.exp === null || Number.isFinite(identity.exp)).toBe(true);
        // Introspection always knows the scopes (possibly none); only a local JWT leaves them null.
        expect(identity.scopes?.every((s) => typeof s === 'string' && s.length > 0 && !s.includes(' '))).toBe(true);
        for (const [role, orgs] of Object.entries(identity.roleGrants)) {
          expect(typeof role).toBe('string');
          expect(orgs.every((o) => typeof o === 'string')).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
    // Half the inputs carry a usable subject, so the checks above ran on many identities.
    expect(mapped).toBeGreaterThan(500);
  });
});
