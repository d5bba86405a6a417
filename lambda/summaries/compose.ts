/**
 * One summary, from whatever store holds the aggregates (serve's SQLite, DynamoDB on AWS): the
 * period's totals, the previous period's for the ▲/▼, and the late arrivals of periods already
 * posted. Pure orchestration over the {@link SummarySource} port; the caller persists what
 * {@link ComposedSummary} says (the posted record and the notes) together with queuing the message.
 */
import type { SlackMessage } from '../shared/transformation';
import { subtractCounters, type Counters } from './facts';
import { buildSummaryMessage, summaryProductIds, type LateArrivals } from './message';
import type { NameLookup } from '../shared/ports';
import { previousPeriod, type Period, type PeriodKind } from './period';

/** Which summary: its period kind, time zone and the route it posts to. */
export interface SummarySpec {
  readonly kind: PeriodKind;
  readonly timeZone: string;
  readonly routeId: string;
}

/** A summary that was posted (queued for delivery): the totals it said, updated as late arrivals are noted. */
export interface PostedSummary {
  readonly periodFirstDay: string;
  readonly postedAtMs: number;
  /** The totals already reported for the period: at posting, plus late arrivals noted since. */
  readonly reported: Counters;
  /** The message as it was queued (re-sent unchanged if queuing it has to be retried). */
  readonly message: SlackMessage;
}

/** Where a summary reads from. */
export interface SummarySource {
  /** The sum of the counters of the events whose own time is in `[startMs, endMs)`. */
  totals(startMs: number, endMs: number): Promise<Counters>;
  /** The posted summary of `spec` for the period starting on `periodFirstDay`, if any. */
  posted(spec: SummarySpec, periodFirstDay: string): Promise<PostedSummary | undefined>;
}

export interface ComposedSummary {
  readonly period: Period;
  readonly message: SlackMessage;
  /** The period's totals now: what its posted record says was reported. */
  readonly totals: Counters;
  /** Earlier posted periods whose late arrivals this message notes, with their new reported totals. */
  readonly noted: readonly { readonly period: Period; readonly reported: Counters }[];
}

/** How many earlier periods are checked for late arrivals (Dodo retries for about 28 h; a redrive comes later). */
export const LATE_LOOKBACK: Readonly<Record<PeriodKind, number>> = { day: 7, week: 4 };

/** Id under which a summary travels the delivery path (and is deduplicated): one per spec and period. */
export function summaryWebhookId(spec: SummarySpec, period: Period): string {
  return `summary_${spec.kind}_${spec.routeId}_${spec.timeZone.replace(/\//g, '-')}_${period.firstDay}`;
}

/** Key of a posted summary in a store: `day|Europe/Berlin|default|2026-12-01`. */
export function postedSummaryKey(spec: SummarySpec, periodFirstDay: string): string {
  return `${spec.kind}|${spec.timeZone}|${spec.routeId}|${periodFirstDay}`;
}

/** Event type a queued summary carries (never a Dodo type). */
export const SUMMARY_EVENT_TYPE = 'dodo_slack.summary';

/** Composes the summary of `period` as it stands at `nowMs`; with `names`, its top products are named (live mode: summaries count live events). */
export async function composeSummary(source: SummarySource, spec: SummarySpec, period: Period, nowMs: number, names?: NameLookup): Promise<ComposedSummary> {
  const previous = previousPeriod(period);
  const [totals, previousTotals] = await Promise.all([source.totals(period.startMs, period.endMs), source.totals(previous.startMs, previous.endMs)]);

  const late: LateArrivals[] = [];
  const noted: { period: Period; reported: Counters }[] = [];
  let earlier = period;
  for (let i = 0; i < LATE_LOOKBACK[period.kind]; i += 1) {
    earlier = previousPeriod(earlier);
    const posted = await source.posted(spec, earlier.firstDay);
    if (!posted) continue;
    const now = earlier.firstDay === previous.firstDay ? previousTotals : await source.totals(earlier.startMs, earlier.endMs);
    const added = subtractCounters(now, posted.reported);
    if ((added.events ?? 0) > 0) {
      late.push({ period: earlier, added });
      noted.push({ period: earlier, reported: now });
    }
  }
  const productIds = summaryProductIds(totals);
  const known = names === undefined || productIds.length === 0 ? undefined : await names.find({ productIds, paymentIds: [] }, 'live');
  const message = buildSummaryMessage({ period, totals, previous: previousTotals, late, computedAtMs: nowMs, ...(known === undefined ? {} : { names: known }) });
  return { period, message, totals, noted };
}
