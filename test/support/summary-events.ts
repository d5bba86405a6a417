/** Dodo events for the summary tests: the repository's fixtures with the fields a test varies. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DodoWebhookEnvelope } from '../../lambda/shared/webhook';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'dodo');

export interface EventOverrides {
  readonly timestamp: string;
  readonly currency?: string;
  readonly amount?: number | string | null;
  readonly data?: Record<string, unknown>;
}

/** A fixture of `type` at `timestamp`, its amount field (total_amount, amount or recurring_pre_tax_amount) and currency replaced. */
export function dodoEvent(type: string, overrides: EventOverrides): DodoWebhookEnvelope {
  const envelope = JSON.parse(readFileSync(path.join(FIXTURES, `${type}.json`), 'utf8')) as { -readonly [K in keyof DodoWebhookEnvelope]: DodoWebhookEnvelope[K] };
  envelope.timestamp = overrides.timestamp;
  const amountField = type.startsWith('payment.') ? 'total_amount' : type.startsWith('subscription.') ? 'recurring_pre_tax_amount' : 'amount';
  if (overrides.currency !== undefined) envelope.data.currency = overrides.currency;
  if (overrides.amount !== undefined) envelope.data[amountField] = overrides.amount;
  Object.assign(envelope.data, overrides.data ?? {});
  return envelope;
}

/**
 * The test mix of one day (2026-12-01 UTC): JPY, KWD, EUR and USD payments, a refund, a failed
 * payment, disputes, subscriptions. `expected` says what a summary of that day must show.
 */
export const DAY_MIX: ReadonlyArray<{ readonly id: string; readonly envelope: DodoWebhookEnvelope }> = [
  { id: 'msg_jpy1', envelope: dodoEvent('payment.succeeded', { timestamp: '2026-12-01T01:00:00.000Z', currency: 'JPY', amount: 1000, data: { product_cart: [{ product_id: 'pdt_tea', quantity: 1 }] } }) },
  { id: 'msg_jpy2', envelope: dodoEvent('payment.succeeded', { timestamp: '2026-12-01T02:00:00.000Z', currency: 'JPY', amount: 500, data: { product_cart: [{ product_id: 'pdt_tea', quantity: 1 }] } }) },
  { id: 'msg_kwd1', envelope: dodoEvent('payment.succeeded', { timestamp: '2026-12-01T03:00:00.000Z', currency: 'KWD', amount: 12345 }) },
  { id: 'msg_eur1', envelope: dodoEvent('payment.succeeded', { timestamp: '2026-12-01T04:00:00.000Z', currency: 'EUR', amount: 123456, data: { product_cart: [{ product_id: 'pdt_pro', quantity: 1 }] } }) },
  { id: 'msg_eur2', envelope: dodoEvent('payment.succeeded', { timestamp: '2026-12-01T05:00:00.000Z', currency: 'EUR', amount: 1000, data: { product_cart: [{ product_id: 'pdt_a', quantity: 1 }, { product_id: 'pdt_b', quantity: 2 }] } }) },
  { id: 'msg_eurr', envelope: dodoEvent('refund.succeeded', { timestamp: '2026-12-01T06:00:00.000Z', currency: 'EUR', amount: 1000 }) },
  { id: 'msg_usd1', envelope: dodoEvent('payment.succeeded', { timestamp: '2026-12-01T23:59:59.000Z', currency: 'USD', amount: 2999 }) },
  { id: 'msg_usdf', envelope: dodoEvent('payment.failed', { timestamp: '2026-12-01T07:00:00.000Z', currency: 'USD', amount: 4900 }) },
  { id: 'msg_usdd', envelope: dodoEvent('dispute.opened', { timestamp: '2026-12-01T08:00:00.000Z', currency: 'USD', amount: '2999' }) },
  { id: 'msg_sub1', envelope: dodoEvent('subscription.active', { timestamp: '2026-12-01T09:00:00.000Z', currency: 'USD', amount: 12000, data: { payment_frequency_interval: 'Year', payment_frequency_count: 1 } }) },
  { id: 'msg_sub2', envelope: dodoEvent('subscription.cancelled', { timestamp: '2026-12-01T10:00:00.000Z', currency: 'USD', amount: 1900 }) },
  { id: 'msg_sub3', envelope: dodoEvent('subscription.renewed', { timestamp: '2026-12-01T11:00:00.000Z', currency: 'USD', amount: 1900 }) },
];

/** The previous day (2026-11-30 UTC): one USD payment, for the ▲/▼. */
export const PREVIOUS_DAY: ReadonlyArray<{ readonly id: string; readonly envelope: DodoWebhookEnvelope }> = [
  { id: 'msg_prev1', envelope: dodoEvent('payment.succeeded', { timestamp: '2026-11-30T12:00:00.000Z', currency: 'USD', amount: 1999 }) },
];
