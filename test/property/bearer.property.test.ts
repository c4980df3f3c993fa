import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { MAX_TOKEN_LENGTH, parseAuthorization } from '../../src/auth/bearer.js';

const B64TOKEN_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/';
const b64token = fc
  .tuple(fc.string({ unit: fc.constantFrom(...B64TOKEN_CHARS), minLength: 1, maxLength: 200 }), fc.string({ unit: fc.constant('='), maxLength: 3 }))
  .map(([body, padding]) => body + padding);
const header = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary' }),
  b64token.map((t) => `Bearer ${t}`),
  fc.tuple(fc.constantFrom('bearer', 'BEARER', 'Basic', 'Bearer', 'Token', ''), fc.string({ maxLength: 3 }), b64token).map(([s, sep, t]) => `${s}${sep}${t}`),
);

describe('parseAuthorization (property)', () => {
  it('should never throw, and only accept a bounded b64token that is in the header', () => {
    fc.assert(
      fc.property(fc.oneof(header, fc.array(header, { maxLength: 3 }), fc.constant(undefined)), (value) => {
        const credential = parseAuthorization(value);
        expect(['none', 'malformed', 'token']).toContain(credential.kind);
        if (credential.kind === 'token') {
          expect(typeof value).toBe('string');
          expect(credential.token.length).toBeLessThanOrEqual(MAX_TOKEN_LENGTH);
          expect(credential.token).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
          expect(value as string).toContain(credential.token);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('should read back any b64token sent with the Bearer scheme, whatever its case', () => {
    fc.assert(
      fc.property(b64token, fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR'), fc.integer({ min: 1, max: 3 }), (token, scheme, spaces) => {
        expect(parseAuthorization(`${scheme}${' '.repeat(spaces)}${token}`)).toEqual({ kind: 'token', token });
      }),
    );
  });
});
