/**
 * Summaries in `dodo-slack serve` and `dodo-slack summary`, over the store's summaries
 * (store/summaries.ts): one summary on demand, and the scheduler that posts them. A scheduled
 * summary is recorded and queued as a precomposed event in one transaction, then delivered by the
 * same delivery loop as every webhook (pacing, retries, dead letters, deduplication).
 */
import type { SlackMessage } from '../shared/transformation';
import { composeSummary, postedSummaryKey, SUMMARY_EVENT_TYPE, summaryWebhookId, type SummarySpec } from '../summaries/compose';
import { periodOf, parseCalendarDate, previousPeriod, type PeriodKind } from '../summaries/period';
import { formatSummarySchedule, nextRunAt, periodForRun, type SummarySchedule } from '../summaries/schedule';
import type { SummaryStore } from './store/summaries';
import type { NameLookup } from '../shared/ports';

/** The summary of the day (or the Monday-first week) containing `date` in `timeZone`, as it stands at `nowMs`. */
export async function summaryOnDemand(
  store: SummaryStore,
  options: { readonly kind: PeriodKind; readonly date: string; readonly timeZone: string; readonly routeId: string; readonly nowMs?: number; readonly names?: NameLookup },
): Promise<SlackMessage> {
  const period = periodOf(options.kind, parseCalendarDate(options.date), options.timeZone);
  const spec: SummarySpec = { kind: options.kind, timeZone: options.timeZone, routeId: options.routeId };
  return (await composeSummary(store.source, spec, period, options.nowMs ?? Date.now(), options.names)).message;
}

/**
 * Composes the summary a run at `runAtMs` reports on and queues it, unless that period was
 * already posted. Resolves with the period's first day when queued, undefined when it was posted before.
 */
export async function postScheduledSummary(store: SummaryStore, spec: SummarySpec, schedule: SummarySchedule, runAtMs: number, nowMs = Date.now(), names?: NameLookup): Promise<string | undefined> {
  const period = periodForRun(schedule, runAtMs, spec.timeZone);
  const key = postedSummaryKey(spec, period.firstDay);
  if (store.posted(key)) return undefined;
  const composed = await composeSummary(store.source, spec, period, nowMs, names);
  const queued = store.postSummary(
    key,
    { periodFirstDay: period.firstDay, postedAtMs: nowMs, reported: composed.totals, message: composed.message },
    spec.routeId,
    {
      webhookId: summaryWebhookId(spec, period),
      webhookTimestamp: String(Math.floor(nowMs / 1000)),
      eventType: SUMMARY_EVENT_TYPE,
      body: JSON.stringify({ route: spec.routeId, message: composed.message }),
      precomposed: true,
    },
    composed.noted.map((entry) => ({ key: postedSummaryKey(spec, entry.period.firstDay), reported: entry.reported })),
    nowMs,
  );
  return queued ? period.firstDay : undefined;
}

export interface SummarySchedulerOptions {
  readonly store: SummaryStore;
  readonly schedules: readonly SummarySchedule[];
  readonly timeZone: string;
  readonly routeId: string;
  /** A summary was queued: deliver it now. */
  readonly onQueued: (schedule: SummarySchedule, periodFirstDay: string) => void;
  readonly onError: (schedule: SummarySchedule, error: unknown) => void;
  readonly now?: () => number;
  /** Names the summaries' top products. @default - IDs */
  readonly names?: NameLookup;
}

export interface SummaryScheduler {
  /** Next run per schedule (epoch ms), for the start-up line. */
  nextRuns(): readonly { readonly schedule: string; readonly at: number }[];
  stop(): void;
}

/** How far back a start-up looks for a run it missed while serve was not running. */
const CATCH_UP_DAYS: Readonly<Record<PeriodKind, number>> = { day: 1, week: 7 };

/**
 * Posts each schedule's summary at its local time. On start, a run missed while serve was down
 * (the latest one, if its period is not posted yet) is posted at once; a period already posted is
 * never posted again, also across restarts.
 */
export function startSummaryScheduler(options: SummarySchedulerOptions): SummaryScheduler {
  const now = options.now ?? Date.now;
  const timers = new Map<SummarySchedule, NodeJS.Timeout>();
  const next = new Map<SummarySchedule, number>();
  let stopped = false;
  const spec = (schedule: SummarySchedule): SummarySpec => ({ kind: schedule.kind, timeZone: options.timeZone, routeId: options.routeId });

  const run = async (schedule: SummarySchedule, runAtMs: number): Promise<void> => {
    try {
      const queued = await postScheduledSummary(options.store, spec(schedule), schedule, runAtMs, now(), options.names);
      if (queued !== undefined) options.onQueued(schedule, queued);
    } catch (error) {
      options.onError(schedule, error);
    }
  };

  const arm = (schedule: SummarySchedule): void => {
    if (stopped) return;
    const at = nextRunAt(schedule, now(), options.timeZone);
    next.set(schedule, at);
    // Timers fire early or late by a few ms; the run is named by its planned time, not the clock.
    const timer = setTimeout(() => {
      void run(schedule, at).then(() => arm(schedule));
    }, Math.max(0, at - now()));
    timers.set(schedule, timer);
  };

  for (const schedule of options.schedules) {
    const missed = missedRun(schedule);
    if (missed !== undefined) void run(schedule, missed).then(() => arm(schedule));
    else arm(schedule);
  }

  /** The latest run before now, if this schedule posted the period before it (it ran on this data dir) and not its own. */
  function missedRun(schedule: SummarySchedule): number | undefined {
    const startedAt = now();
    let latest: number | undefined;
    for (let at = nextRunAt(schedule, startedAt - (CATCH_UP_DAYS[schedule.kind] + 1) * 86_400_000, options.timeZone); at <= startedAt; at = nextRunAt(schedule, at, options.timeZone)) {
      latest = at;
    }
    if (latest === undefined) return undefined;
    const period = periodForRun(schedule, latest, options.timeZone);
    const before = previousPeriod(period);
    const ranHere = options.store.posted(postedSummaryKey(spec(schedule), before.firstDay)) !== undefined;
    return ranHere && !options.store.posted(postedSummaryKey(spec(schedule), period.firstDay)) ? latest : undefined;
  }

  return {
    nextRuns: () => options.schedules.map((schedule) => ({ schedule: formatSummarySchedule(schedule), at: next.get(schedule) ?? nextRunAt(schedule, now(), options.timeZone) })),
    stop() {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}
