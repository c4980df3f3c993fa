import { joseHeaderOf } from './jwtClaims.js';
import type { TokenCheck } from './tokenVerifier.js';

/** ZITADEL_TOKEN_VALIDATION. */
export const TOKEN_VALIDATION_MODES = ['introspection', 'jwt', 'auto'] as const;
export type TokenValidationMode = (typeof TOKEN_VALIDATION_MODES)[number];

export interface TokenCheckFactories {
  readonly introspection: () => TokenCheck;
  readonly jwt: () => TokenCheck;
}

/**
 * Which check decides a token. `auto` sends JWT-shaped tokens to local validation, with no
 * fallback to introspection when they fail (a forged JWT must not get a second chance), and
 * everything else to introspection. Only the checks the mode uses are built.
 */
export function chooseTokenCheck(mode: TokenValidationMode, make: TokenCheckFactories): (token: string) => TokenCheck {
  switch (mode) {
    case 'introspection': {
      const introspection = make.introspection();
      return () => introspection;
    }
    case 'jwt': {
      const jwt = make.jwt();
      return () => jwt;
    }
    case 'auto': {
      const introspection = make.introspection();
      const jwt = make.jwt();
      return (token) => (joseHeaderOf(token) ? jwt : introspection);
    }
  }
}
