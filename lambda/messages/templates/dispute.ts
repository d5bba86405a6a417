/** dispute.opened | expired | accepted | cancelled | challenged | won | lost */
import type { Dispute } from 'dodopayments/resources/disputes';
import type { CustomerLimitedDetails } from 'dodopayments/resources/payments';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { currencyCode, formatMinorUnits } from '../money';
import { asLoose, customerFact, customerLabel, dashboardLinks, idFact, sentence, textFact } from './common';
import { eventStyle, type EventStyle } from './generic';
import { buildMessage, humanize, plain, str } from './layout';

/** Fields real dispute webhooks carry that the SDK's `Dispute` type lacks. */
interface DisputePayload extends Dispute {
  customer?: CustomerLimitedDetails | null;
  reason?: string | null;
  payment_provider?: string | null;
}

const DISPUTE_EVENTS: Readonly<Record<string, EventStyle>> = {
  'dispute.opened': { tone: 'danger', headline: 'Dispute opened' },
  'dispute.challenged': { tone: 'warning', headline: 'Dispute challenged' },
  'dispute.accepted': { tone: 'warning', headline: 'Dispute accepted' },
  'dispute.expired': { tone: 'danger', headline: 'Dispute expired' },
  'dispute.cancelled': { tone: 'good', headline: 'Dispute cancelled' },
  'dispute.won': { tone: 'good', headline: 'Dispute won' },
  'dispute.lost': { tone: 'danger', headline: 'Dispute lost' },
};

/**
 * Dispute `amount` is a string. Like Dodo's own templates we read an integer string as minor units;
 * a decimal string ("29.99") cannot be minor units, so it is shown as written with its currency.
 */
export function formatDisputeAmount(amount: unknown, currency: unknown): string | undefined {
  const minor = formatMinorUnits(amount, currency);
  if (minor !== undefined) return minor;
  const code = currencyCode(currency);
  if (typeof amount === 'string' && /^\s*-?\d+\.\d+\s*$/.test(amount) && code) return `${amount.trim()} ${code}`;
  return undefined;
}

export function renderDispute(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions): SlackMessage {
  const dispute = asLoose<DisputePayload>(envelope.data);
  const event = eventStyle(DISPUTE_EVENTS, envelope.type);
  const amount = formatDisputeAmount(dispute.amount, dispute.currency);
  const who = customerLabel(dispute.customer, options);
  const reason = humanize(dispute.reason);

  return buildMessage(
    {
      tone: event.tone,
      headline: event.headline,
      summary: sentence(amount ?? 'Amount unknown', who && `from ${who}`, reason && `(${reason})`),
      facts: [
        { label: 'Amount', value: plain(amount ?? 'unknown') },
        customerFact(dispute.customer, options),
        textFact('Status', humanize(dispute.dispute_status) ?? 'unknown'),
        textFact('Stage', humanize(dispute.dispute_stage)),
        textFact('Reason', reason, 500),
        textFact('Resolved by RDR', dispute.is_resolved_by_rdr === true ? 'yes' : undefined),
      ],
      details: { label: 'Remarks', text: str(dispute.remarks) },
      ids: [
        idFact('Dispute', dispute.dispute_id),
        idFact('Payment', dispute.payment_id),
        idFact('Customer', dispute.customer?.customer_id),
      ],
      links: dashboardLinks(['dispute', dispute.dispute_id], ['payment', dispute.payment_id]),
    },
    envelope,
    options,
  );
}
