/**
 * The alert rules, as pure logic: what the counters the summaries keep (lambda/summaries/facts.ts)
 * and the time of the last accepted webhook say about now, given the episodes already open. No
 * store, no clock, no AWS: serve and the alerts function both call {@link evaluateAlerts} with the
 * totals they read, and persist what it decides.
 *
 * Rules (each can be switched off; see {@link AlertSettings} for the defaults and why):
 *   silence     no webhook accepted for longer than a threshold (fixed, or learned from the gaps)
 *   failures    payment failures in the last hour well above the usual rate for that hour
 *   refunds     refunds in the last day well above the usual day, by count or by amount
 *   disputes    disputes opened ÷ successful payments in the calendar month at or above a ratio
 *
 * An episode opens once (one alert), stays open while the condition holds (nothing is posted) and
 * is resolved once (one resolved message) when it clears.
 */
import type { SlackMessage } from '../shared/transformation';
import type { Counters } from '../summaries/facts';
import { formatMinorUnits } from '../messages/money';

export type AlertRule = 'silence' | 'failures' | 'refunds' | 'disputes';
export const ALERT_RULES: readonly AlertRule[] = ['silence', 'failures', 'refunds', 'disputes'];

export interface SilenceSettings {
  /** Fixed threshold (s); undefined = learned: {@link SILENCE_GAP_FACTOR} × the longest gap of the last weeks, at least `floorSeconds`. */
  readonly afterSeconds?: number;
  /** Least learned threshold (s). @default 6 hours */
  readonly floorSeconds?: number;
}

export interface FailureSettings {
  /** Failures in the last hour below which nothing is said. @default 5 */
  readonly minFailures?: number;
  /** Rate used when there is no history (fewer than `minBaselinePayments` in the baseline). @default 0.2 */
  readonly absoluteRate?: number;
  /** "Well above": at least this many times the usual rate… @default 2 */
  readonly factor?: number;
  /** …and at least this much above it (a fraction). @default 0.1 */
  readonly margin?: number;
}

export interface RefundSettings {
  /** Refunds in the last day below which nothing is said. @default 5 */
  readonly minRefunds?: number;
  /** "Well above": this many times the usual day's count or amount. @default 3 */
  readonly factor?: number;
}

export interface DisputeSettings {
  /** Disputes opened ÷ successful payments in the calendar month. @default 0.0075 */
  readonly ratio?: number;
  /** Disputes opened in the month below which nothing is said. @default 1 */
  readonly minDisputes?: number;
}

/** Which rules run and their thresholds; a rule set to `false` is off. */
export interface AlertSettings {
  readonly silence?: SilenceSettings | false;
  readonly failures?: FailureSettings | false;
  readonly refunds?: RefundSettings | false;
  readonly disputes?: DisputeSettings | false;
}

export const AlertDefaults = {
  /** A learned threshold is never under 6 h: a night without sales is no outage. */
  silenceFloorSeconds: 6 * 3600,
  /** The threshold learned is 1.5 × the longest gap of the last 4 weeks. */
  silenceGapFactor: 1.5,
  silenceHistoryDays: 28,
  minFailures: 5,
  absoluteFailureRate: 0.2,
  failureFactor: 2,
  failureMargin: 0.1,
  /** The baseline needs this many payments in the same hour of earlier weeks to count as history. */
  minBaselinePayments: 20,
  /** Earlier weeks the failure baseline reads (the same hour of the week) and days the refund baseline reads. */
  baselineWeeks: 4,
  minRefunds: 5,
  refundFactor: 3,
  disputeRatio: 0.0075,
  minDisputes: 1,
} as const;
export const SILENCE_GAP_FACTOR = AlertDefaults.silenceGapFactor;

/** Every rule on with its defaults. */
export const DEFAULT_ALERT_SETTINGS: AlertSettings = { silence: {}, failures: {}, refunds: {}, disputes: {} };

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;

/** What the rules read, in `[start, end)` windows the caller sums (see {@link alertWindows}). */
export interface AlertInputs {
  readonly nowMs: number;
  /** Last hour. */
  readonly lastHour: Counters;
  /** The same hour in each of the earlier weeks, summed. */
  readonly hourBaseline: Counters;
  /** Last 24 hours. */
  readonly lastDay: Counters;
  /** The `baselineWeeks × 7` days before the last day, summed. */
  readonly dayBaseline: Counters;
  /** Days the day baseline covers (it is divided by this). */
  readonly dayBaselineDays: number;
  /** The calendar month so far (UTC). */
  readonly month: Counters;
  /** First day of that month, `2026-12`. */
  readonly monthName: string;
  /** When the last webhook was accepted; undefined before the first. */
  readonly lastAcceptedMs?: number;
  /** Longest gap between accepted webhooks over the last weeks (ms), for a learned silence threshold. */
  readonly longestGapMs?: number;
}

