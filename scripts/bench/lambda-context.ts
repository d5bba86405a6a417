import type { Context } from 'aws-lambda';

/** A Lambda context as the runtime passes it (Powertools Logger reads these fields). */
export function fakeLambdaContext(functionName: string, remainingMs = 30_000): Context {
  let request = 0;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    get awsRequestId() {
      request += 1;
      return `bench-request-${request}`;
    },
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/01/01/[$LATEST]bench',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Rounds of `eventsPerRound` events; CPU microseconds per event for each round (process.cpuUsage deltas). */
export async function cpuMicrosPerEvent(rounds: number, eventsPerRound: number, runRound: (round: number) => Promise<void>): Promise<number[]> {
  const perRound: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const before = process.cpuUsage();
    await runRound(round);
    const used = process.cpuUsage(before);
    perRound.push((used.user + used.system) / eventsPerRound);
  }
  return perRound;
}
