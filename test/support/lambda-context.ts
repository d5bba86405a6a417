import type { Context } from 'aws-lambda';
import { fakeLambdaContext } from '../../scripts/bench/lambda-context';

/**
 * The benchmark's Lambda context (scripts/bench/lambda-context.ts) as the transformer suites want
 * it: a fixed request id unless given, and a minute left from now, counting down.
 */
export function lambdaContext(options: { readonly functionName?: string; readonly awsRequestId?: string } = {}): Context {
  const deadline = Date.now() + 60_000;
  return {
    ...fakeLambdaContext(options.functionName ?? 'transformer'),
    callbackWaitsForEmptyEventLoop: false,
    awsRequestId: options.awsRequestId ?? `req-${Date.now()}`,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}
