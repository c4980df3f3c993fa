import { createPrivateKey, type KeyObject } from 'node:crypto';

/** An API application's key, as ZITADEL's console downloads it (Keys -> New -> JSON). */
export interface ApplicationKey {
  readonly keyId: string;
  readonly clientId: string;
  readonly appId: string | undefined;
  readonly privateKey: KeyObject;
}

/** The key JSON is unusable; the message says why without echoing the key. */
export class KeyFileError extends Error {
  readonly code = 'KEY_FILE_INVALID';
  override name = 'KeyFileError';
}

/**
 * Parses `{"type":"application","keyId","key","appId","clientId"}`. `key` is a PKCS#1 PEM
 * (`BEGIN RSA PRIVATE KEY`), which jose's importPKCS8 refuses, so Node's createPrivateKey
 * reads it (PKCS#8 works too).
 */
export function parseApplicationKey(text: string): ApplicationKey {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeyFileError('is not JSON (expected the key file ZITADEL downloads for an API application)');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new KeyFileError('is not a JSON object');
  }
  const record = json as Record<string, unknown>;
  if (record.type === 'serviceaccount') {
    throw new KeyFileError(
      'is a machine user (service account) key: it obtains tokens, it cannot authenticate introspection. ' +
        'Create a key for the API application instead (project -> API application -> Keys)',
    );
  }
  if (record.type !== 'application') {
    throw new KeyFileError(`has "type" ${JSON.stringify(record.type)}, expected "application"`);
  }
  const keyId = requireString(record, 'keyId');
  const clientId = requireString(record, 'clientId');
  const pem = requireString(record, 'key');
  const appId = typeof record.appId === 'string' ? record.appId : undefined;

  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (cause) {
    throw new KeyFileError('has a "key" that is not a readable PEM private key', { cause });
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new KeyFileError(`has a ${privateKey.asymmetricKeyType} key; ZITADEL signs client assertions with RSA (RS256)`);
  }
  return { keyId, clientId, appId, privateKey };
}

function requireString(record: Record<string, unknown>, field: string): string {
  const value = record[field];
  if (typeof value !== 'string' || value.length === 0) {
    throw new KeyFileError(`lacks the string field "${field}"`);
  }
  return value;
}
