/**
 * The durable store of `dodo-slack serve`: one SQLite file (better-sqlite3) in `--data-dir`.
 *
 * What it guarantees: `accept()` returns only after the event is committed and synced (WAL,
 * synchronous=FULL for that commit), so an event answered 200 survives a crash, a SIGKILL or a power
 * cut; its state moves on disk (pending → delivered | skipped | dead-lettered) in commits that survive
 * the process but are not synced one by one (synchronous=NORMAL: about 1.5× the throughput, measured
 * with npm run bench's serve run), so a restart after a SIGKILL resumes exactly what is left, and a
 * power cut can at worst repeat the deliveries of its last moments, never lose an event; and
 * the deduplication of `route:webhook-id` lives beside it for the deduplication window.
 *
 * better-sqlite3 is synchronous on purpose here: the receiver commits inside the request, before
 * the answer is written. One `serve` owns a data dir at a time (a pid lock file); the
 * `dead-letters` commands may open it beside a running serve (SQLite serialises the writes).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import type { QueuedWebhook } from '../shared/webhook';

/** Where an accepted event stands for its route. */
export type EventState = 'pending' | 'delivered' | 'skipped' | 'dead-lettered';

export interface StoredEvent {
  /** The store's own id: what `dead-letters show|redrive` take. */
  readonly id: number;
  readonly route: string;
  readonly webhookId: string;
  readonly webhookTimestamp: string;
  readonly eventType: string;
  /** The raw body exactly as Dodo sent it. */
  readonly body: string;
  readonly state: EventState;
  /** Delivery attempts since it was accepted (or redriven). */
  readonly attempts: number;
  /** Epoch ms: when a pending event is due. */
  readonly nextAttemptAt: number;
  readonly receivedAt: number;
  readonly finishedAt?: number;
  /** Why it was skipped, retried or dead-lettered (never a secret). */
  readonly reason?: string;
  /** Slack's last answer, e.g. `404 channel_not_found` (never the URL). */
  readonly lastSlackResponse?: string;
}

/** A deduplication record: `completed` holds the delivery's result until it expires. */
export interface DedupRecord {
  readonly status: 'in-progress' | 'completed';
  readonly value?: string;
  readonly expiresAt: number;
}

/** A thread row: where the parent is and its card (JSON text, see threads/card.ts). */
export interface StoredThread {
  readonly channel: string;
  readonly ts: string;
  readonly card: string;
  readonly lastEventAt: number;
  readonly version: number;
  /** Epoch ms after which the thread is forgotten (the next event starts a new one). */
  readonly expiresAt: number;
}

export interface LocalStore {
  /** The database file. */
  readonly file: string;
  /** Stores a verified webhook as pending for `route`; committed when this returns. */
  accept(route: string, webhook: QueuedWebhook, now?: number): number;
  /** The pending event due first (at or before `now`), if any. */
  nextDue(now?: number): StoredEvent | undefined;
  /** When the next pending event is due (epoch ms), if any is pending. */
  nextDueAt(): number | undefined;
  /** Counts one more attempt, committed before the attempt starts (a crash mid-attempt still counts it). */
  startAttempt(id: number): number;
  finish(id: number, state: 'delivered' | 'skipped', reason?: string, now?: number): void;
  /** Pending again at `nextAttemptAt`, keeping its attempts. */
  retryAt(id: number, nextAttemptAt: number, reason: string, lastSlackResponse?: string): void;
  /** Pending again at `nextAttemptAt` with its attempts reset (never attempted through no fault of its own). */
  requeue(id: number, nextAttemptAt: number, reason: string): void;
  deadLetter(id: number, reason: string, attempts: number, lastSlackResponse?: string, now?: number): void;
  get(id: number): StoredEvent | undefined;
  count(state: EventState): number;
  /** Dead letters, oldest first. */
  deadLetters(): StoredEvent[];
  /** A dead letter back to pending with its attempts reset; false when `id` is not a dead letter. */
  redrive(id: number, now?: number): boolean;
  /** Every dead letter back to pending; how many. */
  redriveAll(now?: number): number;
  dedupGet(key: string, now?: number): DedupRecord | undefined;
  dedupPut(key: string, record: DedupRecord): void;
  dedupDelete(key: string): void;
  /** Drops in-progress deduplication records: at start, when no delivery can be running. */
  dedupClearInProgress(): number;
  /** App mode's thread of `route` and `key` (card as JSON text), unless expired. */
  threadGet(route: string, key: string, now?: number): StoredThread | undefined;
  /** Inserts a thread; false when an unexpired one exists for the key. */
  threadCreate(route: string, key: string, thread: StoredThread, now?: number): boolean;
  /** Replaces the thread at `expectedVersion`; false when it is at another version (or gone). */
  threadReplace(route: string, key: string, thread: StoredThread, expectedVersion: number): boolean;
  close(): void;
}

