/**
 * A launch-day mix for the 10,000-event burst: what a product launch sends in a few
 * minutes. Per 500 events: 399 payment.succeeded, 30 payment.failed, 15 refund.succeeded,
 * 25 subscription.active, 15 subscription.renewed, 5 subscription.cancelled, 10 license_key.created
 * and 1 dispute.opened (disputes never fold: each keeps its own message). Amounts and currencies
 * vary (mostly USD, some EUR, GBP, INR and JPY), so roll-ups have real totals and a real "largest".
 */
import type { Fixture } from './fixtures';

const SLOTS: readonly (readonly [string, number])[] = [
  ['dispute.opened', 1],
  ['payment.failed', 30],
  ['refund.succeeded', 15],
  ['subscription.active', 25],
  ['subscription.renewed', 15],
  ['subscription.cancelled', 5],
  ['license_key.created', 10],
  ['payment.succeeded', 399],
];
const PERIOD = SLOTS.reduce((sum, [, count]) => sum + count, 0);
const CURRENCIES = ['USD', 'USD', 'USD', 'USD', 'USD', 'EUR', 'EUR', 'GBP', 'INR', 'JPY'] as const;

export const LAUNCH_DAY_MIX = SLOTS.map(([type, count]) => `${type} ${((count / PERIOD) * 100).toFixed(1)} %`).join(', ');

/** Event `index` of the mix: its type spread evenly over each period of 500, with its own amount and currency. */
export function launchDayPicker(fixtures: readonly Fixture[]): (index: number) => Fixture {
  const byName = new Map(fixtures.map((fixture) => [fixture.name, fixture]));
  const order: string[] = [];
  // Spread each type over the period (a dispute in the middle, failures every ~17 events), not in runs.
  const weights = SLOTS.map(([type, count]) => ({ type, count, placed: 0 }));
  for (let i = 0; i < PERIOD; i++) {
    const next = weights.reduce((best, w) => ((w.placed + 1) / w.count < (best.placed + 1) / best.count ? w : best));
    next.placed += 1;
    order.push(next.type);
  }
  for (const [type] of SLOTS) if (!byName.has(type)) throw new Error(`launch-day mix: no fixture ${type}`);
  return (index) => {
    const base = byName.get(order[index % PERIOD])!;
    const currency = CURRENCIES[index % CURRENCIES.length];
    const scale = currency === 'JPY' ? 1 : currency === 'INR' ? 80 : 100;
    const amount = Math.round((9 + ((index * 7919) % 491)) * scale);
    const data = { ...(base.envelope.data as Record<string, unknown>), currency, ...amountFields(base.name, amount) };
    const envelope = { ...base.envelope, data };
    return { name: base.name, body: JSON.stringify(envelope), envelope };
  };
}

function amountFields(type: string, amount: number): Record<string, number> {
  if (type.startsWith('payment.')) return { total_amount: amount, settlement_amount: amount };
  if (type.startsWith('refund.') || type.startsWith('dispute.')) return { amount };
  if (type.startsWith('subscription.')) return { recurring_pre_tax_amount: amount };
  return {};
}
