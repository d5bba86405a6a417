/**
 * The summaries' counters and posted summaries on the store: the SQLite adapter of the counter port
 * the pipeline calls before it delivers an event (DynamoDB's conditional counters on AWS; both pass
 * test/contracts/summary-counter.contract.test.ts), and the {@link SummarySource} a summary is
 * composed from.
 *
 * Each webhook-id is counted once (its first count wins: Dodo's retries, redrives and re-sends add
 * nothing), in the period of the event's own time. A posted summary is recorded with what it
 * reported in the same transaction as the precomposed event that delivers it.
 */
import type { QueuedWebhook } from '../../shared/webhook';
import { promiseOf } from '../../shared/promise';
import { addCounters, summaryFactsOfWebhook, UNCOUNTED, type Counters } from '../../summaries/facts';
import { postedSummaryKey, type PostedSummary, type SummarySource } from '../../summaries/compose';
import type { StoreDatabase } from './database';
import { insertEvent } from './events';

export interface SummaryStore {
  /** Adds the webhook's counters unless its webhook-id is counted already (the pipeline's counter port). */
  count(webhook: QueuedWebhook, now?: number): Promise<void>;
  /** Its count was given up: the webhook-id counts as `uncounted` only, so its period's summary says it is incomplete. */
  giveUp(webhook: QueuedWebhook, now?: number): Promise<void>;
  /** The summed counters of the webhooks whose event time is in `[startMs, endMs)`. */
  totals(startMs: number, endMs: number): Counters;
  /** The posted summary recorded under `key`, if any. */
  posted(key: string): PostedSummary | undefined;
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
  /** The store as the source summaries are composed from. */
  readonly source: SummarySource;
}

export function summaryStore(database: StoreDatabase): SummaryStore {
  const { db, sql } = database;
  const totals = (startMs: number, endMs: number): Counters => {
    const rows = sql('SELECT counters FROM summary_events WHERE occurred_at >= ? AND occurred_at < ?').all(startMs, endMs) as { counters: string }[];
    return rows.reduce<Counters>((sum, row) => addCounters(sum, JSON.parse(row.counters) as Counters), {});
  };
  const posted = (key: string): PostedSummary | undefined => {
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
  };
  const postTransaction = db.transaction(
    (key: string, summary: PostedSummary, route: string, webhook: QueuedWebhook, noted: readonly { key: string; reported: Counters }[], now: number): boolean => {
      const inserted = sql('INSERT OR IGNORE INTO summary_posts (key, posted_at, reported, message) VALUES (?, ?, ?, ?)').run(
        key,
        summary.postedAtMs,
        JSON.stringify(summary.reported),
        JSON.stringify(summary.message),
      );
      if (inserted.changes === 0) return false;
      for (const entry of noted) sql('UPDATE summary_posts SET reported = ? WHERE key = ?').run(JSON.stringify(entry.reported), entry.key);
      insertEvent(database, route, { ...webhook, precomposed: true }, now);
      return true;
    },
  );
  return {
    count(webhook, now = Date.now()) {
      return promiseOf(() => {
        const facts = summaryFactsOfWebhook(webhook.body, webhook.webhookTimestamp, now, webhook.mode);
        sql('INSERT OR IGNORE INTO summary_events (webhook_id, occurred_at, received_at, counters) VALUES (?, ?, ?, ?)').run(
          webhook.webhookId,
          facts.occurredAtMs,
          now,
          JSON.stringify(facts.counters),
        );
      });
    },
    giveUp(webhook, now = Date.now()) {
      return promiseOf(() => {
        const { occurredAtMs } = summaryFactsOfWebhook(webhook.body, webhook.webhookTimestamp, now, webhook.mode);
        sql('INSERT OR IGNORE INTO summary_events (webhook_id, occurred_at, received_at, counters) VALUES (?, ?, ?, ?)').run(webhook.webhookId, occurredAtMs, now, JSON.stringify({ [UNCOUNTED]: 1 }));
      });
    },
    totals,
    posted,
    postSummary(key, summary, route, webhook, noted, now = Date.now()) {
      return postTransaction(key, summary, route, webhook, noted, now);
    },
    source: {
      totals: (startMs, endMs) => promiseOf(() => totals(startMs, endMs)),
      posted: (spec, periodFirstDay) => promiseOf(() => posted(postedSummaryKey(spec, periodFirstDay))),
    },
  };
}
