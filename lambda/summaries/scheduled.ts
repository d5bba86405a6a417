/**
 * What the summary function does on each EventBridge Scheduler invocation, as pure logic over
 * ports (the DynamoDB store and the queue): compose the summary of the period that just ended,
 * record it as posted (once: a conditional write), put it on the transformer's queue as a
 * precomposed message, and mark it queued. A retried invocation (Scheduler retries, a manual
 * re-run) re-sends a summary that was recorded but not queued, and does nothing for one already
 * queued; the transformer's deduplication on its webhook-id covers a send whose answer was lost.
 */
import type { QueuedWebhook } from '../shared/webhook';
import type { NameLookup } from '../shared/ports';
import { composeSummary, SUMMARY_EVENT_TYPE, summaryWebhookId, type PostedSummary, type SummarySource, type SummarySpec } from './compose';
import type { Counters } from './facts';
import { checkTimeZone, lastCompletedPeriod, type PeriodKind } from './period';

/** The input each schedule passes (the construct writes it; `scheduledTime` is Scheduler's context attribute). */
export interface ScheduledSummaryEvent {
  readonly kind: PeriodKind;
  readonly timeZone: string;
  readonly routeId: string;
  /** ISO time the run was scheduled for (`<aws.scheduler.scheduled-time>`); the invocation time when missing. */
  readonly scheduledTime?: string;
}

export interface ScheduledSummaryStore extends SummarySource {
  postedRecord(spec: SummarySpec, periodFirstDay: string): Promise<(PostedSummary & { readonly queuedAtMs?: number }) | undefined>;
  recordPosted(spec: SummarySpec, posted: PostedSummary, noted: readonly { readonly periodFirstDay: string; readonly reported: Counters }[]): Promise<boolean>;
  markQueued(spec: SummarySpec, periodFirstDay: string, atMs: number): Promise<void>;
}

export type ScheduledSummaryResult =
  | { readonly outcome: 'queued' | 'queued-again'; readonly period: string; readonly webhookId: string }
  | { readonly outcome: 'already-queued'; readonly period: string };

/** Reads the Scheduler input; throws naming what is wrong (a misconfigured schedule fails visibly). */
export function parseScheduledSummaryEvent(event: unknown): ScheduledSummaryEvent {
  const input = (event ?? {}) as Partial<ScheduledSummaryEvent>;
  if (input.kind !== 'day' && input.kind !== 'week') throw new Error(`summary event: kind must be "day" or "week", got ${JSON.stringify(input.kind)}`);
  if (typeof input.timeZone !== 'string') throw new Error('summary event: timeZone is missing');
  if (typeof input.routeId !== 'string' || input.routeId === '') throw new Error('summary event: routeId is missing');
  return { kind: input.kind, timeZone: checkTimeZone(input.timeZone), routeId: input.routeId, ...(typeof input.scheduledTime === 'string' ? { scheduledTime: input.scheduledTime } : {}) };
}

export async function runScheduledSummary(
  event: ScheduledSummaryEvent,
  deps: { readonly store: ScheduledSummaryStore; readonly enqueue: (webhook: QueuedWebhook) => Promise<void>; readonly now?: () => number; readonly names?: NameLookup },
): Promise<ScheduledSummaryResult> {
  const now = deps.now ?? Date.now;
  const scheduled = event.scheduledTime === undefined ? Number.NaN : Date.parse(event.scheduledTime);
  const runAt = Number.isFinite(scheduled) ? scheduled : now();
  const spec: SummarySpec = { kind: event.kind, timeZone: event.timeZone, routeId: event.routeId };
  const period = lastCompletedPeriod(event.kind, runAt, event.timeZone);

  let record = await deps.store.postedRecord(spec, period.firstDay);
  if (record?.queuedAtMs !== undefined) return { outcome: 'already-queued', period: period.firstDay };
  let outcome: 'queued' | 'queued-again' = 'queued-again';
  if (!record) {
    const composed = await composeSummary(deps.store, spec, period, now(), deps.names);
    const posted: PostedSummary = { periodFirstDay: period.firstDay, postedAtMs: now(), reported: composed.totals, message: composed.message };
    const recorded = await deps.store.recordPosted(spec, posted, composed.noted.map((entry) => ({ periodFirstDay: entry.period.firstDay, reported: entry.reported })));
    // Another invocation recorded it first: send what it recorded (the same webhook-id, deduplicated downstream).
    record = recorded ? posted : await deps.store.postedRecord(spec, period.firstDay);
    if (recorded) outcome = 'queued';
    if (!record) throw new Error(`the posted summary of ${period.firstDay} disappeared`);
  }
  const webhookId = summaryWebhookId(spec, period);
  await deps.enqueue({
    webhookId,
    webhookTimestamp: String(Math.floor(now() / 1000)),
    eventType: SUMMARY_EVENT_TYPE,
    body: JSON.stringify({ route: spec.routeId, message: record.message }),
    precomposed: true,
  });
  await deps.store.markQueued(spec, period.firstDay, now());
  return { outcome, period: period.firstDay, webhookId };
}
