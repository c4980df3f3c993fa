import { TestEnvironment } from 'jest-environment-node';

/**
 * Jest's node environment runs tests in a vm context but hands them the outer realm's
 * structuredClone, whose plain objects fail an in-realm `value.constructor === Object` check.
 * oidc-provider clones its client metadata that way and then rejects every client's JWKS.
 * This environment re-homes plain objects and arrays that structuredClone returns.
 */
export default class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    const { Object: RealmObject, Array: RealmArray } = this.global;
    const outerClone = globalThis.structuredClone;
    const rehome = (value) => {
      if (Array.isArray(value)) return RealmArray.from(value, rehome);
      if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
        const copy = new RealmObject();
        for (const [key, item] of Object.entries(value)) copy[key] = rehome(item);
        return copy;
      }
      return value;
    };
    this.global.structuredClone = (value, options) => rehome(outerClone(value, options));
  }

  /** oidc-provider warns at import that it prefers Node 22; the README says so once, tests need not. */
  async setup() {
    await super.setup();
    const { console } = this.global;
    const warn = console.warn.bind(console);
    console.warn = (message, ...rest) => {
      if (typeof message === 'string' && message.startsWith('oidc-provider WARNING: Unsupported runtime')) return;
      warn(message, ...rest);
    };
  }
}
