import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { GraphQLConfig } from '../config.js';
import type { GraphQLContext } from './context.js';
import { ErrorCode, translateDomainError } from './errors.js';
import { responsePlugin } from './responsePlugin.js';
import { limitErrorOf, queryLimitRules } from './queryLimits.js';

export interface ApolloOptions {
  readonly schema: GraphQLSchema;
  readonly logger: Logger;
  /** Query limits, batching, introspection (the HTTP edge applies the rest). */
  readonly graphql: GraphQLConfig;
  /** Apollo Sandbox as the landing page, with the document and headers it starts with; undefined: no landing page. */
  readonly sandbox?: { readonly document: string; readonly headers?: Readonly<Record<string, string>> | undefined } | undefined;
  readonly plugins?: ApolloServerPlugin<GraphQLContext>[];
}

/** The Apollo server from its parts: no environment, no I/O. */
export function createApolloServer(options: ApolloOptions): ApolloServer<GraphQLContext> {
  const { schema, logger, graphql } = options;
  const { limits } = graphql;
  return new ApolloServer<GraphQLContext>({
    schema,
    logger,
    // Clients never see stack traces, whatever NODE_ENV says.
    includeStacktraceInErrorResponses: false,
    introspection: graphql.introspection,
    // "Did you mean ...?" reveals the schema as surely as introspection does.
    hideSchemaDetailsFromClientErrors: !graphql.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: graphql.batching,
    // The parser stops at the limit, before it builds a large AST.
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: queryLimitRules(limits),
    // main.ts owns the signals: it drains, closes the development issuer, and exits 0.
    stopOnTerminationSignals: false,
    formatError(formatted, error) {
      const limitError = limitErrorOf(error, limits);
      if (limitError) return limitError.toFormatted();
      if (formatted.extensions?.code !== ErrorCode.InternalServerError) return formatted;
      // Domain errors from any resolver (a directive's guard, or `context.auth.require()` in a
      // resolver of its own) are translated here, once; the response plugin then maps the codes to a status.
      const cause = unwrapResolverError(error);
      const translated = translateDomainError(cause);
      if (translated) return { message: translated.message, path: formatted.path, locations: formatted.locations, extensions: translated.extensions };
      // A resolver bug: log it whole, tell the client nothing about it.
      logger.error({ err: cause, path: formatted.path }, 'unexpected error while resolving');
      return { message: 'Internal server error.', path: formatted.path, locations: formatted.locations, extensions: { code: ErrorCode.InternalServerError } };
    },
    plugins: [
      responsePlugin(),
      // Answers depend on the caller, so no shared cache may keep them, and the schema sets no
      // @cacheControl hints. Without this plugin Apollo no longer wraps every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      options.sandbox
        ? ApolloServerPluginLandingPageLocalDefault({
            embed: true,
            includeCookies: false,
            document: options.sandbox.document,
            ...(options.sandbox.headers ? { headers: { ...options.sandbox.headers } } : {}),
          })
        : ApolloServerPluginLandingPageDisabled(),
      ...(options.plugins ?? []),
    ],
  });
}
