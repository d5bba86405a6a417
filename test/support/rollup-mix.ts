/**
 * The event type of event `index` in the roll-up tests' launch-day mix: per 100 events, 80 successful
 * payments, 8 new subscriptions, 5 refunds, 6 failed payments and one dispute (which never folds).
 */
export function rollupMixType(index: number): string {
  const slot = index % 100;
  if (slot === 99) return 'dispute.opened';
  if (slot >= 93) return 'payment.failed';
  if (slot >= 88) return 'refund.succeeded';
  if (slot >= 80) return 'subscription.active';
  return 'payment.succeeded';
}
