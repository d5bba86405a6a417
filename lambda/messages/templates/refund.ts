/** refund.succeeded | failed */
import type { Refund } from 'dodopayments/resources/refunds';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { formatMinorUnits } from '../money';
import { asLoose, customerFact, customerLabel, dashboardLinks, idFact, moneyFact, sentence, textFact } from './common';
import { eventStyle, type EventStyle } from './generic';
import { buildMessage, humanize, str } from './layout';

const REFUND_EVENTS: Readonly<Record<string, EventStyle>> = {
  'refund.succeeded': { tone: 'warning', headline: 'Refund issued' },
  'refund.failed': { tone: 'danger', headline: 'Refund failed' },
};

export function renderRefund(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions): SlackMessage {
  const refund = asLoose<Refund>(envelope.data);
  const event = eventStyle(REFUND_EVENTS, envelope.type);
  // amount and currency are nullable: an unknown refund amount must not read as "$0.00".
  const amount = formatMinorUnits(refund.amount, refund.currency);
  const who = customerLabel(refund.customer, options);
  const partial = refund.is_partial === true ? 'partial' : refund.is_partial === false ? 'full' : undefined;

  return buildMessage(
    {
      tone: event.tone,
      headline: event.headline,
      summary: sentence(amount ?? 'Amount unknown', partial && `(${partial})`, who && `to ${who}`),
      facts: [
        moneyFact('Amount', refund.amount, refund.currency),
        customerFact(refund.customer, options),
        textFact('Status', humanize(refund.status) ?? 'unknown'),
        textFact('Refund type', partial),
      ],
      details: { label: 'Reason', text: str(refund.reason) },
      ids: [
        idFact('Refund', refund.refund_id),
        idFact('Payment', refund.payment_id),
        idFact('Customer', refund.customer?.customer_id),
      ],
      links: dashboardLinks(['refund', refund.refund_id], ['payment', refund.payment_id]),
    },
    envelope,
    options,
  );
}
