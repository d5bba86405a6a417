/**
 * serve's store, app-mode part: the threads table (schema 3), conditional writes, expiry, and
 * stores written by the versions before (schema 1: events and dedup; schema 2: the summaries'
 * tables) opening with their events kept.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openStore, STORE_FILE } from '../../lambda/local/store';
import { storeThreads } from '../../lambda/local/store-threads';
import { expectThreadStoreContract } from '../support/thread-store-contract';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dodo-store-threads-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** What the previous release wrote (schema 1), verbatim. */
const SCHEMA_1 = `
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, route TEXT NOT NULL, webhook_id TEXT NOT NULL, webhook_timestamp TEXT NOT NULL,
    event_type TEXT NOT NULL, body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'skipped', 'dead-lettered')),
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, received_at INTEGER NOT NULL,
    finished_at INTEGER, reason TEXT, last_slack_response TEXT
  );
  CREATE INDEX events_due ON events (state, next_attempt_at, id);
  CREATE TABLE dedup (key TEXT PRIMARY KEY, status TEXT NOT NULL CHECK (status IN ('in-progress', 'completed')), value TEXT, expires_at INTEGER NOT NULL);
  PRAGMA user_version = 1;
`;

test('a store written by the previous version (schema 1) opens, keeps its pending events and gains the threads table', () => {
  const old = new Database(join(dir, STORE_FILE));
  old.exec(SCHEMA_1);
  old.prepare(`INSERT INTO events (route, webhook_id, webhook_timestamp, event_type, body, state, attempts, next_attempt_at, received_at) VALUES ('default', 'msg_old', '1', 'payment.succeeded', '{}', 'pending', 0, 0, 0)`).run();
  old.close();

  const store = openStore(dir);
  try {
    expect(store.count('pending')).toBe(1);
    expect(store.nextDue()?.webhookId).toBe('msg_old');
    expect(store.threadCreate('default', 'payment:pay_1', { channel: 'C1', ts: '1.1', card: '{}', lastEventAt: 1, version: 1, expiresAt: Date.now() + 60_000 })).toBe(true);
  } finally {
    store.close();
  }
  const reopened = new Database(join(dir, STORE_FILE), { readonly: true });
  expect(reopened.pragma('user_version', { simple: true })).toBe(3);
  reopened.close();
});

test('a store written by the version before this one (schema 2, with the summaries) opens, keeps its events and summary counts, and gains the threads table', () => {
  // Schema 2 is schema 3 without the threads table: build one through the store, then take the table away.
  const first = openStore(dir);
  first.accept('default', { webhookId: 'msg_v2', webhookTimestamp: '1', eventType: 'payment.succeeded', body: '{"type":"payment.succeeded","data":{}}' });
  first.close();
  const downgrade = new Database(join(dir, STORE_FILE));
  downgrade.exec('DROP TABLE threads; PRAGMA user_version = 2;');
  const summaryRows = (downgrade.prepare('SELECT COUNT(*) AS n FROM summary_events').get() as { n: number }).n;
  downgrade.close();

  const store = openStore(dir);
  try {
    expect(store.nextDue()?.webhookId).toBe('msg_v2');
    expect(store.threadCreate('default', 'payment:pay_1', { channel: 'C1', ts: '1.1', card: '{}', lastEventAt: 1, version: 1, expiresAt: Date.now() + 60_000 })).toBe(true);
  } finally {
    store.close();
  }
  const reopened = new Database(join(dir, STORE_FILE), { readonly: true });
  expect(reopened.pragma('user_version', { simple: true })).toBe(3);
  expect((reopened.prepare('SELECT COUNT(*) AS n FROM summary_events').get() as { n: number }).n).toBe(summaryRows);
  expect(summaryRows).toBe(1);
  reopened.close();
});

test('a store from a newer dodo-slack is refused, not downgraded', () => {
  const newer = new Database(join(dir, STORE_FILE));
  newer.pragma('user_version = 99');
  newer.close();
  expect(() => openStore(dir)).toThrow(/newer dodo-slack \(schema 99, this one knows 3\)/);
});

test('threads: one create per key, replace only at the version read, forgotten after the TTL', async () => {
  let now = 1_000_000;
  const store = openStore(dir);
  try {
    await expectThreadStoreContract(storeThreads(store, { ttlSeconds: 60, now: () => now }), (ms) => (now += ms), 60);
  } finally {
    store.close();
  }
});