/** Name of the database file inside the data dir. */
export const STORE_FILE = 'dodo-slack.db';
/** The schema this version writes: one step per version in {@link MIGRATIONS}. */
const SCHEMA_VERSION = 2;

interface EventRow {
  id: number;
  route: string;
  webhook_id: string;
  webhook_timestamp: string;
  event_type: string;
  body: string;
  state: EventState;
  attempts: number;
  next_attempt_at: number;
  received_at: number;
  finished_at: number | null;
  reason: string | null;
  last_slack_response: string | null;
}

function toEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    route: row.route,
    webhookId: row.webhook_id,
    webhookTimestamp: row.webhook_timestamp,
    eventType: row.event_type,
    body: row.body,
    state: row.state,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    receivedAt: row.received_at,
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
    ...(row.reason === null ? {} : { reason: row.reason }),
    ...(row.last_slack_response === null ? {} : { lastSlackResponse: row.last_slack_response }),
  };
}

/** The store cannot be opened (another serve holds it, or the folder is not usable). */
export class StoreError extends Error {
  override name = 'StoreError';
}

/**
 * Opens (creating when missing) the store in `dataDir`. The folder is created 0700 and the
 * database 0600: they hold whole event bodies with customer emails. `readOnly` is for the
 * `dead-letters list|show|export` commands, which may run beside a live `serve`.
 */
