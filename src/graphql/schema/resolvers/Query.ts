import type { QueryResolvers } from '../../generated.js';

export const Query: QueryResolvers = {
  hello: () => 'Hello World!',
  me: (_source, _args, { auth }) => auth.require(),
  // The directives in schema/ decide who gets these; the resolvers need not check.
  adminGreeting: () => 'Hello, admin!',
  staffGreeting: () => 'Hello, staff!',
  orgAdminGreeting: () => 'Hello, org admin!',
  scopedGreeting: () => 'Hello, scoped!',
};
