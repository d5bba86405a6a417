/** payout.created (formerly payout.not_initiated) | on_hold | in_progress | failed | success */
import type { PayoutCreatedWebhookEvent } from 'dodopayments/resources/webhooks/webhooks';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { canonicalEventType } from '../../shared/event-glob';
import { formatMinorUnits } from '../money';
import { asLoose, dashboardLinks, idFact, moneyFact, optionalMoneyFact, sentence, textFact } from './common';
import { eventStyle, type EventStyle } from './generic';
import { buildMessage, date, humanize, str } from './layout';

type PayoutPayload = PayoutCreatedWebhookEvent['data'];

const PAYOUT_EVENTS: Readonly<Record<string, EventStyle>> = {
  'payout.created': { tone: 'info', headline: 'Payout created' },
  'payout.in_progress': { tone: 'info', headline: 'Payout in progress' },
  'payout.on_hold': { tone: 'warning', headline: 'Payout on hold' },
  'payout.failed': { tone: 'danger', headline: 'Payout failed' },
  'payout.success': { tone: 'good', headline: 'Payout sent' },
};

export function renderPayout(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions): SlackMessage {
  const payout = asLoose<PayoutPayload>(envelope.data);
  const event = eventStyle(PAYOUT_EVENTS, envelope.type);
  const amount = formatMinorUnits(payout.amount, payout.currency);
  const status = humanize(payout.status);
  // Payout events are not ordered: say so when the payload's state disagrees with the event.
  const eventStatus = canonicalEventType(envelope.type).split('.')[1]?.replace(/_/g, ' ');
  const stateNote = status && eventStatus && status !== eventStatus && !(eventStatus === 'created' && status === 'not initiated')
    ? `(now ${status})` : undefined;

  return buildMessage(
    {
      tone: event.tone,
      headline: event.headline,
      summary: sentence(amount ?? 'Amount unknown', str(payout.name) && `to ${payout.name}`, stateNote),
      facts: [
        moneyFact('Amount', payout.amount, payout.currency),
        textFact('Recipient', payout.name, 300),
        textFact('Status', status ?? 'unknown'),
        textFact('Method', humanize(payout.payment_method)),
        optionalMoneyFact('Fee', payout.fee, payout.currency),
        { label: 'Created', value: date(payout.created_at) },
        { label: 'Updated', value: date(payout.updated_at) },
      ],
      details: { label: 'Remarks', text: str(payout.remarks) },
      ids: [idFact('Payout', payout.payout_id)],
      links: dashboardLinks(['payout', payout.payout_id]),
    },
    envelope,
    options,
  );
}
