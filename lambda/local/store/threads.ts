/**
 * App mode's thread store (transformer/threads/thread-store.ts) on the store: one row per route and
 * thread key, with the same conditional writes as the DynamoDB table (both pass
 * test/contracts/thread-store.contract.test.ts). A thread is forgotten `ttlSeconds` after its last
 * write: an active thread stays, a quiet one makes way for a new thread on the next event.
 */
import type { CardState } from '../../transformer/threads/card';
import type { ThreadRecord, ThreadStore } from '../../transformer/threads/thread-store';
import { promiseOf } from '../../shared/promise';
import type { StoreDatabase } from './database';

export function storeThreads(database: StoreDatabase, options: { readonly ttlSeconds: number; readonly now?: () => number }): ThreadStore {
  const { sql } = database;
  const now = options.now ?? ((): number => Date.now());
  const expiresAt = () => now() + options.ttlSeconds * 1000;
  return {
    get(route, key) {
      return promiseOf((): ThreadRecord | undefined => {
        const row = sql('SELECT channel, ts, card, last_event_at, version FROM threads WHERE route = ? AND thread_key = ? AND expires_at > ?').get(route, key, now()) as
          | { channel: string; ts: string; card: string; last_event_at: number; version: number }
          | undefined;
        if (row === undefined) return undefined;
        return { channel: row.channel, ts: row.ts, card: JSON.parse(row.card) as CardState, lastEventAt: row.last_event_at, version: row.version };
      });
    },
    create(route, key, record: ThreadRecord) {
      return promiseOf(() => {
        // An expired row is replaced like a missing one.
        const result = sql(
          `INSERT INTO threads (route, thread_key, channel, ts, card, last_event_at, version, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (route, thread_key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, card = excluded.card,
             last_event_at = excluded.last_event_at, version = excluded.version, expires_at = excluded.expires_at
           WHERE threads.expires_at <= ?`,
        ).run(route, key, record.channel, record.ts, JSON.stringify(record.card), record.lastEventAt, record.version, expiresAt(), now());
        return result.changes === 1;
      });
    },
    replace(route, key, record, expectedVersion) {
      return promiseOf(() => {
        const result = sql(`UPDATE threads SET channel = ?, ts = ?, card = ?, last_event_at = ?, version = ?, expires_at = ? WHERE route = ? AND thread_key = ? AND version = ?`).run(
          record.channel,
          record.ts,
          JSON.stringify(record.card),
          record.lastEventAt,
          record.version,
          expiresAt(),
          route,
          key,
          expectedVersion,
        );
        return result.changes === 1;
      });
    },
  };
}
