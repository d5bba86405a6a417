/** dunning.started | recovered */
import type { DunningStartedWebhookEvent } from 'dodopayments/resources/webhooks/webhooks';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { asLoose, dashboardLinks, idFact, sentence, textFact } from './common';
import { eventStyle, type EventStyle } from './generic';
import { buildMessage, date, humanize } from './layout';

const DUNNING_EVENTS: Readonly<Record<string, EventStyle>> = {
  'dunning.started': { tone: 'warning', headline: 'Dunning started' },
  'dunning.recovered': { tone: 'good', headline: 'Dunning recovered the subscription' },
};

export function renderDunning(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions): SlackMessage {
  const attempt = asLoose<DunningStartedWebhookEvent['data']>(envelope.data);
  const event = eventStyle(DUNNING_EVENTS, envelope.type);
  const trigger = humanize(attempt.trigger_state);

  return buildMessage(
    {
      tone: event.tone,
      headline: event.headline,
      summary: sentence(trigger && `Subscription went ${trigger};`, `dunning is ${humanize(attempt.status) ?? 'in an unknown state'}`),
      facts: [
        textFact('Status', humanize(attempt.status) ?? 'unknown'),
        textFact('Triggered by', trigger),
        { label: 'Started', value: date(attempt.created_at) },
      ],
      ids: [
        idFact('Subscription', attempt.subscription_id),
        idFact('Customer', attempt.customer_id),
        idFact('Payment', attempt.payment_id),
      ],
      links: dashboardLinks(['subscription', attempt.subscription_id], ['customer', attempt.customer_id]),
    },
    envelope,
    options,
  );
}
