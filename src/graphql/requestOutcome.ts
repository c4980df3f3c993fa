import type { GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { GraphQLContext } from './context.js';
import { MAX_OPERATION_NAME_LENGTH } from './queryLimits.js';

/** Notes the operation's name and outcome (OK or the first error's code) on its request's record. */
export function noteOutcome({ contextValue, operationName, request, response }: GraphQLRequestContextWillSendResponse<GraphQLContext>): void {
  const record = contextValue?.record;
  if (!record) return;
  // The document's name is bounded only by the query's length: the log line gets a bounded one.
  const name = operationName ?? request.operationName ?? null;
  record.operationName = name !== null && name.length > MAX_OPERATION_NAME_LENGTH ? `${name.slice(0, MAX_OPERATION_NAME_LENGTH)}…` : name;
  const result = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
  const code = result.errors?.[0]?.extensions?.code;
  record.outcome = typeof code === 'string' ? code : result.errors?.length ? 'ERROR' : 'OK';
}
