/**
 * Alerts in `dodo-slack serve`: evaluates the rules (lambda/alerts/) every interval over a rolling
 * window ending now, and soon after events arrive, and queues each alert or resolved message as a
 * precomposed event the delivery loop delivers like a webhook (pacing, retries, dead letters,
 * deduplication). Open episodes live in the store, so a restart does not repeat an open alert.
 */
import { ALERT_RULES, DEFAULT_ALERT_SETTINGS, withAlertThresholds, type AlertRule, type AlertSettings } from '../alerts/rules';
import { runAlerts, type AlertRunResult, type AlertSource, type AlertStore } from '../alerts/run';
import type { EventStore } from './store';

export const AlertServeDefaults = {
  /** How often the rules are evaluated (ms): a failure burst is told within half a minute. */
  intervalMs: 30_000,
  /** How soon after an accepted event an evaluation runs (ms), at most once per this. */
  afterEventMs: 2_000,
} as const;

export interface AlertMonitorOptions {
  readonly settings: AlertSettings;
  readonly store: AlertStore;
  readonly source: AlertSource;
  readonly events: EventStore;
  readonly routeId: string;
  readonly intervalMs?: number;
  readonly now?: () => number;
  /** Alert messages were queued: deliver them now. */
  readonly onRun: (result: AlertRunResult) => void;
  readonly onError: (error: unknown) => void;
}

export interface AlertMonitor {
  /** An event was accepted: evaluate soon. */
  poke(): void;
  stop(): Promise<void>;
}

export function startAlertMonitor(options: AlertMonitorOptions): AlertMonitor {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? AlertServeDefaults.intervalMs;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let soon: NodeJS.Timeout | undefined;

  const evaluate = (): Promise<void> => {
    // One run at a time: a second waits for the first, so an episode is never opened twice.
    running = running.then(async () => {
      if (stopped) return;
      try {
        const result = await runAlerts({
          settings: options.settings,
          source: options.source,
          store: options.store,
          routeId: options.routeId,
          enqueue: async (webhook) => {
            options.events.accept(options.routeId, webhook, now());
            await Promise.resolve();
          },
          nowMs: now(),
        });
        if (result.opened.length + result.resolved.length + result.resent > 0) options.onRun(result);
      } catch (error) {
        options.onError(error);
      }
    });
    return running;
  };
  const interval = setInterval(() => void evaluate(), intervalMs);
  interval.unref();
  void evaluate();
  return {
    poke() {
      if (stopped || soon !== undefined) return;
      soon = setTimeout(() => {
        soon = undefined;
        void evaluate();
      }, Math.min(AlertServeDefaults.afterEventMs, intervalMs));
      soon.unref();
    },
    async stop() {
      stopped = true;
      clearInterval(interval);
      if (soon) clearTimeout(soon);
      await running;
    },
  };
}

/** serve's alert settings from its flags; undefined when no alert is asked for. Throws a message naming the flag. */
export function serveAlertOptions(values: {
  readonly alerts?: boolean;
  readonly 'silence-after'?: string;
  readonly 'alerts-off'?: string;
  readonly 'alert-interval'?: string;
  readonly 'alert-thresholds'?: string;
}): { readonly settings: AlertSettings; readonly intervalMs?: number } | string | undefined {
  const seconds = (name: string, text: string | undefined, min: number): number | string | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    return Number.isFinite(value) && value >= min && value <= 30 * 86_400 ? value : `--${name} must be a number of seconds from ${min} to ${30 * 86_400}, got "${text}"`;
  };
  const silenceAfter = seconds('silence-after', values['silence-after'], 1);
  if (typeof silenceAfter === 'string') return silenceAfter;
  const interval = seconds('alert-interval', values['alert-interval'], 0.1);
  if (typeof interval === 'string') return interval;
  if (!values.alerts && silenceAfter === undefined) {
    return values['alerts-off'] !== undefined || interval !== undefined || values['alert-thresholds'] !== undefined
      ? '--alerts-off, --alert-interval and --alert-thresholds apply with --alerts (or --silence-after)'
      : undefined;
  }
  // --silence-after alone turns on the silence rule only; --alerts turns on every rule.
  const settings: Record<AlertRule, AlertSettings[AlertRule]> = values.alerts
    ? { silence: {}, failures: {}, refunds: {}, disputes: {}, ...DEFAULT_ALERT_SETTINGS }
    : { silence: false, failures: false, refunds: false, disputes: false };
  if (silenceAfter !== undefined) settings.silence = { afterSeconds: silenceAfter };
  for (const name of (values['alerts-off'] ?? '').split(',').map((rule) => rule.trim()).filter((rule) => rule !== '')) {
    if (!ALERT_RULES.includes(name as AlertRule)) return `--alerts-off: unknown rule "${name}" (rules: ${ALERT_RULES.join(', ')})`;
    settings[name as AlertRule] = false;
  }
  const tuned = values['alert-thresholds'] === undefined ? (settings as AlertSettings) : withAlertThresholds(settings as AlertSettings, values['alert-thresholds']);
  if (typeof tuned === 'string') return `--alert-thresholds: ${tuned}`;
  return { settings: tuned, ...(interval === undefined ? {} : { intervalMs: interval * 1000 }) };
}
