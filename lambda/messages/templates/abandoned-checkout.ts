/** abandoned_checkout.detected | recovered */
import type { AbandonedCheckoutDetectedWebhookEvent } from 'dodopayments/resources/webhooks/webhooks';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { formatMinorUnits } from '../money';
import type { KnownNames } from '../../shared/names';
import { asLoose, customerFact, customerLabel, dashboardLinks, idFact, moneyFact, productsFact, sentence, textFact } from './common';
import { eventStyle, type EventStyle } from './generic';
import { buildMessage, date, humanize } from './layout';

const ABANDONED_CHECKOUT_EVENTS: Readonly<Record<string, EventStyle>> = {
  'abandoned_checkout.detected': { tone: 'warning', headline: 'Checkout abandoned' },
  'abandoned_checkout.recovered': { tone: 'good', headline: 'Abandoned checkout recovered' },
};

export function renderAbandonedCheckout(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions, names?: KnownNames): SlackMessage {
  const checkout = asLoose<AbandonedCheckoutDetectedWebhookEvent['data']>(envelope.data);
  const event = eventStyle(ABANDONED_CHECKOUT_EVENTS, envelope.type);
  const reason = humanize(checkout.abandonment_reason);
  // The payload names the payment only; a look-up may have found what it was for and by whom.
  const payment = typeof checkout.payment_id === 'string' ? names?.payments?.[checkout.payment_id] : undefined;
  const amount = payment && formatMinorUnits(payment.totalAmount, payment.currency);
  const who = payment && customerLabel(payment.customer, options);

  return buildMessage(
    {
      tone: event.tone,
      headline: event.headline,
      summary: sentence(amount, who && `from ${who}`, (amount || who) && reason ? '·' : undefined, reason && `Reason: ${reason}`, checkout.recovered_payment_id ? '· recovered by a new payment' : undefined),
      facts: payment === undefined ? [
        textFact('Reason', reason ?? 'unknown'),
        textFact('Status', humanize(checkout.status) ?? 'unknown'),
        { label: 'Abandoned at', value: date(checkout.abandoned_at) },
      ] : [
        moneyFact('Amount', payment.totalAmount, payment.currency),
        customerFact(payment.customer, options),
        productsFact(payment.productCart, names),
        textFact('Reason', reason ?? 'unknown'),
        textFact('Status', humanize(checkout.status) ?? 'unknown'),
        { label: 'Abandoned at', value: date(checkout.abandoned_at) },
      ],
      ids: [
        idFact('Payment', checkout.payment_id),
        idFact('Recovered by payment', checkout.recovered_payment_id),
        idFact('Customer', checkout.customer_id),
      ],
      links: dashboardLinks(['payment', checkout.recovered_payment_id ?? checkout.payment_id], ['customer', checkout.customer_id]),
    },
    envelope,
    options,
  );
}
