/**
 * The look-ups' cache on the store (lambda/shared/dodo-names.ts NameCache): what the Dodo API said
 * about an ID, as JSON, kept across restarts until it expires, so a restarted `serve` does not ask again.
 * Bounded: past `maxEntries`, the entries closest to expiry make way.
 */
import type { NameCache } from '../../shared/dodo-names';
import type { StoreDatabase } from './database';

export function storeNameCache(database: StoreDatabase, maxEntries: number): NameCache {
  const { sql } = database;
  return {
    get(key, nowMs) {
      const row = sql('SELECT value FROM names WHERE key = ? AND expires_at > ?').get(key, nowMs) as { value: string } | undefined;
      if (row === undefined) return undefined;
      try {
        return JSON.parse(row.value) as unknown;
      } catch {
        return undefined;
      }
    },
    set(key, value, expiresAtMs) {
      sql('INSERT INTO names (key, value, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at').run(key, JSON.stringify(value), expiresAtMs);
      const { n } = sql('SELECT COUNT(*) AS n FROM names').get() as { n: number };
      if (n > maxEntries) sql('DELETE FROM names WHERE key IN (SELECT key FROM names ORDER BY expires_at LIMIT ?)').run(n - maxEntries);
    },
  };
}
