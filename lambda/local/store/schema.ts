/**
 * The store's one migration scheme: `PRAGMA user_version` says which schema a database has, and
 * `migrate` brings it up to {@link SCHEMA_VERSION} one step per version, in one transaction (a crash
 * mid-migration leaves the store as it was, and the next open migrates again). A data dir written by
 * any earlier version opens as it is (test/local/store-upgrade.test.ts opens one of each).
 *
 *   1  events (one row per accepted event and its state), dedup (route:webhook-id)
 *   2  the summaries: summary_events (counters once per webhook-id), summary_posts; events.precomposed
 *   3  app mode's threads
 *   4  roll-ups: rollups and rollup_members (earlier builds created them beside schema 3, without a
 *      version of their own, so this step keeps what is there)
 *   5  events.mode: `live` or `test`, the mode of the signing key that verified the event (the
 *      events already held were accepted before modes existed, so they are live)
 *   6  names: the Dodo API's answers for IDs (product names, payments), each with its expiry
 *   7  alert_episodes: the alerts' open episodes; an index on events.received_at for their rules
 */
import type Database from 'better-sqlite3';
import { summaryFactsOfWebhook } from '../../summaries/facts';
import { StoreError } from './store-error';

/** The schema this version writes. */
export const SCHEMA_VERSION = 7;

export function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(`the store was written by a newer dodo-slack (schema ${version}, this one knows ${SCHEMA_VERSION}); run that version, or start with another --data-dir`);
  }
  if (version === SCHEMA_VERSION) return;
  db.transaction(() => {
    if (version < 1) createSchema1(db);
    if (version < 2) migrateTo2(db);
    if (version < 3) migrateTo3(db);
    if (version < 4) migrateTo4(db);
    if (version < 5) migrateTo5(db);
    if (version < 6) migrateTo6(db);
    if (version < 7) migrateTo7(db);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

function createSchema1(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      route TEXT NOT NULL,
      webhook_id TEXT NOT NULL,
      webhook_timestamp TEXT NOT NULL,
      event_type TEXT NOT NULL,
      body TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'skipped', 'dead-lettered')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      received_at INTEGER NOT NULL,
      finished_at INTEGER,
      reason TEXT,
      last_slack_response TEXT
    );
    CREATE INDEX IF NOT EXISTS events_due ON events (state, next_attempt_at, id);
    CREATE TABLE IF NOT EXISTS dedup (
      key TEXT PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN ('in-progress', 'completed')),
      value TEXT,
      expires_at INTEGER NOT NULL
    );
  `);
}

/** Schema 2: the summaries' tables, the precomposed flag, and the events already held counted once each. */
function migrateTo2(db: Database.Database): void {
  db.exec(`
    ALTER TABLE events ADD COLUMN precomposed INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE IF NOT EXISTS summary_events (
      webhook_id TEXT PRIMARY KEY,
      occurred_at INTEGER NOT NULL,
      received_at INTEGER NOT NULL,
      counters TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS summary_events_time ON summary_events (occurred_at);
    CREATE TABLE IF NOT EXISTS summary_posts (
      key TEXT PRIMARY KEY,
      posted_at INTEGER NOT NULL,
      reported TEXT NOT NULL,
      message TEXT NOT NULL
    );
  `);
  const count = db.prepare('INSERT OR IGNORE INTO summary_events (webhook_id, occurred_at, received_at, counters) VALUES (?, ?, ?, ?)');
  // First accepted first: the body a re-sent id carried the first time is the one counted.
  const rows = db.prepare('SELECT webhook_id, webhook_timestamp, body, received_at FROM events ORDER BY id').all() as {
    webhook_id: string;
    webhook_timestamp: string;
    body: string;
    received_at: number;
  }[];
  for (const row of rows) {
    const facts = summaryFactsOfWebhook(row.body, row.webhook_timestamp, row.received_at);
    count.run(row.webhook_id, facts.occurredAtMs, row.received_at, JSON.stringify(facts.counters));
  }
}

/** Schema 3: Slack app mode's threads, one row per route and thread key. */
function migrateTo3(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS threads (
      route TEXT NOT NULL,
      thread_key TEXT NOT NULL,
      channel TEXT NOT NULL,
      ts TEXT NOT NULL,
      card TEXT NOT NULL,
      last_event_at INTEGER NOT NULL,
      version INTEGER NOT NULL,
      expires_at INTEGER NOT NULL,
      PRIMARY KEY (route, thread_key)
    );
  `);
}

/** Schema 4: roll-ups (rollups.ts). IF NOT EXISTS: a schema-3 store of a build with roll-ups has them already. */
function migrateTo4(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS rollups (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      route TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('open', 'posted', 'fell-back')),
      attempts INTEGER NOT NULL DEFAULT 0,
      next_attempt_at INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      finished_at INTEGER,
      covered INTEGER,
      reason TEXT
    );
    CREATE INDEX IF NOT EXISTS rollups_due ON rollups (state, next_attempt_at, id);
    CREATE TABLE IF NOT EXISTS rollup_members (
      event_id INTEGER PRIMARY KEY,
      rollup_id INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS rollup_members_rollup ON rollup_members (rollup_id);
  `);
}

/**
 * Schema 5: each event's mode; every event accepted before is live (the default fills them in).
 * Skipped when the column is there: a store whose version was set back by hand keeps its events' modes.
 */
function migrateTo5(db: Database.Database): void {
  const columns = db.prepare('PRAGMA table_info(events)').all() as { name: string }[];
  if (columns.some((column) => column.name === 'mode')) return;
  db.exec(`ALTER TABLE events ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));`);
}

/** Schema 6: the look-ups' cache (names.ts); it starts empty, every name is asked once again. */
function migrateTo6(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS names (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL,
      expires_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS names_expiry ON names (expires_at);
  `);
}

/** Schema 7: the alerts' open episodes, and an index the rules read the last accepted webhook and the gaps through. */
function migrateTo7(db: Database.Database): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS alert_episodes (
      rule TEXT PRIMARY KEY,
      id TEXT NOT NULL,
      opened_at INTEGER NOT NULL,
      detail TEXT,
      pending_kind TEXT CHECK (pending_kind IN ('alert', 'resolved')),
      pending_message TEXT
    );
    CREATE INDEX IF NOT EXISTS events_received ON events (received_at);
  `);
}
