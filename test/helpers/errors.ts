/** The error `action` throws, which must be an instance of `type`. */
export function thrown<T extends Error>(action: () => unknown, type: new (...args: never[]) => T): T {
  try {
    action();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected ${type.name} to be thrown`);
}

/** The error `action`'s promise rejects with, which must be an instance of `type`. */
export async function rejected<T extends Error>(action: () => Promise<unknown>, type: new (...args: never[]) => T): Promise<T> {
  try {
    await action();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected ${type.name} to be rejected`);
}
