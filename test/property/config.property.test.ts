import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/config.js';
import { applicationKey } from '../helpers/keys.js';

// Every variable src/config.ts reads, found in its source so a new one is fuzzed too.
const VARIABLES = [...new Set(readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8').match(/'[A-Z][A-Z0-9_]{3,}'/g) ?? [])]
  .map((quoted) => quoted.slice(1, -1))
  .filter((name) => name !== 'NODE_ENV' && name !== 'ENOENT');
const key = applicationKey();
// Key material pasted into any variable must not come back in an error (which reaches logs).
const PEM_LINE = key.json.split('\\n')[1]!;
const SECRETS = [key.json, JSON.parse(key.json).key as string];

/** Plausible and implausible values alike. */
const value = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '0', '1', '-1', '1.5', '65535', '99999999999999999999', 'true', 'https://acme.zitadel.cloud', 'http://[::1]:8080', '*', 'info', 'a,b', ...SECRETS),
);
const env = fc.record(
  { NODE_ENV: fc.constantFrom('production', 'development', ''), ...Object.fromEntries(VARIABLES.map((name) => [name, value])) },
  { requiredKeys: [] },
);

describe('loadConfig (property)', () => {
  it('should know the variables it fuzzes', () => {
    expect(VARIABLES).toEqual(expect.arrayContaining(['ZITADEL_ISSUER', 'ZITADEL_KEY_JSON', 'PORT', 'HOST', 'LOG_LEVEL']));
    expect(PEM_LINE).toMatch(/^[A-Za-z0-9+/=]{40,}$/);
  });

  it('should return a config or throw a ConfigError naming a variable, never echoing a secret', () => {
    fc.assert(
      fc.property(env, (input) => {
        try {
          loadConfig(input as Record<string, string>);
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error;
          expect(VARIABLES).toContain(error.variable.split('/')[0]);
          expect(error.message.startsWith(`${error.variable}: `)).toBe(true);
          expect(error.message).not.toContain(PEM_LINE);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