export function openStore(dataDir: string, options: { readonly readOnly?: boolean; readonly owner?: boolean } = {}): LocalStore {
  const file = path.join(dataDir, STORE_FILE);
  let releaseLock = (): void => undefined;
  if (options.readOnly) {
    if (!fs.existsSync(file)) throw new StoreError(`no store in ${dataDir} (${STORE_FILE} is missing); start \`dodo-slack serve --data-dir ${dataDir}\` first`);
  } else {
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    // Created here with 0600 so SQLite never creates it world-readable; its -wal and -shm files take the same mode.
    fs.closeSync(fs.openSync(file, 'a', 0o600));
    fs.chmodSync(file, 0o600);
    if (options.owner) releaseLock = lockDataDir(dataDir);
  }
  let db: Database.Database;
  try {
    // Loaded here: the native binding costs start-up time that preview and send do not need.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const BetterSqlite3 = require('better-sqlite3') as typeof Database;
    db = new BetterSqlite3(file, { readonly: options.readOnly === true, timeout: 5000 });
  } catch (error) {
    releaseLock();
    throw new StoreError(`cannot open the store ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!options.readOnly) {
    db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode: a commit survives the process (SIGKILL, a crash) without an fsync of its own;
    // accept() alone commits with FULL, which syncs the WAL up to and including it (see accept).
    db.pragma('synchronous = NORMAL');
    migrate(db);
  }
  return storeOver(db, file, releaseLock);
}

const LOCK_FILE = 'serve.pid';
/** Data dirs this process holds: a lock file naming our own pid is ours only if it is listed here (pid 1 in a restarted container is not). */
const heldByThisProcess = new Set<string>();

/**
 * Makes this process the data dir's only `serve`: two would deliver the same pending events. A lock
 * left by a process that no longer runs (SIGKILL, power cut) is taken over. Returns the release.
 */
function lockDataDir(dataDir: string): () => void {
  const lock = path.join(dataDir, LOCK_FILE);
  const key = path.resolve(dataDir);
  if (heldByThisProcess.has(key)) throw new StoreError(`${dataDir} is already in use by this process`);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      heldByThisProcess.add(key);
      return () => {
        heldByThisProcess.delete(key);
        fs.rmSync(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError(`cannot lock ${dataDir}: ${(error as Error).message}`);
      const holder = Number(fs.readFileSync(lock, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processIsAlive(holder)) {
        throw new StoreError(`another dodo-slack serve (pid ${holder}) is using ${dataDir}; stop it, or pass another --data-dir`);
      }
      fs.rmSync(lock, { force: true });
    }
  }
  throw new StoreError(`cannot lock ${dataDir}`);
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new StoreError(`the store was written by a newer dodo-slack (schema ${version}, this one knows ${SCHEMA_VERSION})`);
  }
  // Each step in its own transaction, so a store is always at one version or the next, never between.
  for (let next = version + 1; next <= SCHEMA_VERSION; next += 1) {
    const step = MIGRATIONS[next];
    if (step === undefined) throw new StoreError(`no migration to schema ${next}`);
    db.transaction(() => {
      db.exec(step);
      db.pragma(`user_version = ${next}`);
    })();
  }
}

/** Schema version → the SQL that brings the store from the version before to it. Steps are never edited once released. */
const MIGRATIONS: Readonly<Record<number, string>> = {
  1: `
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
  `,
  // Slack app mode: one row per route and thread key (lambda/transformer/threads/thread-store.ts).
  2: `
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
  `,
};

function storeOver(db: Database.Database, file: string, releaseLock: () => void): LocalStore {
  const statements = new Map<string, Database.Statement>();
  // Prepared on first use: the read-only commands never prepare the writes.
  const sql = (text: string): Database.Statement => {
    let statement = statements.get(text);
    if (!statement) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
  const one = (id: number) => sql('SELECT * FROM events WHERE id = ?').get(id) as EventRow | undefined;

  return {
    file,
    accept(route, webhook, now = Date.now()) {
      // The one commit that must reach the disk itself before it returns: Dodo gets its 200 next.
      // Syncing the WAL also syncs every NORMAL commit before it, so state never goes back in time.
      db.pragma('synchronous = FULL');
      try {
        const result = sql(
          `INSERT INTO events (route, webhook_id, webhook_timestamp, event_type, body, state, attempts, next_attempt_at, received_at)
           VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
        ).run(route, webhook.webhookId, webhook.webhookTimestamp, webhook.eventType, webhook.body, now, now);
        return Number(result.lastInsertRowid);
      } finally {
        db.pragma('synchronous = NORMAL');
      }
    },
    nextDue(now = Date.now()) {
      const row = sql(`SELECT * FROM events WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1`).get(now) as
        | EventRow
        | undefined;
      return row ? toEvent(row) : undefined;
    },
    nextDueAt() {
      const row = sql(`SELECT MIN(next_attempt_at) AS due FROM events WHERE state = 'pending'`).get() as { due: number | null };
      return row.due ?? undefined;
    },
    startAttempt(id) {
      sql('UPDATE events SET attempts = attempts + 1 WHERE id = ?').run(id);
      return (one(id)?.attempts ?? 0);
    },
    finish(id, state, reason, now = Date.now()) {
      sql('UPDATE events SET state = ?, reason = ?, finished_at = ? WHERE id = ?').run(state, reason ?? null, now, id);
    },
    retryAt(id, nextAttemptAt, reason, lastSlackResponse) {
      sql(`UPDATE events SET state = 'pending', next_attempt_at = ?, reason = ?, last_slack_response = ? WHERE id = ?`).run(
        nextAttemptAt,
        reason,
        lastSlackResponse ?? null,
        id,
      );
    },
    requeue(id, nextAttemptAt, reason) {
      sql(`UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = ?, reason = ? WHERE id = ?`).run(nextAttemptAt, reason, id);
    },
    deadLetter(id, reason, attempts, lastSlackResponse, now = Date.now()) {
      sql(`UPDATE events SET state = 'dead-lettered', reason = ?, attempts = ?, last_slack_response = ?, finished_at = ? WHERE id = ?`).run(
        reason,
        attempts,
        lastSlackResponse ?? null,
        now,
        id,
      );
    },
    get(id) {
      const row = one(id);
      return row ? toEvent(row) : undefined;
    },
    count(state) {
      return (sql('SELECT COUNT(*) AS n FROM events WHERE state = ?').get(state) as { n: number }).n;
    },
    deadLetters() {
      return (sql(`SELECT * FROM events WHERE state = 'dead-lettered' ORDER BY finished_at, id`).all() as EventRow[]).map(toEvent);
    },
    redrive(id, now = Date.now()) {
      const result = sql(
        `UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL WHERE id = ? AND state = 'dead-lettered'`,
      ).run(now, id);
      return result.changes === 1;
    },
    redriveAll(now = Date.now()) {
      return sql(`UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL WHERE state = 'dead-lettered'`).run(now)
        .changes;
    },
    dedupGet(key, now = Date.now()) {
      const row = sql('SELECT status, value, expires_at FROM dedup WHERE key = ? AND expires_at > ?').get(key, now) as
        | { status: DedupRecord['status']; value: string | null; expires_at: number }
        | undefined;
      if (!row) return undefined;
      return { status: row.status, expiresAt: row.expires_at, ...(row.value === null ? {} : { value: row.value }) };
    },
    dedupPut(key, record) {
      sql('INSERT INTO dedup (key, status, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET status = excluded.status, value = excluded.value, expires_at = excluded.expires_at').run(
        key,
        record.status,
        record.value ?? null,
        record.expiresAt,
      );
    },
    dedupDelete(key) {
      sql('DELETE FROM dedup WHERE key = ?').run(key);
    },
    dedupClearInProgress() {
      return sql(`DELETE FROM dedup WHERE status = 'in-progress'`).run().changes;
    },
    threadGet(route, key, now = Date.now()) {
      const row = sql('SELECT channel, ts, card, last_event_at, version, expires_at FROM threads WHERE route = ? AND thread_key = ? AND expires_at > ?').get(route, key, now) as
        | { channel: string; ts: string; card: string; last_event_at: number; version: number; expires_at: number }
        | undefined;
      return row && { channel: row.channel, ts: row.ts, card: row.card, lastEventAt: row.last_event_at, version: row.version, expiresAt: row.expires_at };
    },
    threadCreate(route, key, thread, now = Date.now()) {
      // An expired row is replaced like a missing one.
      const result = sql(
        `INSERT INTO threads (route, thread_key, channel, ts, card, last_event_at, version, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (route, thread_key) DO UPDATE SET channel = excluded.channel, ts = excluded.ts, card = excluded.card,
           last_event_at = excluded.last_event_at, version = excluded.version, expires_at = excluded.expires_at
         WHERE threads.expires_at <= ?`,
      ).run(route, key, thread.channel, thread.ts, thread.card, thread.lastEventAt, thread.version, thread.expiresAt, now);
      return result.changes === 1;
    },
    threadReplace(route, key, thread, expectedVersion) {
      const result = sql(
        `UPDATE threads SET channel = ?, ts = ?, card = ?, last_event_at = ?, version = ?, expires_at = ? WHERE route = ? AND thread_key = ? AND version = ?`,
      ).run(thread.channel, thread.ts, thread.card, thread.lastEventAt, thread.version, thread.expiresAt, route, key, expectedVersion);
      return result.changes === 1;
    },
    close() {
      db.close();
      releaseLock();
    },
  };
}
