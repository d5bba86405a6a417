/**
 * What one Dodo event adds to a summary: a flat set of named counters, so that every store can
 * add them the same way (SQLite sums rows, DynamoDB `ADD`s attributes atomically) and a period's
 * totals are the sum of its events' counters. Amounts stay integers in each currency's ISO 4217
 * minor unit and are never added across currencies.
 *
 * Counter names (`C` = ISO currency code, upper case):
 *   events                              distinct webhooks in the period
 *   pay.n|C  pay.gross|C                successful payments and what customers paid (total_amount, tax included)
 *   refund.n|C  refund.amount|C         refunds that succeeded (by the refund's own event time)
 *   fail.n|C  fail.amount|C             failed payments and the amount that failed
 *   failreason|CODE                     failed payments by error_code (all currencies)
 *   dispute.opened|won|lost.n|C  ….amount|C   disputes and the amount at stake
 *   sub.started  sub.renewed  sub.cancelled  sub.on_hold   subscription events
 *   mrr.gained|C  mrr.lost|C            monthly recurring revenue started / cancelled (see below)
 *   product|C|PRODUCT_ID                revenue of successful single-product payments
 *   unknown.amount                      money events whose amount or currency could not be read
 *   uncounted                           events whose count was given up (the summary says it is incomplete)
 *   test.left_out                       test-mode events (a `test:` key verified them): the only
 *                                       counter they add, so no figure above includes them
 *
 * MRR normalisation: a subscription's `recurring_pre_tax_amount` is what one billing period
 * charges (pre-tax, quantity included) for `payment_frequency_count` × `payment_frequency_interval`.
 * Per month that is amount ÷ count × (Month 1, Year 1/12, Week 52/12, Day 365/12), rounded to
 * the nearest minor unit once per event. Gained = `subscription.active`; lost =
 * `subscription.cancelled` (not `expired`, which follows a cancellation and would count it twice;
 * not `on_hold`, which often recovers). Plan changes are not counted: their payload carries only
 * the new plan, not what it replaced.
 */
import { currencyCode, parseMinorUnits } from '../messages/money';
import type { DodoWebhookEnvelope, WebhookMode } from '../shared/webhook';

/** Named counters; a missing name is 0. */
export type Counters = Readonly<Record<string, number>>;

/** Longest piece of a counter name taken from a payload (a product id, an error code). */
const MAX_NAME_PART = 64;

/** A payload string fit for a counter name: no separator, no control characters, bounded. */
export function namePart(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are what this replace removes from a counter name
  const clean = value.replace(/[|\u0000-\u001f\u007f]/g, '').trim().slice(0, MAX_NAME_PART);
  return clean === '' ? undefined : clean;
}

const MONTHS_PER_INTERVAL: Readonly<Record<string, number>> = {
  day: 12 / 365,
  week: 12 / 52,
  month: 1,
  year: 12,
};

/**
 * `recurring_pre_tax_amount` per month in minor units, or undefined when the amount, the count
 * or the interval cannot be read (Dodo capitalises intervals: `Month`; any case is accepted).
 */
export function monthlyRecurringAmount(data: Record<string, unknown>): number | undefined {
  const amount = parseMinorUnits(data.recurring_pre_tax_amount);
  const interval = typeof data.payment_frequency_interval === 'string' ? data.payment_frequency_interval.toLowerCase() : undefined;
  const count = typeof data.payment_frequency_count === 'number' ? data.payment_frequency_count : 1;
  const months = interval === undefined ? undefined : MONTHS_PER_INTERVAL[interval];
  if (amount === undefined || months === undefined || !Number.isInteger(count) || count < 1) return undefined;
  return Math.round(amount / (count * months));
}

/** When the event happened: the envelope's `timestamp`, else `webhook-timestamp` (unix s), else `fallbackMs`. */
export function eventTimeMs(envelope: Partial<DodoWebhookEnvelope>, webhookTimestamp: string | undefined, fallbackMs: number): number {
  if (typeof envelope.timestamp === 'string') {
    const ms = Date.parse(envelope.timestamp);
    if (Number.isFinite(ms) && ms > 0) return ms;
  }
  const seconds = Number(webhookTimestamp);
  if (webhookTimestamp !== undefined && /^\d+$/.test(webhookTimestamp) && seconds > 0) return seconds * 1000;
  return fallbackMs;
}

/**
 * Events whose count was given up (the counters failed on every attempt), recorded in their period
 * when the store takes that much: the period's summary says its figures are incomplete.
 */
export const UNCOUNTED = 'uncounted';

/** The one counter a test-mode event adds: how many the period's summary leaves out. */
export const TEST_LEFT_OUT = 'test.left_out';

