import type { GraphQLRequestContextWillSendResponse } from '@apollo/server';
import type { GraphQLContext } from '../context.js';

/** Notes the operation's name and outcome (OK or the first error's code) on its request's record. */
export function noteOutcome({ contextValue, operationName, request, response }: GraphQLRequestContextWillSendResponse<GraphQLContext>): void {
  const record = contextValue?.record;
  if (!record) return;
  record.operationName = operationName ?? request.operationName ?? null;
  const result = response.body.kind === 'single' ? response.body.singleResult : response.body.initialResult;
  const code = result.errors?.[0]?.extensions?.code;
  record.outcome = typeof code === 'string' ? code : result.errors?.length ? 'ERROR' : 'OK';
}
