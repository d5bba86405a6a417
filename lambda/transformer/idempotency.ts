import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { CoreLogger } from '../shared/ports';
import { DeliveryInProgressError, type RouteDone, type RunOnce } from './delivery';

export interface RunOnceOptions {
  /** DynamoDBPersistenceLayer on AWS (the handler suites use an in-memory layer that passes the same contract). */
  readonly persistenceStore: BasePersistenceLayer;
  /** How long a completed delivery suppresses duplicates (the construct's `deduplicationWindow`). */
  readonly expiresAfterSeconds: number;
  /**
   * Outside a Lambda invocation (tests): how long an INPROGRESS record blocks its key before a
   * crashed delivery counts as abandoned. On Lambda, registerContext() replaces it per invocation.
   * @default - no in-progress expiry until registerContext() is called
   */
  readonly inProgressTimeoutMs?: number;
  /** Told when the store fails around a delivery that itself finished. @default - silent */
  readonly logger?: CoreLogger;
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
 * Powertools' own hashing (md5 of the key as a JSON string), prefixed `slack-delivery`. Powertools
 * deletes the record when the function throws, so only delivered/skipped outcomes are kept.
 */
export function createIdempotentRunOnce(options: RunOnceOptions): IdempotentRunOnce {
  // The key string itself is the hashed payload (argument 0; argument 1 is the work). Selecting it
  // from `{ key }` with `eventKeyJmesPath: 'key'` gave the same hash but built a JMESPath
  // interpreter on every event.
  const config = new IdempotencyConfig({ expiresAfterSeconds: options.expiresAfterSeconds, throwOnNoIdempotencyKey: true });
  const idempotent = makeIdempotent(async (_key: string, work: () => Promise<RouteDone>) => ({ value: await work() }), {
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
      /** What `fn` did, when Powertools ran it (undefined: a stored result was returned, or the store failed first). */
      let ran: { readonly ok: true; readonly value: RouteDone } | { readonly ok: false; readonly error: unknown } | undefined;
      try {
        const stored = await idempotent(key, async () => {
          try {
            const value = await fn();
            ran = { ok: true, value };
            return value;
          } catch (error) {
            ran = { ok: false, error };
            throw error;
          }
        });
        return { value: stored.value, duplicate: ran === undefined };
      } catch (error) {
        if (ran?.ok) {
          // Slack has the message (or it was skipped) but the completed record could not be saved.
          // Reporting a failure would retry and post it a second time; the INPROGRESS record left
          // behind expires with the invocation (registerContext).
          options.logger?.warn('Delivered, but the deduplication record could not be completed', { key, error: errorText(error) });
          return { value: ran.value, duplicate: false };
        }
        if (ran && !ran.ok) {
          // The delivery failed and removing its INPROGRESS record failed too: keep the delivery's own
          // error (a 429 must still stop the batch, a 400 still dead-letter), not the store's.
          if (error !== ran.error) options.logger?.warn('Could not remove the deduplication record of a failed delivery', { key, error: errorText(error) });
          throw ran.error;
        }
        if (error instanceof IdempotencyAlreadyInProgressError) throw new DeliveryInProgressError(`delivery ${key} is in progress elsewhere`);
        throw error;
      }
    },
  };
}

function errorText(error: unknown): string {
  const cause = (error as { cause?: unknown } | null)?.cause;
  const describe = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  return (cause === undefined ? describe(error) : `${describe(error)} (${describe(cause)})`).slice(0, 300);
}
