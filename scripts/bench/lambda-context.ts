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

/**
 * Rounds of `eventsPerRound` events, each followed by a timing of the unit (one signature check,
 * scripts/bench/signature-unit.ts): CPU microseconds per event and per check, round by round
 * (process.cpuUsage deltas), so every round's ratio compares two figures taken a moment apart.
 */
export async function cpuMicrosPerEvent(
  rounds: number,
  eventsPerRound: number,
  runRound: (round: number) => Promise<void>,
  timeCheck: () => number,
): Promise<{ usPerEvent: number[]; checkUs: number[] }> {
  const usPerEvent: number[] = [];
  const checkUs: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    const before = process.cpuUsage();
    await runRound(round);
    const used = process.cpuUsage(before);
    usPerEvent.push((used.user + used.system) / eventsPerRound);
    checkUs.push(timeCheck());
  }
  return { usPerEvent, checkUs };
}
