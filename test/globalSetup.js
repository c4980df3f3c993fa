import { generateKeyPair } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * RSA keys for the whole run, made once: a 2048-bit key costs about 250 ms of CPU, and the
 * suite starts dozens of issuers with two each. Workers read them from the file named by
 * TEST_RSA_KEYS (test/helpers/keys.ts); globalTeardown.js removes it.
 */
const POOL_SIZE = 8;

export default async function globalSetup() {
  const dir = await mkdtemp(join(tmpdir(), 'test-rsa-keys-'));
  const keys = await Promise.all(Array.from({ length: POOL_SIZE }, () => promisify(generateKeyPair)('rsa', { modulusLength: 2048 })));
  const file = join(dir, 'keys.json');
  await writeFile(file, JSON.stringify(keys.map(({ privateKey }) => privateKey.export({ type: 'pkcs8', format: 'pem' }))), { mode: 0o600 });
  process.env.TEST_RSA_KEYS = file;
  globalThis.testRsaKeysDir = dir;
}
