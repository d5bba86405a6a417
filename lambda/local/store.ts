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
 *
 * Summaries (schema 2): each accepted webhook's summary counters are stored once per webhook-id,
 * in the same transaction as the accept, with the event's own time; posted summaries are recorded
 * with what they reported, in the same transaction as the precomposed event that delivers them.
 * Opening a schema-1 store migrates it and counts the events it already holds.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type Database from 'better-sqlite3';
import type { DodoWebhookEnvelope, QueuedWebhook } from '../shared/webhook';
import { addCounters, eventTimeMs, summaryFactsOf, type Counters } from '../summaries/facts';
import type { PostedSummary } from '../summaries/compose';
import { ensureRollupTables, rollupStoreOver, type RollupStore } from './rollup-store';

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
  /** A scheduled summary (body `{ route, message }`), not a Dodo webhook. */
  readonly precomposed: boolean;
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
  /**
   * Stores a verified webhook as pending for `route` and counts it for the summaries (once per
   * webhook-id, by the event's own time); both committed together when this returns.
   */
  accept(route: string, webhook: QueuedWebhook, now?: number): number;
  /** The summed summary counters of the webhooks whose event time is in `[startMs, endMs)`. */
  summaryTotals(startMs: number, endMs: number): Counters;
  /** The posted summary recorded under `key`, if any. */
  summaryPosted(key: string): PostedSummary | undefined;
  /**
   * Records a posted summary and queues its precomposed event for `route`, and updates the
   * reported totals of the earlier summaries whose late arrivals it notes, in one transaction.
   * False (nothing written) when `key` is already recorded: a summary is posted once.
   */
  postSummary(
    key: string,
    posted: PostedSummary,
    route: string,
    webhook: QueuedWebhook,
    noted: readonly { readonly key: string; readonly reported: Counters }[],
    now?: number,
  ): boolean;
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
  /** Roll-ups (issue 15): lambda/local/rollup-store.ts. */
  readonly rollups: RollupStore;
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
/** The schema this version writes; `migrate` brings older stores up to it, one step per version. */
const SCHEMA_VERSION = 3;

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
  precomposed: number;
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
    precomposed: row.precomposed === 1,
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
  let BetterSqlite3: typeof Database;
  try {
    BetterSqlite3 = loadSqliteDriver();
  } catch (error) {
    releaseLock();
    throw error;
  }
  try {
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
    ensureRollupTables(db);
  }
  return storeOver(db, file, releaseLock);
}

const LOCK_FILE = 'serve.pid';
/**
 * better-sqlite3, loaded when a store is opened: the native binding costs start-up time that preview
 * and send do not need. It is an optional dependency, so an app that only embeds the construct
 * installs without a native build; where it is missing or did not build, say what to run.
 */
