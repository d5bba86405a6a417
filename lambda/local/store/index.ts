/**
 * The durable store of `dodo-slack serve`: one SQLite file in `--data-dir`, one connection, and a
 * store per concern over it, each the local adapter of what AWS keeps elsewhere:
 *
 *   events      accepted events and their states, the dead letters    (SQS queue and dead-letter queue)
 *   runOnce     deduplication of route:webhook-id                     (Powertools idempotency, DynamoDB)
 *   summaries   summary counters and posted summaries                 (the summaries' DynamoDB table)
 *   threads     app mode's threads and cards                          (the thread DynamoDB table)
 *   rollups     roll-ups in progress                                  (messages drained from SQS)
 *   names       the Dodo API's answers for IDs, until they expire     (each Lambda instance's memory)
 *   alerts      open alert episodes                                   (the alerts' items in DynamoDB)
 *
 * One `serve` owns a data dir at a time (lock.ts); the `dead-letters` and `summary` commands may open
 * it beside a running serve (SQLite serialises the writes).
 */
import type { ThreadStore } from '../../transformer/threads/thread-store';
import { openDatabase, type OpenOptions } from './database';
import { eventStore, type EventStore } from './events';
import { rollupStore, type RollupStore } from './rollups';
import { storeRunOnce, type StoreRunOnce, type StoreRunOnceOptions } from './run-once';
import { summaryStore, type SummaryStore } from './summaries';
import { alertSource, alertStore } from './alerts';
import type { AlertSource, AlertStore } from '../../alerts/run';
import { storeThreads } from './threads';
import { storeNameCache } from './names';
import type { NameCache } from '../../shared/dodo-names';

export { STORE_FILE } from './database';
export { StoreError } from './store-error';
export type { EventState, EventStore, StoredEvent } from './events';
export { ANY_ROUTE } from './events';
export { queuedWebhookOf } from './events';
export type { OpenRollup, RollupMember, RollupCandidate, RollupStore } from './rollups';
export type { SummaryStore } from './summaries';
export type { StoreRunOnce } from './run-once';

export interface LocalStore {
  /** The database file. */
  readonly file: string;
  readonly events: EventStore;
  readonly summaries: SummaryStore;
  readonly rollups: RollupStore;
  readonly alerts: AlertStore;
  /** What the alert rules read: a rolling window over counted and not yet counted events. */
  readonly alertSource: AlertSource;
  /** Deduplication over the store's records. */
  runOnce(options: StoreRunOnceOptions): StoreRunOnce;
  /** App mode's threads, each forgotten `ttlSeconds` after its last write. */
  threads(options: { readonly ttlSeconds: number; readonly now?: () => number }): ThreadStore;
  /** The look-ups' cache, at most `maxEntries` entries. */
  names(maxEntries: number): NameCache;
  /** Closes the connection and releases the lock (a plain function: it may be passed on alone). */
  readonly close: () => void;
}

/**
 * Opens (creating when missing) the store in `dataDir`, migrated to this version's schema.
 * `readOnly` is for the `dead-letters list|show|export` commands; `owner` for `serve`, which takes
 * the data dir's lock.
 */
export function openStore(dataDir: string, options: OpenOptions = {}): LocalStore {
  const { database, close } = openDatabase(dataDir, options);
  return {
    file: database.file,
    events: eventStore(database),
    summaries: summaryStore(database),
    rollups: rollupStore(database),
    alerts: alertStore(database),
    alertSource: alertSource(database),
    runOnce: (runOnceOptions) => storeRunOnce(database, runOnceOptions),
    threads: (threadOptions) => storeThreads(database, threadOptions),
    names: (maxEntries) => storeNameCache(database, maxEntries),
    close,
  };
}