/** The windows {@link AlertInputs} are summed over, for `nowMs`. */
export function alertWindows(nowMs: number): {
  readonly lastHour: readonly [number, number];
  readonly hourBaseline: readonly (readonly [number, number])[];
  readonly lastDay: readonly [number, number];
  readonly dayBaseline: readonly [number, number];
  readonly dayBaselineDays: number;
  readonly month: readonly [number, number];
  readonly monthName: string;
} {
  const weeks = AlertDefaults.baselineWeeks;
  const date = new Date(nowMs);
  const monthStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
  return {
    lastHour: [nowMs - HOUR_MS, nowMs + 1],
    hourBaseline: Array.from({ length: weeks }, (_, index) => [nowMs - (index + 1) * WEEK_MS - HOUR_MS, nowMs - (index + 1) * WEEK_MS] as const),
    lastDay: [nowMs - DAY_MS, nowMs + 1],
    dayBaseline: [nowMs - DAY_MS - weeks * WEEK_MS, nowMs - DAY_MS],
    dayBaselineDays: weeks * 7,
    month: [monthStart, nowMs + 1],
    monthName: new Date(monthStart).toISOString().slice(0, 7),
  };
}

/** An open episode, as a store keeps it. */
export interface AlertEpisode {
  readonly rule: AlertRule;
  /** Id of the episode: its alert and its resolved message travel under ids derived from it. */
  readonly id: string;
  readonly openedAtMs: number;
  /** What the rule needs to know to resolve it (silence: the last accepted webhook it was about). */
  readonly detail?: Readonly<Record<string, number | string>>;
}

export type AlertDecision =
  | { readonly action: 'open'; readonly episode: AlertEpisode; readonly message: SlackMessage }
  | { readonly action: 'resolve'; readonly episode: AlertEpisode; readonly message: SlackMessage }
  | { readonly action: 'keep'; readonly episode: AlertEpisode };

/** Webhook-id an alert's message travels under (deduplicated downstream like a webhook). */
export function alertMessageId(episode: AlertEpisode, kind: 'alert' | 'resolved'): string {
  return `alert_${episode.id}_${kind}`;
}

/** Event type a queued alert carries (never a Dodo type). */
export const ALERT_EVENT_TYPE = 'dodo_slack.alert';

const sumOf = (counters: Counters, prefix: string): number =>
  Object.entries(counters).reduce((sum, [name, value]) => (name.startsWith(prefix) ? sum + value : sum), 0);

/** Per currency: `{ EUR: 1200 }` from `refund.amount|EUR`. */
const perCurrency = (counters: Counters, prefix: string): Record<string, number> => {
  const result: Record<string, number> = {};
  for (const [name, value] of Object.entries(counters)) if (name.startsWith(prefix)) result[name.slice(prefix.length)] = value;
  return result;
};

/** Failed payments (every failure counts in `failreason|…`, whatever its currency) and all payments. */
export function paymentCounts(counters: Counters): { readonly failed: number; readonly total: number } {
  const failed = sumOf(counters, 'failreason|');
  return { failed, total: failed + sumOf(counters, 'pay.n|') };
}

export const percent = (fraction: number): string => {
  const value = fraction * 100;
  return `${value >= 10 || Number.isInteger(value) ? Math.round(value) : value.toFixed(value < 1 ? 2 : 1)} %`;
};

const duration = (ms: number): string => {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
};

const money = (amount: number, currency: string): string => formatMinorUnits(amount, currency) ?? `${amount} ${currency}`;

/** One line of text: Slack shows it as the message and in the notification. */
const message = (text: string): SlackMessage => ({ text });

/** The silence threshold in force (ms): the fixed one, else learned from the longest gap, never under the floor. */
export function silenceThresholdMs(settings: SilenceSettings, longestGapMs: number | undefined): number {
  if (settings.afterSeconds !== undefined) return settings.afterSeconds * 1000;
  const floor = (settings.floorSeconds ?? AlertDefaults.silenceFloorSeconds) * 1000;
  return Math.max(floor, Math.round((longestGapMs ?? 0) * AlertDefaults.silenceGapFactor));
}

interface RuleResult {
  /** Whether the condition holds now. */
  readonly firing: boolean;
  /** The alert text when it opens (starts with `Alert:`). */
  readonly alert?: string;
  /** Identifies the episode (with the rule and the time it opens). */
  readonly detail?: Readonly<Record<string, number | string>>;
}

