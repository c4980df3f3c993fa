import { decodeJwt, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Discovery } from './discovery.js';
import { identityFromAccessTokenJwt } from '../identity.js';
import type { JwksStore } from './jwks.js';
import { JWT_ALGORITHMS, JWT_CLOCK_TOLERANCE_SECONDS, checkJwtClaims, checkJwtHeader, joseHeaderOf, type JwtRejection } from './jwtClaims.js';
import type { TokenCheck, Verdict } from '../verdict.js';

export interface JwtValidatorOptions {
  readonly discovery: Pick<Discovery, 'get'>;
  readonly keys: Pick<JwksStore, 'keyFor'>;
  /** ZITADEL_PROJECT_ID: a token for this API carries it in `aud`, and its roles in its own claim. */
  readonly audience: string;
  readonly now?: () => number;
}

/** jose takes a mutable list; one copy for every verification. */
const ALGORITHMS: string[] = [...JWT_ALGORITHMS];

/**
 * Local validation of ZITADEL's JWT access tokens ("Auth Token Type: JWT"): the cheap checks
 * of header and claims first, so a token that is invalid anyway is refused without a key (and
 * without a key fetch, even while ZITADEL is down), then the signature with jose against the
 * issuer's published key for the token's `kid`. Revocation before `exp` is not seen.
 */
export function createJwtValidator(options: JwtValidatorOptions): TokenCheck {
  const { discovery, keys, audience } = options;
  const now = options.now ?? Date.now;
  const reject = (reason: JwtRejection): Verdict => ({ active: false, reason, local: true });

  return {
    async check(token) {
      const joseHeader = joseHeaderOf(token);
      if (!joseHeader) return reject('not_a_jwt');
      const header = checkJwtHeader(joseHeader);
      if (typeof header === 'string') return reject(header);
      let payload: JWTPayload;
      try {
        payload = decodeJwt(token);
      } catch {
        return reject('not_a_jwt');
      }
      const { issuer } = await discovery.get();
      const rejection = checkJwtClaims(payload, { issuer, audience, now: now() / 1000 });
      if (rejection) return reject(rejection);

      const key = await keys.keyFor(header);
      // Not remembered (PASSING_REJECTIONS): the key may be published by the time the cooldown ends.
      if (!key) return reject('unknown_key');
      try {
        // jose re-checks the claims on the verified payload, with the clock at verification time.
        await jwtVerify(token, key, {
          algorithms: ALGORITHMS,
          issuer,
          audience,
          requiredClaims: ['exp'],
          clockTolerance: JWT_CLOCK_TOLERANCE_SECONDS,
          currentDate: new Date(now()),
        });
      } catch (error) {
        if (error instanceof errors.JWSSignatureVerificationFailed) return reject('bad_signature');
        if (error instanceof errors.JWTExpired) return reject('expired');
        if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'nbf') return reject('not_yet_valid');
        if (error instanceof errors.JOSEError) return reject('invalid_claims');
        throw error;
      }
      const identity = identityFromAccessTokenJwt(payload, { projectId: audience });
      return identity ? { active: true, identity } : reject('invalid_claims');
    },
  };
}
