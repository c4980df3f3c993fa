import { describe, expect, it } from '@jest/globals';
import { GraphQLError } from 'graphql';
import { MAX_OPERATION_NAME_LENGTH, QueryLimitError, limitErrorOf, requestShapeError } from '../../src/graphql/queryLimits.js';

const queryLengthError = (method: string, body: unknown, search: string, maxQueryLength: number) => requestShapeError(method, body, search, { maxQueryLength, maxBatch: 10 });

const LIMITS = { maxAliases: 1, maxDepth: 1, maxCost: 1, maxDirectives: 1, maxTokens: 7, maxQueryLength: 9 };

describe('requestShapeError: the query length', () => {
  it('should pass a POST query of exactly the limit and refuse one character more', () => {
    expect(queryLengthError('POST', { query: '{ hello }' }, '', 9)).toBeUndefined();
    expect(queryLengthError('POST', { query: '{ hello  }' }, '', 9)?.toFormatted()).toEqual({
      message: 'The query is longer than 9 characters.',
      extensions: { code: 'QUERY_TOO_LONG', limit: 9 },
    });
  });

  it('should read a GET query from the URL, not the body', () => {
    expect(queryLengthError('GET', undefined, `?query=${encodeURIComponent('{ hello  }')}`, 9)?.limitCode).toBe('QUERY_TOO_LONG');
    expect(queryLengthError('GET', { query: 'x'.repeat(100) }, '?query=%7B%20hello%20%7D', 9)).toBeUndefined();
  });

  it('should refuse a batch when any of its operations is too long', () => {
    expect(queryLengthError('POST', [{ query: '{ hello }' }, { query: '{ hello }' }], '', 9)).toBeUndefined();
    expect(queryLengthError('POST', [{ query: '{ hello }' }, { query: '{ hello  }' }], '', 9)?.limitCode).toBe('QUERY_TOO_LONG');
  });

  it('should leave bodies without a string query to Apollo', () => {
    for (const body of [undefined, null, 'text', 42, {}, { query: 42 }, [null, 1]]) {
      expect(queryLengthError('POST', body, '', 1)).toBeUndefined();
    }
  });
});

describe('requestShapeError: the batch and the operation name', () => {
  const limits = { maxQueryLength: 100, maxBatch: 3 };
  const op = (operationName?: string) => ({ query: '{ hello }', ...(operationName === undefined ? {} : { operationName }) });

  it('should pass a batch of exactly the limit and refuse one more, naming the limit', () => {
    expect(requestShapeError('POST', [op(), op(), op()], '', limits)).toBeUndefined();
    expect(requestShapeError('POST', [op(), op(), op(), op()], '', limits)?.toFormatted()).toEqual({
      message: 'The batch has more than 3 operations.',
      extensions: { code: 'BATCH_TOO_LARGE', limit: 3 },
    });
  });

  it('should refuse an operation name longer than the limit, in a body, a batch or the URL, without quoting it', () => {
    const long = 'N'.repeat(MAX_OPERATION_NAME_LENGTH + 1);
    expect(requestShapeError('POST', op('N'.repeat(MAX_OPERATION_NAME_LENGTH)), '', limits)).toBeUndefined();
    for (const refused of [
      requestShapeError('POST', op(long), '', limits),
      requestShapeError('POST', [op(), op(long)], '', limits),
      requestShapeError('GET', undefined, `?query=%7Bhello%7D&operationName=${long}`, limits),
    ]) {
      expect(refused?.toFormatted()).toEqual({ message: 'The operation name is longer than 256 characters.', extensions: { code: 'OPERATION_NAME_TOO_LONG', limit: 256 } });
    }
  });
});

describe('limitErrorOf', () => {
  it('should unwrap a rule’s report from Apollo’s validation error', () => {
    const reported = new QueryLimitError('QUERY_TOO_DEEP', 1);
    const wrapped = new GraphQLError(reported.message, { originalError: reported, extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } });
    expect(limitErrorOf(wrapped, LIMITS)).toBe(reported);
  });

  it('should recognise the parser’s token limit, in either spelling of graphql-js', () => {
    for (const spelling of ['that', 'than']) {
      const parser = new GraphQLError(`Syntax Error: Document contains more ${spelling} 7 tokens. Parsing aborted.`);
      const wrapped = new GraphQLError(parser.message, { originalError: parser, extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
      expect(limitErrorOf(wrapped, LIMITS)?.toFormatted()).toEqual({ message: 'The query has more than 7 tokens.', extensions: { code: 'TOO_MANY_TOKENS', limit: 7 } });
    }
  });

  it('should leave every other error alone', () => {
    const parser = new GraphQLError('Syntax Error: Expected Name, found <EOF>.');
    expect(limitErrorOf(new GraphQLError(parser.message, { originalError: parser }), LIMITS)).toBeUndefined();
    expect(limitErrorOf(new Error('Document contains more than 7 tokens'), LIMITS)).toBeUndefined();
    expect(limitErrorOf(undefined, LIMITS)).toBeUndefined();
  });
});
