/**
 * Roll-ups on the store. A roll-up is a row in `rollups` and its events are rows in
 * `rollup_members`; the events themselves stay `pending` until the roll-up's outcome is written, in
 * one transaction. So a crash mid-roll-up leaves an open roll-up whose events are still pending: the
 * next serve resumes it as a whole (its in-progress deduplication records are cleared at start, as
 * for single deliveries). The tables are schema 4 (schema.ts).
 */
import type { WebhookMode } from '../../shared/webhook';
import type { StoreDatabase } from './database';

export interface RollupCandidate {
  readonly id: number;
  readonly eventType: string;
  readonly webhookId: string;
  readonly mode: WebhookMode;
}

export interface RollupMember {
  readonly id: number;
  readonly webhookId: string;
  readonly webhookTimestamp: string;
  readonly eventType: string;
  readonly body: string;
  readonly mode: WebhookMode;
}

export interface OpenRollup {
  readonly id: number;
  readonly route: string;
  readonly attempts: number;
  readonly nextAttemptAt: number;
}

export interface RollupStore {
  /** Pending events of `route` due at `now` that are in no roll-up, oldest first. */
  candidates(route: string, now: number): RollupCandidate[];
  /** Opens a roll-up over those of `eventIds` still pending and in no roll-up; undefined when fewer than `minEvents` remain. */
  open(route: string, eventIds: readonly number[], now: number, minEvents: number): OpenRollup | undefined;
  /** An open roll-up due at `now` (a retry, or one a crash cut short). */
  due(now: number): OpenRollup | undefined;
  /** When the next open roll-up is due. */
  nextDueAt(): number | undefined;
  /** One more attempt, committed before the attempt starts; returns the count. */
  startAttempt(id: number): number;
  /** Its events that are still pending. */
  members(id: number): RollupMember[];
  /**
   * Posted: `covered` delivered (by this roll-up), `duplicates` skipped (delivered before), `released`
   * leave the roll-up (still pending, in progress elsewhere); the roll-up is closed. One transaction.
   */
  posted(id: number, outcome: { readonly covered: readonly number[]; readonly duplicates: readonly number[]; readonly released: readonly number[] }, now: number): void;
  /** Not posted; tried again as a whole at `nextAttemptAt`. `duplicates` are skipped, `released` leave it. */
  retryAt(id: number, nextAttemptAt: number, reason: string, outcome: { readonly duplicates: readonly number[]; readonly released: readonly number[] }, now: number): void;
  /**
   * Not posted and not to be tried again: its pending events go out as their own messages (they stay
   * members, so they are never folded again). `duplicates` are skipped.
   */
  fallBack(id: number, reason: string, duplicates: readonly number[], now: number): void;
  /** Roll-ups by state (for tests and the summary). */
  count(state: 'open' | 'posted' | 'fell-back'): number;
}

interface RollupRow {
  id: number;
  route: string;
  attempts: number;
  next_attempt_at: number;
}

const toRollup = (row: RollupRow): OpenRollup => ({ id: row.id, route: row.route, attempts: row.attempts, nextAttemptAt: row.next_attempt_at });

