/**
 * The deduplication port (RunOnce) and every adapter of it, held to one contract: Powertools
 * idempotency on DynamoDB (the Lambda's, against dynalite on a table shaped like the construct's),
 * serve's SQLite store, and the Powertools in-memory layer the handler suites use as a test double.
 * The same cases, the same expectations: a key runs once and its result is remembered for the
 * window; a failed run leaves nothing; a key in progress blocks others until its in-progress expiry
 * (the Lambda's is its invocation's end, serve's the longest a delivery may take), then may be taken.
 *
 * Time is moved with Date.now, which all three read.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { DeliveryInProgressError, type RouteDone, type RunOnce } from '../../lambda/transformer/delivery';
import { createIdempotentRunOnce } from '../../lambda/transformer/idempotency';
import { startDynalite, type Dynalite } from '../support/dynalite';
import { MemoryPersistenceLayer } from '../support/memory-persistence';
import { useScratchStores } from '../support/scratch-stores';

interface Adapter {
  readonly name: string;
  make(options: { readonly windowSeconds: number; readonly inProgressTimeoutMs: number }): Promise<RunOnce>;
}

let db: Dynalite;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(() => db.stop());
afterEach(() => jest.restoreAllMocks());
const scratchStore = useScratchStores();

const ADAPTERS: Adapter[] = [
  {
    name: 'Powertools idempotency on DynamoDB (dynalite)',
    make: async ({ windowSeconds, inProgressTimeoutMs }) =>
      createIdempotentRunOnce({
        persistenceStore: new DynamoDBPersistenceLayer({ tableName: await db.createDeduplicationTable(), awsSdkV3Client: db.client }),
        expiresAfterSeconds: windowSeconds,
        inProgressTimeoutMs,
      }).runOnce,
  },
  {
    name: "serve's SQLite store",
    make: ({ windowSeconds, inProgressTimeoutMs }) => Promise.resolve(scratchStore().runOnce({ deduplicationWindowSeconds: windowSeconds, inProgressTimeoutMs }).runOnce),
  },
  {
    name: 'Powertools idempotency in memory (test double)',
    make: ({ windowSeconds, inProgressTimeoutMs }) =>
      Promise.resolve(createIdempotentRunOnce({ persistenceStore: new MemoryPersistenceLayer(), expiresAfterSeconds: windowSeconds, inProgressTimeoutMs }).runOnce),
  },
];

const realNow = Date.now.bind(Date);
/** Moves every adapter's clock `ms` ahead of the real one (from the real one, not from the last move). */
function advanceClock(ms: number): void {
  jest.spyOn(Date, 'now').mockImplementation(() => realNow() + ms);
}

const work = (value: RouteDone) => jest.fn(() => Promise.resolve(value));
/** A run that does not finish until released (a delivery waiting on Slack, or one a crash left behind). */
function pending(): { readonly fn: () => Promise<RouteDone>; release(value?: RouteDone): void } {
  let settle!: (value: RouteDone) => void;
  const promise = new Promise<RouteDone>((resolve) => (settle = resolve));
  return { fn: () => promise, release: (value = 'delivered') => settle(value) };
}
/** Lets a started run reach its store (the DynamoDB adapter writes over HTTP). */
const settleIo = () => new Promise((resolve) => setTimeout(resolve, 50));

describe.each(ADAPTERS)('$name', (adapter) => {
  test('a key runs once; later calls get the stored result as a duplicate, skipped as well as delivered', async () => {
    const runOnce = await adapter.make({ windowSeconds: 3600, inProgressTimeoutMs: 10_000 });
    const delivered = work('delivered');
    expect(await runOnce('default:msg_a', delivered)).toEqual({ value: 'delivered', duplicate: false });
    expect(await runOnce('default:msg_a', delivered)).toEqual({ value: 'delivered', duplicate: true });
    expect(delivered).toHaveBeenCalledTimes(1);
    expect(await runOnce('default:msg_b', work('skipped'))).toEqual({ value: 'skipped', duplicate: false });
    expect(await runOnce('default:msg_b', work('delivered'))).toEqual({ value: 'skipped', duplicate: true });
  });

  test('keys are independent: the same webhook on another route runs', async () => {
    const runOnce = await adapter.make({ windowSeconds: 3600, inProgressTimeoutMs: 10_000 });
    await runOnce('default:msg_c', work('delivered'));
    expect(await runOnce('Risk:msg_c', work('delivered'))).toEqual({ value: 'delivered', duplicate: false });
  });

  test('a failed run leaves nothing behind: its error is thrown as it was, and the retry runs', async () => {
    const runOnce = await adapter.make({ windowSeconds: 3600, inProgressTimeoutMs: 10_000 });
    const failure = new Error('Slack answered 503');
    await expect(runOnce('default:msg_d', async () => Promise.reject(failure))).rejects.toBe(failure);
    expect(await runOnce('default:msg_d', work('delivered'))).toEqual({ value: 'delivered', duplicate: false });
  });

  test('a key in progress: another call is told so (DeliveryInProgressError) and does not run; after it completes, a duplicate', async () => {
    const runOnce = await adapter.make({ windowSeconds: 3600, inProgressTimeoutMs: 10_000 });
    const first = pending();
    const running = runOnce('default:msg_e', first.fn);
    await settleIo();
    const second = work('delivered');
    await expect(runOnce('default:msg_e', second)).rejects.toBeInstanceOf(DeliveryInProgressError);
    expect(second).not.toHaveBeenCalled();
    first.release('delivered');
    expect(await running).toEqual({ value: 'delivered', duplicate: false });
    expect(await runOnce('default:msg_e', second)).toEqual({ value: 'delivered', duplicate: true });
  });

  test('in-progress expiry: a run that never finished (a killed delivery) blocks its key until the expiry, then the key is taken', async () => {
    const runOnce = await adapter.make({ windowSeconds: 3600, inProgressTimeoutMs: 5_000 });
    void runOnce('default:msg_f', pending().fn);
    await settleIo();
    advanceClock(4_000);
    await expect(runOnce('default:msg_f', work('delivered'))).rejects.toBeInstanceOf(DeliveryInProgressError);
    advanceClock(6_000);
    expect(await runOnce('default:msg_f', work('delivered'))).toEqual({ value: 'delivered', duplicate: false });
  });

  test('the window: a completed key is a duplicate within it and runs again after it', async () => {
    const runOnce = await adapter.make({ windowSeconds: 60, inProgressTimeoutMs: 10_000 });
    const delivered = work('delivered');
    await runOnce('default:msg_g', delivered);
    advanceClock(30_000);
    expect(await runOnce('default:msg_g', delivered)).toEqual({ value: 'delivered', duplicate: true });
    advanceClock(61_000);
    expect(await runOnce('default:msg_g', delivered)).toEqual({ value: 'delivered', duplicate: false });
    expect(delivered).toHaveBeenCalledTimes(2);
  });

  test('many calls of one key at once: exactly one runs, the others are duplicates or told it is in progress', async () => {
    const runOnce = await adapter.make({ windowSeconds: 3600, inProgressTimeoutMs: 10_000 });
    const fn = work('delivered');
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => runOnce('default:msg_h', fn)));
    expect(fn).toHaveBeenCalledTimes(1);
    for (const result of results) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(DeliveryInProgressError);
      else expect(result.value.value).toBe('delivered');
    }
    expect(results.filter((result) => result.status === 'fulfilled' && !result.value.duplicate)).toHaveLength(1);
  });
});
