/**
 * What `serve` says on the terminal: one progress line per request answered and per delivery
 * attempt, the core's log lines a person needs (problems; everything with --verbose), and the
 * counts printed at shutdown. Nothing here decides anything about an event.
 */
import type { CoreLogger, CoreMetrics } from '../shared/ports';
import type { MetricName } from '../shared/metrics';
import type { DeliveryProcessor, RecordOutcome } from '../transformer/delivery';
import type { ReceiverOutcome } from '../receiver/webhook-receiver';
import type { RollupOutcome } from '../transformer/rollup';
import type { OpenRollup, StoredEvent } from './store';
import { stripControlCharacters } from './terminal-render';

/** A timestamp for progress lines: local wall-clock time, to the second. */
export function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

/** An id or event type from a request, fit for one progress line: no control characters, bounded length. */
export function printable(value: string): string {
  const clean = stripControlCharacters(value).replace(/\s+/g, ' ');
  return clean.length > 100 ? `${clean.slice(0, 99)}…` : clean;
}

/** Log lines the progress lines already say in a person's words; printed again only with --verbose. */
const REPORTED_AS_PROGRESS = new Set([
  'Webhook answered',
  'Delivery will be retried',
  'Delivery stopped: message goes to the dead-letter queue',
  'Transformation failed',
  'Message delivered to Slack',
  'Message skipped by the transformation',
  'Duplicate suppressed: already handled',
]);

/** The core's logger on the terminal: problems on stderr, the transformation's console output as its own lines. */
export function terminalLogger(options: { readonly verbose?: boolean; readonly print: (text: string) => void; readonly printError: (text: string) => void }): CoreLogger {
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, extra?: Record<string, unknown>) => {
    const isConsoleOutput = message === 'transformation console output';
    if (!options.verbose) {
      if (isConsoleOutput) {
        // The sandbox logs each line the transformation printed as `output`, a string.
        options.print(`${clock()}   transformation says: ${typeof extra?.output === 'string' ? extra.output : ''}\n`);
        return;
      }
      if (level === 'debug' || level === 'info' || REPORTED_AS_PROGRESS.has(message)) return;
    }
    const fields = extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
    options.printError(`${clock()} ${level}: ${message}${fields}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Counts per metric name, for the summary printed at shutdown. */
export function counters(): CoreMetrics & { readonly totals: Map<MetricName, number> } {
  const totals = new Map<MetricName, number>();
  return {
    totals,
    count(name, value = 1) {
      totals.set(name, (totals.get(name) ?? 0) + value);
    },
    milliseconds() {},
  };
}

/** A progress line's outcome text; undefined when the record is dead-lettered (that line comes once it is stored). */
function describeOutcome(outcome: RecordOutcome | undefined, isLastAttempt: boolean): string | undefined {
  if (outcome === undefined) return 'no outcome';
  switch (outcome.kind) {
    case 'done': {
      const results = outcome.routes.map((route) => route.result);
      if (results.length === 0) return 'no route takes this event type';
      return results.includes('duplicate') ? 'duplicate, already delivered (not posted again)' : results.join(', ');
    }
    case 'retry':
      // On the last attempt the delivery loop moves a record that asks for a retry to the dead letters.
      return isLastAttempt ? undefined : `will retry: ${outcome.reason}`;
    case 'requeue':
      return `requeued: ${outcome.reason}`;
    case 'dead-letter':
      return undefined;
  }
}

/** What serve prints as it delivers, and the counts it prints at shutdown. */
export interface DeliveryProgress {
  /** The processor, printing one line per delivery attempt. */
  withLines(processor: DeliveryProcessor): DeliveryProcessor;
  /** A dead letter, once it is stored. */
  deadLettered(event: StoredEvent): void;
  /** One roll-up attempt and what comes of it. */
  rollup(rollup: OpenRollup, attempt: number, outcome: RollupOutcome, events: number, ms: number, next: 'closed' | 'retry' | 'fall-back'): void;
  /** The shutdown line, from the metrics' totals. */
  summary(totals: ReadonlyMap<MetricName, number>): string;
}

export function deliveryProgress(print: (text: string) => void, maxAttempts: number): DeliveryProgress {
  /** Milliseconds of each message's latest delivery attempt, for the dead-letter line. */
  const attemptTimes = new Map<string, number>();
  let deadLettered = 0;
  let rolledUp = 0;
  let rollupMessages = 0;
  return {
    withLines: (processor) => withProgressLines(processor, maxAttempts, attemptTimes, print),
    deadLettered(event) {
      deadLettered += 1;
      const id = String(event.id);
      const ms = attemptTimes.get(id);
      attemptTimes.delete(id);
      print(
        `${clock()} ${printable(event.webhookId)} ${printable(event.eventType)} → ` +
          `${stripControlCharacters(`dead-lettered after ${event.attempts} attempt(s): ${event.reason ?? ''}`)}` +
          ` (attempt ${event.attempts}${ms === undefined ? '' : `, ${ms} ms`}; dead-letters show ${event.id})\n`,
      );
    },
    rollup(rollup, attempt, outcome, events, ms, next) {
      let text: string;
      if (outcome.kind === 'posted') {
        rolledUp += outcome.covered.length;
        rollupMessages += 1;
        text = `posted: ${outcome.covered.length} events in one message`;
        if (outcome.duplicates.length > 0) text += `, ${outcome.duplicates.length} already delivered`;
        if (outcome.elsewhere.length > 0) text += `, ${outcome.elsewhere.length} left for later`;
      } else if (outcome.released.length === 0 && outcome.elsewhere.length === 0) {
        text = `nothing to post: ${outcome.duplicates.length} already delivered`;
      } else {
        text = `${next === 'retry' ? 'will retry as a whole' : 'its events go out one by one'}: ${outcome.reason}`;
      }
      print(`${clock()} roll-up #${rollup.id} (${events} pending events) → ${stripControlCharacters(text)} (attempt ${attempt}, ${ms} ms)\n`);
    },
    summary(totals) {
      const total = (name: MetricName) => totals.get(name) ?? 0;
      return (
        `summary: ${total('WebhookReceived')} received, ${total('MessageDelivered')} delivered, ${total('MessageSkipped')} skipped, ` +
        `${total('DuplicateSuppressed')} duplicates suppressed, ${deadLettered} dead-lettered` +
        (rollupMessages > 0 ? `; ${rolledUp} rolled up into ${rollupMessages} message(s)` : '') +
        '\n'
      );
    },
  };
}

