/** payment.succeeded | failed | processing | cancelled */
import type { Payment } from 'dodopayments/resources/payments';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import type { KnownNames } from '../../shared/names';
import { formatMinorUnits } from '../money';
import { asLoose, customerFact, dashboardLinks, customerLabel, idFact, moneyFact, optionalMoneyFact, productsFact, sentence, textFact } from './common';
import { eventStyle, type EventStyle } from './generic';
import { buildMessage, humanize, plain, str } from './layout';

const PAYMENT_EVENTS: Readonly<Record<string, EventStyle>> = {
  'payment.succeeded': { tone: 'good', headline: 'Payment succeeded' },
  'payment.failed': { tone: 'danger', headline: 'Payment failed' },
  'payment.processing': { tone: 'info', headline: 'Payment processing' },
  'payment.cancelled': { tone: 'warning', headline: 'Payment cancelled' },
};

/** "VISA •••• 4242 (credit)", or the payment method type when there is no card. */
function paymentMethod(payment: ReturnType<typeof asLoose<Payment>>): string | undefined {
  const network = str(payment.card_network);
  const lastFour = str(payment.card_last_four);
  if (network || lastFour) {
    const type = str(payment.card_type);
    return sentence(network, lastFour && `•••• ${lastFour}`, type && `(${type.toLowerCase()})`);
  }
  return humanize(payment.payment_method_type) ?? humanize(payment.payment_method);
}

export function renderPayment(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions, names?: KnownNames): SlackMessage {
  const payment = asLoose<Payment>(envelope.data);
  const event = eventStyle(PAYMENT_EVENTS, envelope.type);
  const amount = formatMinorUnits(payment.total_amount, payment.currency);
  const who = customerLabel(payment.customer, options);
  const failure = str(payment.error_code);

  return buildMessage(
    {
      tone: event.tone,
      headline: event.headline,
      summary: sentence(amount ?? 'Amount unknown', who && `from ${who}`, envelope.type === 'payment.failed' && failure && `(${failure})`),
      facts: [
        moneyFact('Amount', payment.total_amount, payment.currency, payment.settlement_amount, payment.settlement_currency ?? undefined),
        customerFact(payment.customer, options),
        productsFact(payment.product_cart, names),
        textFact('Status', humanize(payment.status) ?? 'unknown'),
        { label: 'Payment method', value: (() => { const method = paymentMethod(payment); return method ? plain(method) : undefined; })() },
        optionalMoneyFact('Tax', payment.tax, payment.currency),
        textFact('Error code', payment.error_code, 200),
        textFact('Retry attempt', typeof payment.retry_attempt === 'number' && payment.retry_attempt > 0 ? payment.retry_attempt : undefined),
      ],
      details: { label: 'Reason', text: str(payment.error_message) },
      ids: [
        idFact('Payment', payment.payment_id),
        idFact('Customer', payment.customer?.customer_id),
        idFact('Subscription', payment.subscription_id),
        idFact('Invoice', payment.invoice_id),
        idFact('Checkout', payment.checkout_session_id),
      ],
      links: dashboardLinks(['payment', payment.payment_id], ['customer', payment.customer?.customer_id]),
    },
    envelope,
    options,
  );
}
