import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, type GraphQLFormattedError, type ValidationContext, type ValidationRule } from 'graphql';
import type { QueryLimits } from '../config.js';
import { ErrorCode } from './errors.js';

export type QueryLimitCode =
  | typeof ErrorCode.QueryTooLong
  | typeof ErrorCode.OperationNameTooLong
  | typeof ErrorCode.BatchTooLarge
  | typeof ErrorCode.TooManyTokens
  | typeof ErrorCode.QueryTooDeep
  | typeof ErrorCode.TooManyAliases
  | typeof ErrorCode.QueryTooCostly
  | typeof ErrorCode.TooManyDirectives;

// Name the limit, never the query: a message must not echo what the client sent.
const MESSAGES: Record<QueryLimitCode, (limit: number) => string> = {
  QUERY_TOO_LONG: (n) => `The query is longer than ${n} characters.`,
  OPERATION_NAME_TOO_LONG: (n) => `The operation name is longer than ${n} characters.`,
  BATCH_TOO_LARGE: (n) => `The batch has more than ${n} operations.`,
  TOO_MANY_TOKENS: (n) => `The query has more than ${n} tokens.`,
  QUERY_TOO_DEEP: (n) => `The query is nested deeper than ${n} levels.`,
  TOO_MANY_ALIASES: (n) => `The query uses more than ${n} aliases.`,
  QUERY_TOO_COSTLY: (n) => `The query's estimated cost exceeds ${n}.`,
  TOO_MANY_DIRECTIVES: (n) => `The query uses more than ${n} directives.`,
};

/** A query over one of the limits: `extensions.code` names the limit, `extensions.limit` its value. */
export class QueryLimitError extends GraphQLError {
  constructor(
    readonly limitCode: QueryLimitCode,
    readonly limit: number,
  ) {
    super(MESSAGES[limitCode](limit), { extensions: { code: limitCode, limit } });
    this.name = 'QueryLimitError';
  }

  /** The error as a client sees it. */
  toFormatted(): GraphQLFormattedError {
    return { message: this.message, extensions: { code: this.limitCode, limit: this.limit } };
  }
}

/**
 * graphql-js's own message when `parse(..., { maxTokens })` stops (16.x spells it "more that",
 * 17 "more than").
 */
const TOKEN_LIMIT_MESSAGE = /^Syntax Error: Document contains more tha[nt] \d+ tokens\. Parsing aborted\.$/;

/**
 * graphql-armor's alias, depth, cost and directive rules, run by Apollo's validation (so a
 * refused query gets 400 before any resolver runs). Each reports our coded error instead of
 * armor's generic BAD_USER_INPUT.
 */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  const reject = (code: QueryLimitCode, limit: number) => ({
    propagateOnRejection: false,
    onReject: [(context: ValidationContext | null) => context?.reportError(new QueryLimitError(code, limit))],
  });
  const armor = new ApolloArmor({
    maxAliases: { n: limits.maxAliases, ...reject(ErrorCode.TooManyAliases, limits.maxAliases) },
    maxDepth: { n: limits.maxDepth, ...reject(ErrorCode.QueryTooDeep, limits.maxDepth) },
    costLimit: { maxCost: limits.maxCost, ...reject(ErrorCode.QueryTooCostly, limits.maxCost) },
    maxDirectives: { n: limits.maxDirectives, ...reject(ErrorCode.TooManyDirectives, limits.maxDirectives) },
    // Armor's token plugin throws from a request hook, which Apollo Server 5 answers with 500;
    // the parser counts tokens instead (parseOptions.maxTokens, see limitErrorOf).
    maxTokens: { enabled: false },
    // Apollo's hideSchemaDetailsFromClientErrors hides suggestions where we want them hidden;
    // armor's would hide them in development too and leave "[Suggestion hidden]?" behind.
    blockFieldSuggestion: { enabled: false },
  });
  return armor.protect().validationRules;
}

/**
 * The limit error behind an error Apollo is about to send, if it is one: a rule's report
 * (which Apollo wraps in a GRAPHQL_VALIDATION_FAILED error) or the parser's token limit
 * (wrapped in GRAPHQL_PARSE_FAILED).
 */
export function limitErrorOf(error: unknown, limits: QueryLimits): QueryLimitError | undefined {
  if (error instanceof QueryLimitError) return error;
  if (!(error instanceof GraphQLError)) return undefined;
  const { originalError } = error;
  if (originalError instanceof QueryLimitError) return originalError;
  if (originalError && TOKEN_LIMIT_MESSAGE.test(originalError.message)) {
    return new QueryLimitError(ErrorCode.TooManyTokens, limits.maxTokens);
  }
  return undefined;
}

/**
 * The longest `operationName` a request may send. It names an operation of the document, and is
 * logged with the request: a megabyte of it must not reach the log.
 */
export const MAX_OPERATION_NAME_LENGTH = 256;

/** What `requestShapeError` checks. */
export interface RequestShapeLimits {
  /** Characters of one operation's query text. */
  readonly maxQueryLength: number;
  /** Operations in a batch (a JSON array body). */
  readonly maxBatch: number;
}

/**
 * The limits on the raw request, checked before Apollo parses anything (graphql-armor has none
 * for Apollo, and a plugin hook cannot refuse a request with 400): the batch's length, each
 * operation's name and query text. GET carries them in the URL, POST in the body (an array when
 * batched). Pure.
 */
export function requestShapeError(method: string, body: unknown, search: string, limits: RequestShapeLimits): QueryLimitError | undefined {
  if (method !== 'GET' && Array.isArray(body) && body.length > limits.maxBatch) return new QueryLimitError(ErrorCode.BatchTooLarge, limits.maxBatch);
  const operations = method === 'GET' ? [Object.fromEntries(new URLSearchParams(search))] : Array.isArray(body) ? body : [body];
  const longer = (field: 'query' | 'operationName', max: number) =>
    operations.some((operation: unknown) => {
      const value = typeof operation === 'object' && operation !== null ? (operation as Record<string, unknown>)[field] : undefined;
      return typeof value === 'string' && value.length > max;
    });
  if (longer('operationName', MAX_OPERATION_NAME_LENGTH)) return new QueryLimitError(ErrorCode.OperationNameTooLong, MAX_OPERATION_NAME_LENGTH);
  if (longer('query', limits.maxQueryLength)) return new QueryLimitError(ErrorCode.QueryTooLong, limits.maxQueryLength);
  return undefined;
}