function loadSqliteDriver(): typeof Database {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('better-sqlite3') as typeof Database;
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new StoreError(
      `serve's store needs better-sqlite3 12 (an optional dependency, with a native binding), and it cannot be loaded here (${detail}). ` +
        'Install or rebuild it: `npm install better-sqlite3@12` (or `npm rebuild better-sqlite3`; it builds with python3, make and a C++ compiler where no prebuilt binary fits).',
    );
  }
}

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
  if (version === SCHEMA_VERSION) return;
  // One transaction: a crash mid-migration leaves the store as it was, and the next open migrates again.
  db.transaction(() => {
    if (version < 1) createSchema1(db);
    if (version < 2) migrateTo2(db);
    if (version < 3) migrateTo3(db);
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
  // First accepted first: the body a re-sent id carried the first time is the one counted, as at accept.
  const rows = db.prepare('SELECT webhook_id, webhook_timestamp, body, received_at FROM events ORDER BY id').all() as Pick<EventRow, 'webhook_id' | 'webhook_timestamp' | 'body' | 'received_at'>[];
  for (const row of rows) {
    const facts = summaryFactsFor(row.body, row.webhook_timestamp, row.received_at);
    count.run(row.webhook_id, facts.occurredAt, row.received_at, JSON.stringify(facts.counters));
  }
}

/** Schema 3: Slack app mode's threads, one row per route and thread key (lambda/transformer/threads/thread-store.ts). */
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

/** A body's summary counters and event time; a body that is not a JSON object still counts as one event. */
function summaryFactsFor(body: string, webhookTimestamp: string, receivedAt: number): { occurredAt: number; counters: Counters } {
  let envelope: Partial<DodoWebhookEnvelope> = {};
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) envelope = parsed as Partial<DodoWebhookEnvelope>;
  } catch {
    // The receiver only accepts JSON; an older store may hold anything.
  }
  return { occurredAt: eventTimeMs(envelope, webhookTimestamp, receivedAt), counters: summaryFactsOf(envelope) };
}

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
  const insertEvent = (route: string, webhook: QueuedWebhook, now: number): number =>
    Number(
      sql(
        `INSERT INTO events (route, webhook_id, webhook_timestamp, event_type, body, state, attempts, next_attempt_at, received_at, precomposed)
         VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)`,
      ).run(route, webhook.webhookId, webhook.webhookTimestamp, webhook.eventType, webhook.body, now, now, webhook.precomposed ? 1 : 0).lastInsertRowid,
    );
  const acceptTransaction = db.transaction((route: string, webhook: QueuedWebhook, now: number): number => {
    const id = insertEvent(route, webhook, now);
    if (!webhook.precomposed) {
      const facts = summaryFactsFor(webhook.body, webhook.webhookTimestamp, now);
      // The first accept of a webhook-id counts; Dodo's retries and re-sends add nothing.
      sql('INSERT OR IGNORE INTO summary_events (webhook_id, occurred_at, received_at, counters) VALUES (?, ?, ?, ?)').run(
        webhook.webhookId,
        facts.occurredAt,
        now,
        JSON.stringify(facts.counters),
      );
    }
    return id;
  });
  const postTransaction = db.transaction(
    (key: string, posted: PostedSummary, route: string, webhook: QueuedWebhook, noted: readonly { key: string; reported: Counters }[], now: number): boolean => {
      const inserted = sql('INSERT OR IGNORE INTO summary_posts (key, posted_at, reported, message) VALUES (?, ?, ?, ?)').run(
        key,
        posted.postedAtMs,
        JSON.stringify(posted.reported),
        JSON.stringify(posted.message),
      );
      if (inserted.changes === 0) return false;
      for (const entry of noted) sql('UPDATE summary_posts SET reported = ? WHERE key = ?').run(JSON.stringify(entry.reported), entry.key);
      insertEvent(route, { ...webhook, precomposed: true }, now);
      return true;
    },
  );

  return {
    file,
    accept(route, webhook, now = Date.now()) {
      // The one commit that must reach the disk itself before it returns: Dodo gets its 200 next.
      // Syncing the WAL also syncs every NORMAL commit before it, so state never goes back in time.
      db.pragma('synchronous = FULL');
      try {
        return acceptTransaction(route, webhook, now);
      } finally {
        db.pragma('synchronous = NORMAL');
      }
    },
    summaryTotals(startMs, endMs) {
      const rows = sql('SELECT counters FROM summary_events WHERE occurred_at >= ? AND occurred_at < ?').all(startMs, endMs) as { counters: string }[];
      return rows.reduce<Counters>((sum, row) => addCounters(sum, JSON.parse(row.counters) as Counters), {});
    },
    summaryPosted(key) {
      const row = sql('SELECT key, posted_at, reported, message FROM summary_posts WHERE key = ?').get(key) as
        | { key: string; posted_at: number; reported: string; message: string }
        | undefined;
      if (!row) return undefined;
      return {
        periodFirstDay: row.key.slice(row.key.lastIndexOf('|') + 1),
        postedAtMs: row.posted_at,
        reported: JSON.parse(row.reported) as Counters,
        message: JSON.parse(row.message) as PostedSummary['message'],
      };
    },
    postSummary(key, posted, route, webhook, noted, now = Date.now()) {
      return postTransaction(key, posted, route, webhook, noted, now);
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
    rollups: rollupStoreOver(db),
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