/**
 * What one webhook, as queued (its raw body, `webhook-timestamp` and mode), adds to the summaries
 * and when it happened: every store counts with this, so they agree. A body that is not a JSON
 * object still counts as one event (the receiver only queues JSON; an older local store may hold
 * anything). A test-mode event adds only {@link TEST_LEFT_OUT}, in the period of its own time:
 * test payments are no revenue, and the summary says how many it left out.
 */
export function summaryFactsOfWebhook(
  body: string,
  webhookTimestamp: string | undefined,
  fallbackMs: number,
  mode: WebhookMode = 'live',
): { readonly occurredAtMs: number; readonly counters: Counters } {
  let envelope: Partial<DodoWebhookEnvelope> = {};
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) envelope = parsed;
  } catch {
    // Counted as one event of no known kind.
  }
  const occurredAtMs = eventTimeMs(envelope, webhookTimestamp, fallbackMs);
  return { occurredAtMs, counters: mode === 'test' ? { [TEST_LEFT_OUT]: 1 } : summaryFactsOf(envelope) };
}

/** The counters one event adds. Every event counts in `events`; types a summary does not show add nothing else. */
export function summaryFactsOf(envelope: Partial<DodoWebhookEnvelope>): Counters {
  const facts: Record<string, number> = { events: 1 };
  const add = (name: string, value: number) => {
    facts[name] = (facts[name] ?? 0) + value;
  };
  const data = (typeof envelope.data === 'object' && envelope.data !== null ? envelope.data : {});
  const money = (amountField: unknown, currencyField: unknown): { amount: number; currency: string } | undefined => {
    const amount = parseMinorUnits(amountField);
    const currency = currencyCode(currencyField);
    if (amount === undefined || currency === undefined) {
      add('unknown.amount', 1);
      return undefined;
    }
    return { amount, currency };
  };

  switch (envelope.type) {
    case 'payment.succeeded': {
      const paid = money(data.total_amount, data.currency);
      if (!paid) break;
      add(`pay.n|${paid.currency}`, 1);
      add(`pay.gross|${paid.currency}`, paid.amount);
      const products = Array.isArray(data.product_cart)
        ? [...new Set(data.product_cart.map((item) => namePart((item as { product_id?: unknown } | null)?.product_id)).filter((id): id is string => id !== undefined))]
        : [];
      // A payment carries no per-product amounts: only a one-product payment is attributed.
      if (products.length === 1) add(`product|${paid.currency}|${products[0]}`, paid.amount);
      break;
    }
    case 'payment.failed': {
      const failed = money(data.total_amount, data.currency);
      if (failed) {
        add(`fail.n|${failed.currency}`, 1);
        add(`fail.amount|${failed.currency}`, failed.amount);
      }
      add(`failreason|${namePart(data.error_code) ?? 'unknown'}`, 1);
      break;
    }
    case 'refund.succeeded': {
      const refunded = money(data.amount, data.currency);
      if (!refunded) break;
      add(`refund.n|${refunded.currency}`, 1);
      add(`refund.amount|${refunded.currency}`, refunded.amount);
      break;
    }
    case 'dispute.opened':
    case 'dispute.won':
    case 'dispute.lost': {
      const stage = envelope.type.slice('dispute.'.length);
      // Dispute amounts are strings in minor units (as the dispute template reads them).
      const disputed = money(data.amount, data.currency);
      if (!disputed) break;
      add(`dispute.${stage}.n|${disputed.currency}`, 1);
      add(`dispute.${stage}.amount|${disputed.currency}`, disputed.amount);
      break;
    }
    case 'subscription.active':
    case 'subscription.cancelled': {
      add(envelope.type === 'subscription.active' ? 'sub.started' : 'sub.cancelled', 1);
      const monthly = monthlyRecurringAmount(data);
      const currency = currencyCode(data.currency);
      if (monthly === undefined || currency === undefined) add('unknown.amount', 1);
      else add(`${envelope.type === 'subscription.active' ? 'mrr.gained' : 'mrr.lost'}|${currency}`, monthly);
      break;
    }
    case 'subscription.renewed':
      add('sub.renewed', 1);
      break;
    case 'subscription.on_hold':
      add('sub.on_hold', 1);
      break;
    default:
      break;
  }
  return facts;
}

/** `a + b`, name by name. */
export function addCounters(a: Counters, b: Counters): Record<string, number> {
  const sum: Record<string, number> = { ...a };
  for (const [name, value] of Object.entries(b)) sum[name] = (sum[name] ?? 0) + value;
  return sum;
}

/** `a - b`, name by name, keeping only names that differ. */
export function subtractCounters(a: Counters, b: Counters): Record<string, number> {
  const difference: Record<string, number> = {};
  for (const name of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const value = (a[name] ?? 0) - (b[name] ?? 0);
    if (value !== 0) difference[name] = value;
  }
  return difference;
}
