/** entitlement_grant.created | delivered | failed | revoked */
import type { EntitlementGrant } from 'dodopayments/resources/entitlements/grants';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { asLoose, dashboardLinks, idFact, sentence, textFact } from './common';
import { eventStyle, type EventStyle } from './generic';
import { licenseKeyPreview } from './license-key';
import { buildMessage, code, date, humanize, str } from './layout';

/** Real payloads carry `Failed` and `Revoked` statuses the SDK's union lacks. */
interface EntitlementGrantPayload extends Omit<EntitlementGrant, 'status'> {
  status?: string | null;
}

const GRANT_EVENTS: Readonly<Record<string, EventStyle>> = {
  'entitlement_grant.created': { tone: 'info', headline: 'Entitlement granted' },
  'entitlement_grant.delivered': { tone: 'good', headline: 'Entitlement delivered' },
  'entitlement_grant.failed': { tone: 'danger', headline: 'Entitlement delivery failed' },
  'entitlement_grant.revoked': { tone: 'warning', headline: 'Entitlement revoked' },
};

export function renderEntitlementGrant(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions): SlackMessage {
  const grant = asLoose<EntitlementGrantPayload>(envelope.data);
  const event = eventStyle(GRANT_EVENTS, envelope.type);
  const integration = humanize(grant.integration_type);
  const keyPreview = licenseKeyPreview(grant.license_key?.key);
  const revocation = humanize(grant.revocation_reason);

  return buildMessage(
    {
      tone: event.tone,
      headline: event.headline,
      summary: sentence(integration && `${integration} entitlement`, revocation && `revoked: ${revocation}`,
        str(grant.error_code) && `error ${grant.error_code}`),
      facts: [
        textFact('Integration', integration),
        // Dodo title-cases grant statuses (`Delivered`); shown lower-case like every other status.
        textFact('Status', str(grant.status)?.toLowerCase() ?? 'unknown'),
        textFact('Error code', grant.error_code, 200),
        textFact('Revocation reason', revocation, 300),
        { label: 'License key', value: keyPreview ? code(keyPreview) : undefined },
        { label: 'Delivered at', value: date(grant.delivered_at) },
        { label: 'Revoked at', value: date(grant.revoked_at) },
      ],
      details: { label: 'Error', text: str(grant.error_message) },
      ids: [
        idFact('Grant', grant.id),
        idFact('Entitlement', grant.entitlement_id),
        idFact('Customer', grant.customer_id),
        idFact('Payment', grant.payment_id),
        idFact('Subscription', grant.subscription_id),
      ],
      links: dashboardLinks(['customer', grant.customer_id], ['payment', grant.payment_id]),
    },
    envelope,
    options,
  );
}
