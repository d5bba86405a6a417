/**
 * The built-in Slack messages for every Dodo event type (`Transformation.builtin(options)`).
 * Pure, synchronous and deterministic: the same envelope and options give the same message.
 */
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import type { KnownNames } from '../../shared/names';
import { canonicalEventType } from '../../shared/event-glob';
import { renderAbandonedCheckout } from './abandoned-checkout';
import { renderCredit } from './credit';
import { renderDispute } from './dispute';
import { renderDunning } from './dunning';
import { renderEntitlementGrant } from './entitlement-grant';
import { renderGeneric } from './generic';
import { renderLicenseKey } from './license-key';
import { renderPayment } from './payment';
import { renderPayout } from './payout';
import { renderRefund } from './refund';
import { renderSubscription } from './subscription';

type FamilyRenderer = (envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions, names?: KnownNames) => SlackMessage;

/** Family (the part of the type before the first dot) → its template. */
const FAMILY_RENDERERS: Readonly<Record<string, FamilyRenderer>> = {
  payment: renderPayment,
  refund: renderRefund,
  dispute: renderDispute,
  subscription: renderSubscription,
  license_key: renderLicenseKey,
  payout: renderPayout,
  credit: renderCredit,
  abandoned_checkout: renderAbandonedCheckout,
  dunning: renderDunning,
  entitlement_grant: renderEntitlementGrant,
};

/**
 * Renders one Dodo event as a Slack message; unknown types get a readable generic message.
 * `names`: what look-ups found about the IDs it carries (product names, an abandoned checkout's
 * payment); without them, or for an ID they do not know, the message shows the ID.
 */
export function renderBuiltinMessage(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions = {}, names?: KnownNames): SlackMessage {
  // The envelope keeps the type Dodo sent (mention globs and the context line use it); families
  // look their events up by the canonical name, so `payout.not_initiated` renders as `payout.created`.
  const type = typeof envelope.type === 'string' ? envelope.type : '';
  const normalised: DodoWebhookEnvelope = {
    ...envelope,
    type,
    data: typeof envelope.data === 'object' && envelope.data !== null ? envelope.data : {},
  };
  const family = canonicalEventType(type).split('.')[0] ?? '';
  const renderer = Object.prototype.hasOwnProperty.call(FAMILY_RENDERERS, family) ? FAMILY_RENDERERS[family] : undefined;
  return renderer === undefined ? renderGeneric(normalised, options) : renderer(normalised, options, names);
}
