import { addCounters, eventTimeMs, monthlyRecurringAmount, subtractCounters, summaryFactsOf, summaryFactsOfWebhook, TEST_LEFT_OUT } from '../../lambda/summaries/facts';
import { dodoEvent } from '../support/summary-events';

const at = '2026-12-01T10:00:00.000Z';

test('a successful payment adds its count, gross and (one-product carts only) product revenue in its own currency', () => {
  expect(summaryFactsOf(dodoEvent('payment.succeeded', { timestamp: at, currency: 'JPY', amount: 1500, data: { product_cart: [{ product_id: 'pdt_tea' }] } }))).toEqual({
    events: 1,
    'pay.n|JPY': 1,
    'pay.gross|JPY': 1500,
    'product|JPY|pdt_tea': 1500,
  });
  const mixed = summaryFactsOf(dodoEvent('payment.succeeded', { timestamp: at, data: { product_cart: [{ product_id: 'a' }, { product_id: 'b' }] } }));
  expect(Object.keys(mixed).filter((name) => name.startsWith('product|'))).toEqual([]);
});

test('failed payments with their reason, refunds, disputes by stage (string amounts), subscriptions', () => {
  expect(summaryFactsOf(dodoEvent('payment.failed', { timestamp: at }))).toEqual({ events: 1, 'fail.n|EUR': 1, 'fail.amount|EUR': 4900, 'failreason|INSUFFICIENT_FUNDS': 1 });
  expect(summaryFactsOf(dodoEvent('refund.succeeded', { timestamp: at, currency: 'KWD', amount: 1500 }))).toEqual({ events: 1, 'refund.n|KWD': 1, 'refund.amount|KWD': 1500 });
  expect(summaryFactsOf(dodoEvent('dispute.lost', { timestamp: at, amount: '2999' }))).toEqual({ events: 1, 'dispute.lost.n|USD': 1, 'dispute.lost.amount|USD': 2999 });
  expect(summaryFactsOf(dodoEvent('subscription.renewed', { timestamp: at }))).toEqual({ events: 1, 'sub.renewed': 1 });
  expect(summaryFactsOf(dodoEvent('subscription.on_hold', { timestamp: at }))).toEqual({ events: 1, 'sub.on_hold': 1 });
  expect(summaryFactsOf(dodoEvent('subscription.cancelled', { timestamp: at }))).toEqual({ events: 1, 'sub.cancelled': 1, 'mrr.lost|USD': 1900 });
  expect(summaryFactsOf(dodoEvent('license_key.created', { timestamp: at }))).toEqual({ events: 1 });
});

test('an amount or currency that cannot be read is counted as such, never summed as 0 or NaN', () => {
  expect(summaryFactsOf(dodoEvent('refund.succeeded', { timestamp: at, amount: null }))).toEqual({ events: 1, 'unknown.amount': 1 });
  expect(summaryFactsOf(dodoEvent('payment.succeeded', { timestamp: at, currency: 'dollars' }))).toEqual({ events: 1, 'unknown.amount': 1 });
  expect(summaryFactsOf({ type: 'payment.succeeded' })).toEqual({ events: 1, 'unknown.amount': 1 });
});

test('MRR is normalised per month from the billing interval', () => {
  const mrr = (amount: number, interval: string, count = 1) => monthlyRecurringAmount({ recurring_pre_tax_amount: amount, payment_frequency_interval: interval, payment_frequency_count: count });
  expect(mrr(1900, 'Month')).toBe(1900);
  expect(mrr(12000, 'Year')).toBe(1000);
  expect(mrr(3000, 'Month', 3)).toBe(1000);
  expect(mrr(1000, 'Week')).toBe(4333); // × 52/12
  expect(mrr(100, 'Day')).toBe(3042); // × 365/12
  expect(mrr(1000, 'Fortnight')).toBeUndefined();
  expect(mrr(1000, 'Month', 0)).toBeUndefined();
});

test("an event's time is its envelope timestamp, else webhook-timestamp, else the fallback", () => {
  expect(eventTimeMs({ timestamp: '2026-12-01T10:00:00Z' }, '1700000000', 5)).toBe(Date.parse('2026-12-01T10:00:00Z'));
  expect(eventTimeMs({ timestamp: 'yesterday' }, '1700000000', 5)).toBe(1_700_000_000_000);
  expect(eventTimeMs({}, 'x', 5)).toBe(5);
});

test('product ids and reasons are made safe as counter names', () => {
  const facts = summaryFactsOf(dodoEvent('payment.failed', { timestamp: at, data: { error_code: `a|b\n${'x'.repeat(100)}` } }));
  const reason = Object.keys(facts).find((name) => name.startsWith('failreason|'))!;
  expect(reason.split('|')).toHaveLength(2);
  expect(reason.length).toBeLessThanOrEqual('failreason|'.length + 64);
});

test('counters add and subtract name by name', () => {
  expect(addCounters({ a: 1, b: 2 }, { b: 3, c: 4 })).toEqual({ a: 1, b: 5, c: 4 });
  expect(subtractCounters({ a: 1, b: 5 }, { a: 1, b: 2 })).toEqual({ b: 3 });
});

test('a test-mode webhook adds only its left-out count, at its own time; a live one (or one without a mode) adds its facts', () => {
  const body = JSON.stringify(dodoEvent('payment.succeeded', { timestamp: '2026-12-01T10:00:00Z' }));
  expect(summaryFactsOfWebhook(body, '1', 0, 'test')).toEqual({ occurredAtMs: Date.parse('2026-12-01T10:00:00Z'), counters: { [TEST_LEFT_OUT]: 1 } });
  expect(summaryFactsOfWebhook(body, '1', 0, 'live')).toEqual(summaryFactsOfWebhook(body, '1', 0));
  expect(summaryFactsOfWebhook(body, '1', 0).counters).toMatchObject({ events: 1, 'pay.n|USD': 1 });
});
