import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import { DeliveryInProgressError, type RouteDone, type RunOnce } from '../core/delivery';

export interface RunOnceOptions {
  /** DynamoDBPersistenceLayer on AWS, MemoryPersistenceLayer locally. */
  readonly persistenceStore: BasePersistenceLayer;
  /** How long a completed delivery suppresses duplicates (the construct's `deduplicationWindow`). */
  readonly expiresAfterSeconds: number;
  /**
   * Outside Lambda (local server, tests): how long an INPROGRESS record blocks its key before a
   * crashed delivery counts as abandoned. On Lambda, registerContext() replaces it per invocation.
   * @default - no in-progress expiry until registerContext() is called
   */
  readonly inProgressTimeoutMs?: number;
}

export interface IdempotentRunOnce {
  readonly runOnce: RunOnce;
  /**
   * Call at the start of every invocation: an INPROGRESS record then expires when the invocation
   * would time out, so a Lambda killed mid-delivery does not block the retry for the whole window.
   * Locally, pass an object whose getRemainingTimeInMillis() returns the longest a delivery may take.
   */
  registerContext(context: Pick<Context, 'getRemainingTimeInMillis'>): void;
}

/**
 * The delivery core's deduplication port on top of Powertools idempotency. The key is hashed with
 * Powertools' own hashing (md5 of the JSON `{"key": …}`), prefixed `slack-delivery`. Powertools
 * deletes the record when the function throws, so only delivered/skipped outcomes are kept.
 */
export function createIdempotentRunOnce(options: RunOnceOptions): IdempotentRunOnce {
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'key', expiresAfterSeconds: options.expiresAfterSeconds, throwOnNoIdempotencyKey: true });
  // The payload (argument 0) is hashed; argument 1 is the work itself.
  const idempotent = makeIdempotent(async (_payload: { key: string }, work: () => Promise<RouteDone>) => ({ value: await work() }), {
    persistenceStore: options.persistenceStore,
    config,
    keyPrefix: 'slack-delivery',
    dataIndexArgument: 0,
  });

  if (options.inProgressTimeoutMs !== undefined) {
    const timeoutMs = options.inProgressTimeoutMs;
    config.registerLambdaContext({ getRemainingTimeInMillis: () => timeoutMs } as Context);
  }

  return {
    registerContext(context) {
      config.registerLambdaContext(context as Context);
    },
    async runOnce(key, fn) {
      let ran = false;
      try {
        const stored = await idempotent({ key }, async () => {
          ran = true;
          return fn();
        });
        return { value: stored.value, duplicate: !ran };
      } catch (error) {
        if (error instanceof IdempotencyAlreadyInProgressError) throw new DeliveryInProgressError(`delivery ${key} is in progress elsewhere`);
        throw error;
      }
    },
  };
}
