/** App mode's thread store (threads/thread-store.ts) on serve's SQLite store. */
import type { CardState } from '../transformer/threads/card';
import type { ThreadStore } from '../transformer/threads/thread-store';
import type { LocalStore } from './store';

export function storeThreads(store: LocalStore, options: { readonly ttlSeconds: number; readonly now?: () => number }): ThreadStore {
  const now = options.now ?? Date.now;
  const row = (record: Parameters<ThreadStore['create']>[2]) => ({
    channel: record.channel,
    ts: record.ts,
    card: JSON.stringify(record.card),
    lastEventAt: record.lastEventAt,
    version: record.version,
    // Counted from the last event written: an active thread stays; a quiet one is forgotten after the TTL.
    expiresAt: now() + options.ttlSeconds * 1000,
  });
  return {
    async get(route, key) {
      const stored = store.threadGet(route, key, now());
      if (stored === undefined) return undefined;
      return { channel: stored.channel, ts: stored.ts, card: JSON.parse(stored.card) as CardState, lastEventAt: stored.lastEventAt, version: stored.version };
    },
    async create(route, key, record) {
      return store.threadCreate(route, key, row(record), now());
    },
    async replace(route, key, record, expectedVersion) {
      return store.threadReplace(route, key, row(record), expectedVersion);
    },
  };
}
