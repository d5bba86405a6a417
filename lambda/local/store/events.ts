/**
 * Accepted events and their states, what SQS and its dead-letter queue hold on AWS: one row per
 * accepted event and route, pending (with its next attempt time) until it is delivered, skipped or
 * dead-lettered with its reason.
 *
 * `accept()` returns only after the event is committed and synced (synchronous=FULL for that
 * commit), so an event answered 200 survives a crash, a SIGKILL or a power cut. State changes are
 * committed without a sync of their own (synchronous=NORMAL: about 1.5× the delivery rate): they
 * survive the process, and a power cut can at worst repeat the deliveries of its last moments,
 * never lose an event. Syncing the WAL at an accept also syncs every commit before it, so state
 * never goes back in time.
 */
import type { QueuedWebhook, WebhookMode } from '../../shared/webhook';
import type { StoreDatabase } from './database';

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
  /** The mode of the signing key that verified it (`live` for events accepted before modes existed). */
  readonly mode: WebhookMode;
}

/**
 * The route of a row kept for every route that takes its event when it is delivered: an event no
 * route took when it was accepted (it is still counted for the summaries, then skipped).
 */
export const ANY_ROUTE = '*';

export interface EventStore {
  /** Stores a verified webhook as pending for `route`, committed and synced when this returns. */
  accept(route: string, webhook: QueuedWebhook, now?: number): number;
  /** Stores a verified webhook as pending once per route, in one transaction committed and synced when this returns. */
  acceptForRoutes(routes: readonly string[], webhook: QueuedWebhook, now?: number): number[];
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
}

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
  mode: WebhookMode;
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
    mode: row.mode,
  };
}

/** The event as the pipeline takes it (what an SQS message carries on AWS), its mode included. */
export function queuedWebhookOf(event: Pick<StoredEvent, 'webhookId' | 'webhookTimestamp' | 'eventType' | 'body' | 'precomposed' | 'mode'>): QueuedWebhook {
  return {
    webhookId: event.webhookId,
    webhookTimestamp: event.webhookTimestamp,
    eventType: event.eventType,
    body: event.body,
    ...(event.precomposed ? { precomposed: true as const } : {}),
    mode: event.mode,
  };
}

/** Inserts a pending event inside the caller's transaction (an accept, or a summary being queued). */
export function insertEvent(database: StoreDatabase, route: string, webhook: QueuedWebhook, now: number): number {
  return Number(
    database
      .sql(
        `INSERT INTO events (route, webhook_id, webhook_timestamp, event_type, body, state, attempts, next_attempt_at, received_at, precomposed, mode)
         VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)`,
      )
      .run(route, webhook.webhookId, webhook.webhookTimestamp, webhook.eventType, webhook.body, now, now, webhook.precomposed ? 1 : 0, webhook.mode ?? 'live').lastInsertRowid,
  );
}

export function eventStore(database: StoreDatabase): EventStore {
  const { db, sql } = database;
  const one = (id: number) => sql('SELECT * FROM events WHERE id = ?').get(id) as EventRow | undefined;
  return {
    accept(route, webhook, now = Date.now()) {
      // The one commit that must reach the disk itself before it returns: Dodo gets its 200 next.
      db.pragma('synchronous = FULL');
      try {
        return insertEvent(database, route, webhook, now);
      } finally {
        db.pragma('synchronous = NORMAL');
      }
    },
    acceptForRoutes(routes, webhook, now = Date.now()) {
      db.pragma('synchronous = FULL');
      try {
        return db.transaction(() => routes.map((route) => insertEvent(database, route, webhook, now)))();
      } finally {
        db.pragma('synchronous = NORMAL');
      }
    },
    nextDue(now = Date.now()) {
      const row = sql(`SELECT * FROM events WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1`).get(now) as EventRow | undefined;
      return row ? toEvent(row) : undefined;
    },
    nextDueAt() {
      const row = sql(`SELECT MIN(next_attempt_at) AS due FROM events WHERE state = 'pending'`).get() as { due: number | null };
      return row.due ?? undefined;
    },
    startAttempt(id) {
      sql('UPDATE events SET attempts = attempts + 1 WHERE id = ?').run(id);
      return one(id)?.attempts ?? 0;
    },
    finish(id, state, reason, now = Date.now()) {
      sql('UPDATE events SET state = ?, reason = ?, finished_at = ? WHERE id = ?').run(state, reason ?? null, now, id);
    },
    retryAt(id, nextAttemptAt, reason, lastSlackResponse) {
      sql(`UPDATE events SET state = 'pending', next_attempt_at = ?, reason = ?, last_slack_response = ? WHERE id = ?`).run(nextAttemptAt, reason, lastSlackResponse ?? null, id);
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
      return sql(`UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL WHERE id = ? AND state = 'dead-lettered'`).run(now, id).changes === 1;
    },
    redriveAll(now = Date.now()) {
      return sql(`UPDATE events SET state = 'pending', attempts = 0, next_attempt_at = ?, finished_at = NULL WHERE state = 'dead-lettered'`).run(now).changes;
    },
  };
}
