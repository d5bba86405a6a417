/**
 * The port app mode keeps its threads in: per route and thread key, where the thread's parent is
 * (channel, ts), what its card shows, and the newest event time. DynamoDB on AWS
 * (transformer/dynamodb-thread-store.ts), the SQLite store in `serve` (local/store/threads.ts).
 *
 * Writes are conditional, so two transformer instances working on one thread never both start
 * it, and never overwrite each other's card with an older one.
 */
import type { CardState } from './card';

/** Key attribute of the DynamoDB thread table (the construct creates it, lib/slack-app.ts). */
export const THREAD_TABLE_PARTITION_KEY = 'pk';
/** TTL attribute of the DynamoDB thread table (epoch seconds). */
export const THREAD_TABLE_TTL_ATTRIBUTE = 'expiration';

export interface ThreadRecord {
  readonly channel: string;
  /** The parent message's `ts`. */
  readonly ts: string;
  readonly card: CardState;
  /** Epoch ms of the newest event in the thread (its `timestamp`). */
  readonly lastEventAt: number;
  /** Bumped on every write; {@link ThreadStore.replace} succeeds only on the version read. */
  readonly version: number;
}

export interface ThreadStore {
  get(route: string, key: string): Promise<ThreadRecord | undefined>;
  /** Stores a new thread; false (and nothing written) when the key already has one. */
  create(route: string, key: string, record: ThreadRecord): Promise<boolean>;
  /** Replaces the thread read at `expectedVersion`; false (nothing written) when it changed since. */
  replace(route: string, key: string, record: ThreadRecord, expectedVersion: number): Promise<boolean>;
}
