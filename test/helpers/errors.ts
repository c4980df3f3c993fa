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
