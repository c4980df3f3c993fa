import { rm } from 'node:fs/promises';

export default async function globalTeardown() {
  if (globalThis.testRsaKeysDir) await rm(globalThis.testRsaKeysDir, { recursive: true, force: true });
}
