import { generateKeyPairSync, type KeyObject } from 'node:crypto';

export interface KeyFixture {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The key JSON as ZITADEL's console downloads it for an API application. */
  readonly json: string;
}

export function applicationKey(fields: Record<string, unknown> = {}): KeyFixture {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
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
