/**
 * Deduplication of `route:webhook-id` on the store (the `dedup` table), with the semantics the
 * pipeline expects of `RunOnce`, which Powertools idempotency on DynamoDB gives the Lambda and the
 * contract suite checks of both (test/contracts/run-once.contract.test.ts): a completed key is
 * remembered for the deduplication window, across restarts; a failed attempt leaves nothing
 * behind, so retries and redrives are never blocked; a key in progress blocks others until its
 * in-progress expiry.
 */
import { DeliveryInProgressError, type RouteDone, type RunOnce } from '../../transformer/delivery';
import type { StoreDatabase } from './database';

export interface StoreRunOnceOptions {
  /** How long a completed key suppresses duplicates. */
  readonly deduplicationWindowSeconds: number;
  /** After this long an in-progress record counts as abandoned (its delivery can take no longer). */
  readonly inProgressTimeoutMs: number;
  readonly now?: () => number;
}

export interface StoreRunOnce {
  readonly runOnce: RunOnce;
  /**
   * Drops in-progress records: at start, when this process owns the data dir, no delivery can be
   * running, so such a record is one a crash cut short. Returns how many.
   */
  clearInProgress(): number;
}

export function storeRunOnce(database: StoreDatabase, options: StoreRunOnceOptions): StoreRunOnce {
  const { sql } = database;
  const now = options.now ?? ((): number => Date.now());
  const put = (key: string, status: 'in-progress' | 'completed', value: string | null, expiresAt: number) =>
    sql(
      'INSERT INTO dedup (key, status, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET status = excluded.status, value = excluded.value, expires_at = excluded.expires_at',
    ).run(key, status, value, expiresAt);
  // Read and claim in one transaction: a check-then-write in two steps would let two callers claim one key.
  const claim = database.db.transaction((key: string, at: number): { readonly status: 'claimed' } | { readonly status: 'completed'; readonly value: string } | { readonly status: 'in-progress' } => {
    const row = sql('SELECT status, value FROM dedup WHERE key = ? AND expires_at > ?').get(key, at) as { status: 'in-progress' | 'completed'; value: string | null } | undefined;
    if (row?.status === 'completed') return { status: 'completed', value: row.value ?? 'delivered' };
    if (row?.status === 'in-progress') return { status: 'in-progress' };
    put(key, 'in-progress', null, at + options.inProgressTimeoutMs);
    return { status: 'claimed' };
  });
  return {
    async runOnce(key, fn) {
      const claimed = claim(key, now());
      if (claimed.status === 'completed') return { value: claimed.value as RouteDone, duplicate: true };
      if (claimed.status === 'in-progress') throw new DeliveryInProgressError(`${key} is being delivered right now`);
      let value: RouteDone;
      try {
        value = await fn();
      } catch (error) {
        sql('DELETE FROM dedup WHERE key = ?').run(key);
        throw error;
      }
      put(key, 'completed', value, now() + options.deduplicationWindowSeconds * 1000);
      return { value, duplicate: false };
    },
    clearInProgress() {
      return sql(`DELETE FROM dedup WHERE status = 'in-progress'`).run().changes;
    },
  };
}