function silenceRule(settings: SilenceSettings, inputs: AlertInputs, open: AlertEpisode | undefined): RuleResult & { resolvedText?: string } {
  // Nothing is said before the first webhook.
  if (inputs.lastAcceptedMs === undefined) return { firing: false };
  if (open && Number(open.detail?.lastAcceptedMs ?? 0) < inputs.lastAcceptedMs) {
    return { firing: false, resolvedText: `Resolved: webhooks arrive again (one accepted ${new Date(inputs.lastAcceptedMs).toISOString()}, after ${duration(inputs.lastAcceptedMs - Number(open.detail?.lastAcceptedMs ?? 0))} without).` };
  }
  const threshold = silenceThresholdMs(settings, inputs.longestGapMs);
  const quiet = inputs.nowMs - inputs.lastAcceptedMs;
  if (quiet <= threshold) return { firing: open !== undefined };
  return {
    firing: true,
    alert: `Alert: no webhooks for ${duration(quiet)}: the last one was accepted ${new Date(inputs.lastAcceptedMs).toISOString()} (threshold ${duration(threshold)}${settings.afterSeconds === undefined ? ', learned from the gaps of the last weeks' : ''}). Check the Dodo Payments webhook endpoint and its delivery logs.`,
    detail: { lastAcceptedMs: inputs.lastAcceptedMs },
  };
}

function failureRule(settings: FailureSettings, inputs: AlertInputs): RuleResult {
  const { failed, total } = paymentCounts(inputs.lastHour);
  const minFailures = settings.minFailures ?? AlertDefaults.minFailures;
  const baseline = paymentCounts(inputs.hourBaseline);
  const history = baseline.total >= AlertDefaults.minBaselinePayments;
  const usual = history ? baseline.failed / baseline.total : undefined;
  const threshold =
    usual === undefined
      ? (settings.absoluteRate ?? AlertDefaults.absoluteFailureRate)
      : Math.max(usual * (settings.factor ?? AlertDefaults.failureFactor), usual + (settings.margin ?? AlertDefaults.failureMargin));
  const rate = total === 0 ? 0 : failed / total;
  const firing = failed >= minFailures && rate >= threshold;
  if (!firing) return { firing };
  const codes = Object.entries(perCurrency(inputs.lastHour, 'failreason|'))
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 3)
    .map(([code, n]) => `${code} ×${n}`);
  return {
    firing,
    alert:
      `Alert: payment failures: ${failed} of ${total} payments failed in the last hour (${percent(rate)}); ` +
      (usual === undefined ? `no history yet, alerting above ${percent(threshold)}.` : `usually ${percent(usual)} at this hour.`) +
      (codes.length > 0 ? ` Top error codes: ${codes.join(', ')}.` : ''),
  };
}

function refundRule(settings: RefundSettings, inputs: AlertInputs): RuleResult {
  const count = sumOf(inputs.lastDay, 'refund.n|');
  const minRefunds = settings.minRefunds ?? AlertDefaults.minRefunds;
  const factor = settings.factor ?? AlertDefaults.refundFactor;
  const days = Math.max(1, inputs.dayBaselineDays);
  const usualCount = sumOf(inputs.dayBaseline, 'refund.n|') / days;
  if (count < minRefunds) return { firing: false };
  const reasons: string[] = [];
  if (count >= factor * usualCount) reasons.push(`${count} refunds in the last day; usually ${usualCount.toFixed(1)} a day`);
  const usualAmounts = perCurrency(inputs.dayBaseline, 'refund.amount|');
  for (const [currency, amount] of Object.entries(perCurrency(inputs.lastDay, 'refund.amount|'))) {
    const usual = (usualAmounts[currency] ?? 0) / days;
    if (amount >= factor * usual) reasons.push(`${money(amount, currency)} refunded; usually ${money(Math.round(usual), currency)} a day`);
  }
  if (reasons.length === 0) return { firing: false };
  return { firing: true, alert: `Alert: refunds spiking: ${reasons.join('; ')}.` };
}

function disputeRule(settings: DisputeSettings, inputs: AlertInputs): RuleResult {
  const disputes = sumOf(inputs.month, 'dispute.opened.n|');
  const payments = sumOf(inputs.month, 'pay.n|');
  const limit = settings.ratio ?? AlertDefaults.disputeRatio;
  if (disputes < (settings.minDisputes ?? AlertDefaults.minDisputes)) return { firing: false };
  const ratio = payments === 0 ? Number.POSITIVE_INFINITY : disputes / payments;
  if (ratio < limit) return { firing: false };
  return {
    firing: true,
    alert:
      `Alert: dispute ratio ${payments === 0 ? 'with no successful payment' : percent(ratio)} for ${inputs.monthName}: ${disputes} dispute(s) opened against ${payments} successful payment(s) ` +
      `(threshold ${percent(limit)}; card networks act at about 0.9 % (Visa) and 1.5 % (Mastercard)).`,
    detail: { month: inputs.monthName },
  };
}

