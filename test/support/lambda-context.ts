import type { Context } from 'aws-lambda';

/** A Lambda context as the runtime passes it to the transformer, with a minute left from now. */
export function lambdaContext(options: { readonly functionName?: string; readonly awsRequestId?: string } = {}): Context {
  const functionName = options.functionName ?? 'transformer';
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: options.awsRequestId ?? `req-${Date.now()}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
