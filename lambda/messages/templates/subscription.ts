/**
 * subscription.active | renewed | on_hold | past_due | paused | unpaused | cancelled | failed |
 * expired | plan_changed | updated | update_payment_method
 */
import type { SubscriptionActiveWebhookEvent } from 'dodopayments/resources/webhooks/webhooks';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import type { KnownNames } from '../../shared/names';
import { formatMinorUnits } from '../money';
import { asLoose, customerFact, customerLabel, dashboardLinks, idFact, productLabel, sentence, textFact } from './common';
import { eventStyle, type EventStyle } from './generic';
import { buildMessage, date, type Fact, humanize, join, type Mrkdwn, plain, str } from './layout';

type SubscriptionPayload = SubscriptionActiveWebhookEvent['data'];

const SUBSCRIPTION_EVENTS: Readonly<Record<string, EventStyle>> = {
  'subscription.active': { tone: 'good', headline: 'New subscription' },
  'subscription.renewed': { tone: 'good', headline: 'Subscription renewed' },
  'subscription.on_hold': { tone: 'danger', headline: 'Subscription on hold' },
  'subscription.past_due': { tone: 'warning', headline: 'Subscription past due' },
  'subscription.paused': { tone: 'warning', headline: 'Subscription paused' },
  'subscription.unpaused': { tone: 'good', headline: 'Subscription resumed' },
  'subscription.cancelled': { tone: 'warning', headline: 'Subscription cancelled' },
  'subscription.failed': { tone: 'danger', headline: 'Subscription failed' },
  'subscription.expired': { tone: 'warning', headline: 'Subscription expired' },
  'subscription.plan_changed': { tone: 'info', headline: 'Subscription plan changed' },
  'subscription.updated': { tone: 'info', headline: 'Subscription updated' },
  'subscription.update_payment_method': { tone: 'info', headline: 'Subscription payment method updated' },
};

/** `Month`, 1 → "month"; `Month`, 3 → "3 months". Dodo capitalises intervals. */
function every(count: unknown, interval: unknown): string | undefined {
  const unit = str(interval)?.toLowerCase();
  if (!unit) return undefined;
  if (typeof count !== 'number' || count <= 1) return unit;
  return `${count} ${unit}s`;
}

/** "$19.00 / month", or undefined when the amount is unknown. */
function pricePerPeriod(subscription: ReturnType<typeof asLoose<SubscriptionPayload>>): string | undefined {
  const amount = formatMinorUnits(subscription.recurring_pre_tax_amount, subscription.currency);
  if (!amount) return undefined;
  const period = every(subscription.payment_frequency_count, subscription.payment_frequency_interval);
  return period ? `${amount} / ${period}` : amount;
}

function dateFact(label: string, value: unknown): Fact {
  return { label, value: date(value) };
}

export function renderSubscription(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions, names?: KnownNames): SlackMessage {
  const subscription = asLoose<SubscriptionPayload>(envelope.data);
  const event = eventStyle(SUBSCRIPTION_EVENTS, envelope.type);
  const price = pricePerPeriod(subscription);
  const who = customerLabel(subscription.customer, options);
  const feedback = humanize(subscription.cancellation_feedback);
  const change = subscription.scheduled_change;
  const quantity = typeof subscription.quantity === 'number' && subscription.quantity > 1 ? subscription.quantity : undefined;

  const productParts: Mrkdwn[] = [];
  const productId = str(subscription.product_id);
  if (productId) productParts.push(productLabel(productId, names));
  if (quantity) productParts.push(plain(`× ${quantity}`));

  let scheduled: Mrkdwn | undefined;
  if (change && typeof change === 'object') {
    const name = str(change.product_name);
    const target = name ? plain(name, 200) : str(change.product_id) ? productLabel(String(change.product_id), names) : undefined;
    const when = date(change.effective_at);
    if (target) scheduled = join([plain('to'), target, ...(when ? [plain('on'), when] : [])]);
  }

  return buildMessage(
    {
      tone: event.tone,
      headline: event.headline,
      summary: sentence(who, price && `${who ? '· ' : ''}${price}`, feedback && `· feedback: ${feedback}`),
      facts: [
        textFact('Price', price ?? 'unknown'),
        customerFact(subscription.customer, options),
        { label: 'Product', value: productParts.length > 0 ? join(productParts) : undefined },
        textFact('Status', humanize(subscription.status) ?? 'unknown'),
        textFact('Cancellation feedback', feedback),
        { label: 'Scheduled plan change', value: scheduled },
        dateFact('Cancelled at', subscription.cancelled_at),
        textFact('Cancels at period end', subscription.cancel_at_next_billing_date === true ? 'yes' : undefined),
        dateFact('Next billing', subscription.status === 'active' || subscription.status === 'past_due' ? subscription.next_billing_date : undefined),
        dateFact('Grace period ends', subscription.past_due_ends_at),
        dateFact('Paused at', subscription.paused_at),
        dateFact('Expires', subscription.status === 'active' ? undefined : subscription.expires_at),
      ],
      details: { label: 'Cancellation comment', text: str(subscription.cancellation_comment) },
      ids: [
        idFact('Subscription', subscription.subscription_id),
        idFact('Customer', subscription.customer?.customer_id),
        idFact('Payment method', subscription.payment_method_id),
      ],
      links: dashboardLinks(['subscription', subscription.subscription_id], ['customer', subscription.customer?.customer_id]),
    },
    envelope,
    options,
  );
}
