/**
 * The Dodo event types this version knows, checked against the `dodopayments` SDK at compile time:
 * a type the SDK adds or drops fails the type check here. Used to warn about an event glob that
 * matches none of them (a typo such as `paymnt.*` would otherwise silently ignore every event).
 */
import type { WebhookEventType } from 'dodopayments/resources/webhook-events';

const EVENT_TYPES: Readonly<Record<WebhookEventType, true>> = {
  'abandoned_checkout.detected': true,
  'abandoned_checkout.recovered': true,
  'credit.added': true,
  'credit.balance_low': true,
  'credit.deducted': true,
  'credit.expired': true,
  'credit.manual_adjustment': true,
  'credit.overage_charged': true,
  'credit.overage_reset': true,
  'credit.rolled_over': true,
  'credit.rollover_forfeited': true,
  'dispute.accepted': true,
  'dispute.cancelled': true,
  'dispute.challenged': true,
  'dispute.expired': true,
  'dispute.lost': true,
  'dispute.opened': true,
  'dispute.won': true,
  'dunning.recovered': true,
  'dunning.started': true,
  'entitlement_grant.created': true,
  'entitlement_grant.delivered': true,
  'entitlement_grant.failed': true,
  'entitlement_grant.revoked': true,
  'license_key.created': true,
  'payment.cancelled': true,
  'payment.failed': true,
  'payment.processing': true,
  'payment.succeeded': true,
  'payout.created': true,
  'payout.failed': true,
  'payout.in_progress': true,
  'payout.on_hold': true,
  'payout.success': true,
  'refund.failed': true,
  'refund.succeeded': true,
  'subscription.active': true,
  'subscription.cancelled': true,
  'subscription.expired': true,
  'subscription.failed': true,
  'subscription.on_hold': true,
  'subscription.past_due': true,
  'subscription.paused': true,
  'subscription.plan_changed': true,
  'subscription.renewed': true,
  'subscription.unpaused': true,
  'subscription.update_payment_method': true,
  'subscription.updated': true,
};

/** Every event type Dodo sends today (per the SDK), sorted. */
export const KNOWN_EVENT_TYPES: readonly string[] = Object.keys(EVENT_TYPES).sort();