/**
 * Prints one line per delivery attempt. The delivery loop hands over one record at a time, so the
 * time measured here is that event's. Dead letters are announced once they are stored instead
 * (the loop applies outcomes after processBatch returns).
 */
function withProgressLines(processor: DeliveryProcessor, maxAttempts: number, attemptTimes: Map<string, number>, print: (text: string) => void): DeliveryProcessor {
  return {
    async processBatch(records, options) {
      const started = Date.now();
      const outcomes = await processor.processBatch(records, options);
      const ms = Date.now() - started;
      for (const record of records) {
        const outcome = outcomes.get(record.id);
        const described = describeOutcome(outcome, record.receiveCount >= maxAttempts);
        if (described === undefined) {
          attemptTimes.set(record.id, ms);
          continue;
        }
        attemptTimes.delete(record.id);
        const webhookId = printable(record.webhook.webhookId);
        const eventType = printable(record.webhook.eventType);
        print(`${clock()} ${webhookId} ${eventType} → ${stripControlCharacters(described)} (attempt ${record.receiveCount}, ${ms} ms)\n`);
      }
      return outcomes;
    },
  };
}

/** How a receiver outcome reads on a progress line. */
export const RECEIVER_OUTCOME_TEXT: Readonly<Record<ReceiverOutcome, string>> = {
  queued: 'accepted',
  ignored: 'ignored (event type not in --events)',
  unauthorized: 'refused',
  'invalid-payload': 'refused',
  'payload-too-large': 'refused',
  'signing-key-not-configured': 'unavailable',
  'signing-key-unavailable': 'unavailable',
  'queue-unavailable': 'unavailable',
};
