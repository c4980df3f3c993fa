import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` until it holds (for effects that happen in the background); throws after `attempts`. */
export async function until(check: () => boolean | Promise<boolean>, what: string, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts; i += 1) {
    if (await check()) return;
    await sleep(25);
  }
  throw new Error(`gave up waiting: ${what}`);
}
