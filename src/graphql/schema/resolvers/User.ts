import { roleNames } from '../../../auth/index.js';
import type { UserResolvers } from '../../generated.js';

// Fields named like Identity's resolve by default.
export const User: UserResolvers = {
  roles: (identity) => roleNames(identity),
  expiresAt: (identity) => (identity.exp === null ? null : new Date(identity.exp * 1000).toISOString()),
};