const RESOLVED_TEXT: Readonly<Record<Exclude<AlertRule, 'silence'>, string>> = {
  failures: 'Resolved: payment failures are back under the alert threshold for the last hour.',
  refunds: 'Resolved: refunds in the last day are back under the alert threshold.',
  disputes: 'Resolved: the dispute ratio is back under the alert threshold.',
};

/**
 * The decisions for `inputs`, given the open episodes: one `open` per rule whose condition starts
 * holding, one `resolve` per open episode whose condition cleared, `keep` for the rest. A rule that
 * is off resolves its open episode.
 */
export function evaluateAlerts(settings: AlertSettings, inputs: AlertInputs, open: readonly AlertEpisode[]): AlertDecision[] {
  const decisions: AlertDecision[] = [];
  for (const rule of ALERT_RULES) {
    const episode = open.find((candidate) => candidate.rule === rule);
    let result: RuleResult & { resolvedText?: string } = { firing: false };
    if (rule === 'silence' && settings.silence) result = silenceRule(settings.silence, inputs, episode);
    else if (rule === 'failures' && settings.failures) result = failureRule(settings.failures, inputs);
    else if (rule === 'refunds' && settings.refunds) result = refundRule(settings.refunds, inputs);
    else if (rule === 'disputes' && settings.disputes) result = disputeRule(settings.disputes, inputs);
    // A dispute episode belongs to its month: a new month resolves it (and may open the next).
    if (episode && rule === 'disputes' && episode.detail?.month !== inputs.monthName) result = { firing: false, resolvedText: `Resolved: the dispute ratio of ${String(episode.detail?.month)} is closed; a new month starts.` };
    if (episode) {
      if (result.firing) decisions.push({ action: 'keep', episode });
      else decisions.push({ action: 'resolve', episode, message: message(result.resolvedText ?? (rule === 'silence' ? 'Resolved: webhooks arrive again.' : RESOLVED_TEXT[rule])) });
    } else if (result.firing && result.alert !== undefined) {
      const opened: AlertEpisode = { rule, id: `${rule}_${inputs.nowMs}`, openedAtMs: inputs.nowMs, ...(result.detail ? { detail: result.detail } : {}) };
      decisions.push({ action: 'open', episode: opened, message: message(result.alert) });
    }
  }
  return decisions;
}

/** The thresholds each rule takes, and whether each is a whole number; one list for serve's flag and the app's context. */
const THRESHOLDS: { readonly [R in AlertRule]: Readonly<Record<string, { readonly integer: boolean }>> } = {
  silence: { afterSeconds: { integer: false }, floorSeconds: { integer: false } },
  failures: { minFailures: { integer: true }, absoluteRate: { integer: false }, factor: { integer: false }, margin: { integer: false } },
  refunds: { minRefunds: { integer: true }, factor: { integer: false } },
  disputes: { ratio: { integer: false }, minDisputes: { integer: true } },
};

/**
 * `failures.minFailures=10,disputes.ratio=0.01` laid over `settings`: each threshold of a rule that
 * is on. Returns the reason when an entry is malformed, names no known threshold, is not a positive
 * number, or is for a rule that is off.
 */
export function withAlertThresholds(settings: AlertSettings, text: string): AlertSettings | string {
  const result: Record<AlertRule, AlertSettings[AlertRule]> = { silence: settings.silence, failures: settings.failures, refunds: settings.refunds, disputes: settings.disputes };
  for (const entry of text.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const match = /^(\w+)\.(\w+)=(.+)$/.exec(entry);
    if (!match) return `"${entry}" is not rule.threshold=value (e.g. failures.minFailures=10)`;
    const [, rule, name, raw] = match;
    const known = THRESHOLDS[rule as AlertRule] as Readonly<Record<string, { readonly integer: boolean }>> | undefined;
    if (known === undefined) return `"${rule}" is not a rule (rules: ${ALERT_RULES.join(', ')})`;
    const threshold = Object.prototype.hasOwnProperty.call(known, name) ? known[name] : undefined;
    if (threshold === undefined) return `${rule} has no threshold "${name}" (it has ${Object.keys(known).join(', ')})`;
    const value = Number(raw);
    if (!(Number.isFinite(value) && value > 0 && (!threshold.integer || Number.isInteger(value)))) return `${rule}.${name} must be a positive ${threshold.integer ? 'whole ' : ''}number, got "${raw}"`;
    const current = result[rule as AlertRule];
    if (current === false || current === undefined) return `${rule}.${name} applies to the ${rule} rule, which is off`;
    result[rule as AlertRule] = { ...current, [name]: value };
  }
  return result as AlertSettings;
}
