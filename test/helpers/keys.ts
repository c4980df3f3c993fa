import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

let pool: KeyObject[] | undefined;
let drawn = 0;

/**
 * An RSA 2048 key, distinct from every other this test file drew: the next of the run's pool
 * (test/globalSetup.js makes them once; each costs ~250 ms to generate), or a new one once the
 * pool is used up (or absent).
 */
export function rsaKey(): KeyObject {
  pool ??= process.env.TEST_RSA_KEYS ? (JSON.parse(readFileSync(process.env.TEST_RSA_KEYS, 'utf8')) as string[]).map((pem) => createPrivateKey(pem)) : [];
  const key = pool[drawn];
  drawn += 1;
  return key ?? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

export interface KeyFixture {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The key JSON as ZITADEL's console downloads it for an API application. */
  readonly json: string;
}

export function applicationKey(fields: Record<string, unknown> = {}): KeyFixture {
  const privateKey = rsaKey();
  const publicKey = createPublicKey(privateKey);
  const json = JSON.stringify({
    type: 'application',
    keyId: '81693565968962154',
    key: privateKey.export({ type: 'pkcs1', format: 'pem' }),
    appId: '78366403256846242',
    clientId: '78366401571920522@acme',
    ...fields,
  });
  return { privateKey, publicKey, json };
}
