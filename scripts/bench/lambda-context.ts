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

/** One side of a side-by-side CPU measurement: a block's items (events or batches), built untimed, then run timed. */
export interface MeasuredSide<T> {
  prepare(): readonly T[];
  run(items: readonly T[]): Promise<void>;
}

export interface SideBySideRounds {
  /** Per round: CPU microseconds per event of our handler. */
  readonly usPerEvent: number[];
  /** Per round: CPU microseconds per event of the minimal twin, measured next to ours. */
  readonly minimalUsPerEvent: number[];
  /** Per round: CPU microseconds of one 2 KB signature check, timed after the round. */
  readonly checkUs: number[];
}

/**
 * `rounds` rounds through our handler and through its minimal twin (scripts/bench/minimal-twins.ts).
 * Within a round the two take turns, `blocksPerRound` blocks of `eventsPerBlock` events each (a
 * millisecond or a few), and which goes first alternates from block to block, so whatever disturbs
 * the process for a moment (another process on the core, the CPU's clock) falls on both sides
 * alike. Each block's input is built just before it, untimed: inputs built a round ahead would be
 * live young objects that every young-generation collection copies, a cost of neither handler.
 * CPU time is process.cpuUsage() around each block; a round's figure for a side is the sum over its
 * blocks. A collection (a few ms) is paid by the block whose allocation triggers it, so a round
 * must hold many of them for each side to pay in proportion to what it allocates: with one per
 * round, the twin's few milliseconds doubled whenever it drew the collection. After each round,
 * `timeCheck` times the signature-check unit (scripts/bench/signature-unit.ts).
 */
export async function cpuPerEventSideBySide<Ours, Minimal>(
  rounds: number,
  blocksPerRound: number,
  eventsPerBlock: number,
  ours: MeasuredSide<Ours>,
  minimal: MeasuredSide<Minimal>,
  timeCheck: () => number,
): Promise<SideBySideRounds> {
  const timed = async <T>(side: MeasuredSide<T>): Promise<number> => {
    const items = side.prepare();
    const before = process.cpuUsage();
    await side.run(items);
    const used = process.cpuUsage(before);
    return used.user + used.system;
  };
  const eventsPerRound = blocksPerRound * eventsPerBlock;
  const usPerEvent: number[] = [];
  const minimalUsPerEvent: number[] = [];
  const checkUs: number[] = [];
  for (let round = 0; round < rounds; round += 1) {
    let oursUs = 0;
    let minimalUs = 0;
    for (let block = 0; block < blocksPerRound; block += 1) {
      if ((round + block) % 2 === 0) {
        oursUs += await timed(ours);
        minimalUs += await timed(minimal);
      } else {
        minimalUs += await timed(minimal);
        oursUs += await timed(ours);
      }
    }
    usPerEvent.push(oursUs / eventsPerRound);
    minimalUsPerEvent.push(minimalUs / eventsPerRound);
    checkUs.push(timeCheck());
  }
  return { usPerEvent, minimalUsPerEvent, checkUs };
}
