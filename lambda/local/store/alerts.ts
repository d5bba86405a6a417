/**
 * Alerts on the store: the SQLite adapter of the alert store port (open episodes; DynamoDB on AWS;
 * both pass test/contracts/alert-store.contract.test.ts), and the source the rules read in serve.
 *
 * serve's source is a rolling window ending now: the counted events (summary_events) plus the
 * accepted events not counted yet (still waiting for delivery), each webhook-id once, so a burst
 * is seen when it arrives, not when the delivery loop has paced it through.
 */
import { promiseOf } from '../../shared/promise';
import type { SlackMessage } from '../../shared/transformation';
import type { WebhookMode } from '../../shared/webhook';
import { addCounters, summaryFactsOfWebhook, type Counters } from '../../summaries/facts';
import type { AlertRule } from '../../alerts/rules';
import type { AlertSource, AlertStore, StoredAlertEpisode } from '../../alerts/run';
import type { StoreDatabase } from './database';

/** How long before a window's start an event may have been received and still belong to it (Dodo retries for about a day). */
const RECEIVED_SLACK_MS = 2 * 86_400_000;

export function alertStore(database: StoreDatabase): AlertStore {
  const { sql } = database;
  return {
    list: () =>
      promiseOf(() =>
        (sql('SELECT rule, id, opened_at, detail, pending_kind, pending_message FROM alert_episodes ORDER BY opened_at, rule').all() as {
          rule: AlertRule;
          id: string;
          opened_at: number;
          detail: string | null;
          pending_kind: 'alert' | 'resolved' | null;
          pending_message: string | null;
        }[]).map(
          (row): StoredAlertEpisode => ({
            rule: row.rule,
            id: row.id,
            openedAtMs: row.opened_at,
            ...(row.detail === null ? {} : { detail: JSON.parse(row.detail) as Record<string, number | string> }),
            ...(row.pending_kind === null || row.pending_message === null ? {} : { pending: { kind: row.pending_kind, message: JSON.parse(row.pending_message) as SlackMessage } }),
          }),
        ),
      ),
    open: (episode, message) =>
      promiseOf(
        () =>
          sql(`INSERT OR IGNORE INTO alert_episodes (rule, id, opened_at, detail, pending_kind, pending_message) VALUES (?, ?, ?, ?, 'alert', ?)`).run(
            episode.rule,
            episode.id,
            episode.openedAtMs,
            episode.detail === undefined ? null : JSON.stringify(episode.detail),
            JSON.stringify(message),
          ).changes > 0,
      ),
    resolve: (episode, message) =>
      promiseOf(() => {
        sql(`UPDATE alert_episodes SET pending_kind = 'resolved', pending_message = ? WHERE rule = ? AND id = ?`).run(JSON.stringify(message), episode.rule, episode.id);
      }),
    sent: (episode, kind) =>
      promiseOf(() => {
        if (kind === 'resolved') sql('DELETE FROM alert_episodes WHERE rule = ? AND id = ?').run(episode.rule, episode.id);
        else sql(`UPDATE alert_episodes SET pending_kind = NULL, pending_message = NULL WHERE rule = ? AND id = ? AND pending_kind = 'alert'`).run(episode.rule, episode.id);
      }),
  };
}

export function alertSource(database: StoreDatabase): AlertSource {
  const { sql } = database;
  const totals = (startMs: number, endMs: number): Counters => {
    const counted = (sql('SELECT counters FROM summary_events WHERE occurred_at >= ? AND occurred_at < ?').all(startMs, endMs) as { counters: string }[]).reduce<Counters>(
      (sum, row) => addCounters(sum, JSON.parse(row.counters) as Counters),
      {},
    );
    // Accepted, not counted yet: first row of each webhook-id, as the count would take it.
    const waiting = sql(
      `SELECT webhook_id, webhook_timestamp, body, received_at, mode FROM events
        WHERE precomposed = 0 AND received_at >= ? AND received_at < ?
          AND NOT EXISTS (SELECT 1 FROM summary_events s WHERE s.webhook_id = events.webhook_id)
        ORDER BY id`,
    ).all(startMs - RECEIVED_SLACK_MS, endMs + RECEIVED_SLACK_MS) as { webhook_id: string; webhook_timestamp: string; body: string; received_at: number; mode: WebhookMode }[];
    const seen = new Set<string>();
    let sum = counted;
    for (const row of waiting) {
      if (seen.has(row.webhook_id)) continue;
      seen.add(row.webhook_id);
      const facts = summaryFactsOfWebhook(row.body, row.webhook_timestamp, row.received_at, row.mode);
      if (facts.occurredAtMs >= startMs && facts.occurredAtMs < endMs) sum = addCounters(sum, facts.counters);
    }
    return sum;
  };
  return {
    totals: (startMs, endMs) => promiseOf(() => totals(startMs, endMs)),
    lastAcceptedMs: () =>
      promiseOf(() => {
        const row = sql('SELECT MAX(received_at) AS at FROM events WHERE precomposed = 0').get() as { at: number | null };
        return row.at ?? undefined;
      }),
    longestGapMs: (sinceMs) =>
      promiseOf(() => {
        const row = sql(
          `SELECT MAX(gap) AS gap FROM (SELECT received_at - LAG(received_at) OVER (ORDER BY received_at) AS gap FROM events WHERE precomposed = 0 AND received_at >= ?)`,
        ).get(sinceMs) as { gap: number | null };
        return row.gap ?? undefined;
      }),
  };
}
