/**
 * One evaluation of the alert rules, over ports both engines provide: a source of counter totals
 * and of the last accepted webhook, an alert store of open episodes, and a queue the message is
 * delivered from (serve's store, the transformer's SQS queue on AWS). Pure orchestration; the
 * rules are in rules.ts.
 *
 * Each message is written to the store as pending before it is queued and marked sent after, so a
 * run cut short between the two (a crash, a failed send) queues it again on the next run, under
 * the same id: delivery deduplicates it.
 */
import type { QueuedWebhook } from '../shared/webhook';
import type { SlackMessage } from '../shared/transformation';
import type { Counters } from '../summaries/facts';
import { addCounters } from '../summaries/facts';
import { ALERT_EVENT_TYPE, alertMessageId, alertWindows, AlertDefaults, evaluateAlerts, type AlertEpisode, type AlertInputs, type AlertSettings } from './rules';

/** Where the rules read from. */
export interface AlertSource {
  /** Summed counters of the live events whose own time is in `[startMs, endMs)`, each webhook-id once. */
  totals(startMs: number, endMs: number): Promise<Counters>;
  /** When the last webhook was accepted (undefined before the first). */
  lastAcceptedMs(nowMs: number): Promise<number | undefined>;
  /** Longest gap between accepted webhooks since `sinceMs` (undefined with fewer than two). */
  longestGapMs(sinceMs: number, nowMs: number): Promise<number | undefined>;
}

/** An open episode and the message of it not yet known to be queued. */
export interface StoredAlertEpisode extends AlertEpisode {
  readonly pending?: { readonly kind: 'alert' | 'resolved'; readonly message: SlackMessage };
}

/** The open episodes (the alert store port; SQLite in serve, DynamoDB on AWS). */
export interface AlertStore {
  /** Every open episode (including one whose resolved message is pending). */
  list(): Promise<StoredAlertEpisode[]>;
  /** Opens `episode` with its alert pending; false (nothing written) when its rule has an episode open. */
  open(episode: AlertEpisode, message: SlackMessage): Promise<boolean>;
  /** Marks the episode's resolved message pending. */
  resolve(episode: AlertEpisode, message: SlackMessage): Promise<void>;
  /** The pending message is queued: an alert's episode stays open; a resolved one's is gone. */
  sent(episode: AlertEpisode, kind: 'alert' | 'resolved'): Promise<void>;
}

export interface AlertRunResult {
  readonly opened: readonly string[];
  readonly resolved: readonly string[];
  readonly resent: number;
}

/** The rules' inputs at `nowMs`, summed from the source. */
export async function readAlertInputs(source: AlertSource, nowMs: number, needsGap: boolean): Promise<AlertInputs> {
  const windows = alertWindows(nowMs);
  const totals = (window: readonly [number, number]) => source.totals(window[0], window[1]);
  const [lastHour, lastDay, dayBaseline, month, lastAcceptedMs, longestGapMs, ...hourBaselines] = await Promise.all([
    totals(windows.lastHour),
    totals(windows.lastDay),
    totals(windows.dayBaseline),
    totals(windows.month),
    source.lastAcceptedMs(nowMs),
    needsGap ? source.longestGapMs(nowMs - AlertDefaults.silenceHistoryDays * 86_400_000, nowMs) : Promise.resolve(undefined),
    ...windows.hourBaseline.map(totals),
  ]);
  return {
    nowMs,
    lastHour,
    hourBaseline: hourBaselines.reduce<Counters>((sum, counters) => addCounters(sum, counters), {}),
    lastDay,
    dayBaseline,
    dayBaselineDays: windows.dayBaselineDays,
    month,
    monthName: windows.monthName,
    ...(lastAcceptedMs === undefined ? {} : { lastAcceptedMs }),
    ...(longestGapMs === undefined ? {} : { longestGapMs }),
  };
}

/** The queued form of an alert's message for `routeId`. */
export function alertWebhook(episode: AlertEpisode, kind: 'alert' | 'resolved', message: SlackMessage, routeId: string, nowMs: number): QueuedWebhook {
  return {
    webhookId: alertMessageId(episode, kind),
    webhookTimestamp: String(Math.floor(nowMs / 1000)),
    eventType: ALERT_EVENT_TYPE,
    body: JSON.stringify({ route: routeId, message }),
    precomposed: true,
  };
}

export async function runAlerts(deps: {
  readonly settings: AlertSettings;
  readonly source: AlertSource;
  readonly store: AlertStore;
  readonly routeId: string;
  readonly enqueue: (webhook: QueuedWebhook) => Promise<void>;
  readonly nowMs: number;
}): Promise<AlertRunResult> {
  const { store, nowMs } = deps;
  const send = async (episode: AlertEpisode, kind: 'alert' | 'resolved', message: SlackMessage) => {
    await deps.enqueue(alertWebhook(episode, kind, message, deps.routeId, nowMs));
    await store.sent(episode, kind);
  };
  let resent = 0;
  const open: AlertEpisode[] = [];
  for (const episode of await store.list()) {
    if (episode.pending) {
      await send(episode, episode.pending.kind, episode.pending.message);
      resent += 1;
    }
    if (episode.pending?.kind !== 'resolved') open.push({ rule: episode.rule, id: episode.id, openedAtMs: episode.openedAtMs, ...(episode.detail ? { detail: episode.detail } : {}) });
  }
  const inputs = await readAlertInputs(deps.source, nowMs, deps.settings.silence !== false && deps.settings.silence !== undefined && deps.settings.silence.afterSeconds === undefined);
  const opened: string[] = [];
  const resolved: string[] = [];
  for (const decision of evaluateAlerts(deps.settings, inputs, open)) {
    if (decision.action === 'open') {
      if (!(await store.open(decision.episode, decision.message))) continue;
      await send(decision.episode, 'alert', decision.message);
      opened.push(decision.episode.rule);
    } else if (decision.action === 'resolve') {
      await store.resolve(decision.episode, decision.message);
      await send(decision.episode, 'resolved', decision.message);
      resolved.push(decision.episode.rule);
    }
  }
  return { opened, resolved, resent };
}
