import type { QueryResolvers } from '../../generated/graphql.js';

export const Query: QueryResolvers = {
  hello: () => 'Hello World!',
  me: (_source, _args, { auth }) => auth.require(),
};
