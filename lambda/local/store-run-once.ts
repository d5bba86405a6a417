/**
 * Deduplication for `serve` on its SQLite store, with the semantics the delivery core expects of
 * `RunOnce` (the same as Powertools idempotency on DynamoDB gives the Lambda): a completed
 * `route:webhook-id` is remembered for the deduplication window, across restarts; a failed attempt
 * leaves nothing behind, so retries and redrives are never blocked.
 */
import { DeliveryInProgressError, type RouteDone, type RunOnce } from '../transformer/delivery';
import type { LocalStore } from './store';

export interface StoreRunOnceOptions {
  readonly store: LocalStore;
  readonly deduplicationWindowSeconds: number;
  /** After this long an in-progress record counts as abandoned. */
  readonly inProgressTimeoutMs: number;
  readonly now?: () => number;
}

export function storeRunOnce(options: StoreRunOnceOptions): RunOnce {
  const { store } = options;
  const now = options.now ?? Date.now;
  return async (key, fn) => {
    const existing = store.dedupGet(key, now());
    if (existing?.status === 'completed') return { value: existing.value as RouteDone, duplicate: true };
    if (existing?.status === 'in-progress') throw new DeliveryInProgressError(`${key} is being delivered right now`);
    store.dedupPut(key, { status: 'in-progress', expiresAt: now() + options.inProgressTimeoutMs });
    let value: RouteDone;
    try {
      value = await fn();
    } catch (error) {
      store.dedupDelete(key);
      throw error;
    }
    store.dedupPut(key, { status: 'completed', value, expiresAt: now() + options.deduplicationWindowSeconds * 1000 });
    return { value, duplicate: false };
  };
}