export function rollupStore(database: StoreDatabase): RollupStore {
  const { db, sql } = database;
  const finish = (ids: readonly number[], state: 'delivered' | 'skipped', reason: string, now: number) => {
    for (const id of ids) sql(`UPDATE events SET state = ?, reason = ?, finished_at = ? WHERE id = ? AND state = 'pending'`).run(state, reason, now, id);
  };
  const release = (ids: readonly number[]) => {
    for (const id of ids) sql('DELETE FROM rollup_members WHERE event_id = ?').run(id);
  };
  const DUPLICATE = 'duplicate: this webhook-id was already delivered';

  return {
    candidates(route, now) {
      return (
        sql(
          `SELECT e.id AS id, e.event_type AS eventType, e.webhook_id AS webhookId, e.mode AS mode FROM events e
           WHERE e.state = 'pending' AND e.route = ? AND e.next_attempt_at <= ? AND e.precomposed = 0
             AND NOT EXISTS (SELECT 1 FROM rollup_members m WHERE m.event_id = e.id)
           ORDER BY e.next_attempt_at, e.id`,
        ).all(route, now) as RollupCandidate[]
      );
    },
    open: (route, eventIds, now, minEvents) =>
      db.transaction((): OpenRollup | undefined => {
        const rollupId = Number(sql(`INSERT INTO rollups (route, state, attempts, next_attempt_at, created_at) VALUES (?, 'open', 0, ?, ?)`).run(route, now, now).lastInsertRowid);
        let members = 0;
        for (const id of eventIds) {
          members += sql(
            `INSERT OR IGNORE INTO rollup_members (event_id, rollup_id) SELECT id, ? FROM events WHERE id = ? AND state = 'pending'`,
          ).run(rollupId, id).changes;
        }
        if (members < minEvents) {
          sql('DELETE FROM rollup_members WHERE rollup_id = ?').run(rollupId);
          sql('DELETE FROM rollups WHERE id = ?').run(rollupId);
          return undefined;
        }
        return { id: rollupId, route, attempts: 0, nextAttemptAt: now };
      })(),
    due(now) {
      const row = sql(`SELECT id, route, attempts, next_attempt_at FROM rollups WHERE state = 'open' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1`).get(now) as
        | RollupRow
        | undefined;
      return row ? toRollup(row) : undefined;
    },
    nextDueAt() {
      const row = sql(`SELECT MIN(next_attempt_at) AS due FROM rollups WHERE state = 'open'`).get() as { due: number | null };
      return row.due ?? undefined;
    },
    startAttempt(id) {
      sql('UPDATE rollups SET attempts = attempts + 1 WHERE id = ?').run(id);
      return (sql('SELECT attempts FROM rollups WHERE id = ?').get(id) as { attempts: number } | undefined)?.attempts ?? 0;
    },
    members(id) {
      return sql(
        `SELECT e.id AS id, e.webhook_id AS webhookId, e.webhook_timestamp AS webhookTimestamp, e.event_type AS eventType, e.body AS body, e.mode AS mode
         FROM rollup_members m JOIN events e ON e.id = m.event_id WHERE m.rollup_id = ? AND e.state = 'pending' ORDER BY e.id`,
      ).all(id) as RollupMember[];
    },
    posted: (id, outcome, now) =>
      db.transaction(() => {
        finish(outcome.covered, 'delivered', `rolled up: one of ${outcome.covered.length} events in roll-up #${id}`, now);
        finish(outcome.duplicates, 'skipped', DUPLICATE, now);
        release(outcome.released);
        sql(`UPDATE rollups SET state = 'posted', covered = ?, finished_at = ?, reason = NULL WHERE id = ?`).run(outcome.covered.length, now, id);
        // Every member is finished or released now: the membership rows have done their job.
        sql('DELETE FROM rollup_members WHERE rollup_id = ?').run(id);
      })(),
    retryAt: (id, nextAttemptAt, reason, outcome, now) =>
      db.transaction(() => {
        finish(outcome.duplicates, 'skipped', DUPLICATE, now);
        release(outcome.released);
        sql('UPDATE rollups SET next_attempt_at = ?, reason = ? WHERE id = ?').run(nextAttemptAt, reason, id);
        // Its events wait with it, so none is taken singly before the roll-up's retry.
        sql(`UPDATE events SET next_attempt_at = ?, reason = ? WHERE state = 'pending' AND id IN (SELECT event_id FROM rollup_members WHERE rollup_id = ?)`).run(
          nextAttemptAt,
          `in roll-up #${id}, retried: ${reason}`,
          id,
        );
      })(),
    fallBack: (id, reason, duplicates, now) =>
      db.transaction(() => {
        finish(duplicates, 'skipped', DUPLICATE, now);
        sql(`UPDATE rollups SET state = 'fell-back', finished_at = ?, reason = ? WHERE id = ?`).run(now, reason, id);
        sql(`UPDATE events SET next_attempt_at = ? WHERE state = 'pending' AND id IN (SELECT event_id FROM rollup_members WHERE rollup_id = ?)`).run(now, id);
      })(),
    count(state) {
      return (sql('SELECT COUNT(*) AS n FROM rollups WHERE state = ?').get(state) as { n: number }).n;
    },
  };
}
