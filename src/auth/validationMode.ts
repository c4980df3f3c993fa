import type { TokenValidationMode } from '../config.js';
import { joseHeaderOf } from './zitadel/jwtClaims.js';
import type { TokenCheck } from './verdict.js';

export interface TokenCheckFactories {
  readonly introspection: () => TokenCheck;
  readonly jwt: () => TokenCheck;
}

/** The checks a mode uses. */
export interface TokenChecks {
  /** The check that decides a token. */
  decide(token: string): TokenCheck;
  /** Introspection, to learn what a locally validated JWT does not carry; undefined in `jwt` mode. */
  readonly introspection: TokenCheck | undefined;
}

/**
 * Which check decides a token. `auto` sends JWT-shaped tokens to local validation, with no
 * fallback to introspection when they fail (a forged JWT must not get a second chance), and
 * everything else to introspection. Only the checks the mode uses are built.
 */
export function chooseTokenChecks(mode: TokenValidationMode, make: TokenCheckFactories): TokenChecks {
  switch (mode) {
    case 'introspection': {
      const introspection = make.introspection();
      return { decide: () => introspection, introspection };
    }
    case 'jwt': {
      const jwt = make.jwt();
      return { decide: () => jwt, introspection: undefined };
    }
    case 'auto': {
      const introspection = make.introspection();
      const jwt = make.jwt();
      return { decide: (token) => (joseHeaderOf(token) ? jwt : introspection), introspection };
    }
  }
}
