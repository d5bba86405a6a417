/** license_key.created */
import type { LicenseKey } from 'dodopayments/resources/license-keys';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { productName, type KnownNames } from '../../shared/names';
import { asLoose, dashboardLinks, idFact, productLabel, sentence, textFact } from './common';
import { describeEventType } from './generic';
import { buildMessage, code, date, humanize, str } from './layout';

/**
 * The most of a license key we ever post: a short prefix and an ellipsis (`3F9A…`), enough to
 * match a customer's ticket, useless to an attacker. Short keys show no prefix at all.
 */
export function licenseKeyPreview(key: unknown): string | undefined {
  const text = str(key);
  if (!text) return undefined;
  const prefixLength = Math.min(4, Math.floor(text.length / 4));
  return `${text.slice(0, prefixLength)}…`;
}

/** "1 of 3", "0 (unlimited)". */
function activations(used: unknown, limit: unknown): string | undefined {
  const usedCount = typeof used === 'number' ? used : undefined;
  const limitCount = typeof limit === 'number' ? limit : undefined;
  if (usedCount === undefined && limitCount === undefined) return undefined;
  if (limitCount === undefined) return `${usedCount} (no limit)`;
  return `${usedCount ?? 0} of ${limitCount}`;
}

export function renderLicenseKey(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions, names?: KnownNames): SlackMessage {
  const licenseKey = asLoose<LicenseKey>(envelope.data);
  const headline = envelope.type === 'license_key.created' ? 'License key issued' : describeEventType(envelope.type);
  const preview = licenseKeyPreview(licenseKey.key);
  const product = str(licenseKey.product_id);

  return buildMessage(
    {
      tone: 'info',
      headline,
      summary: sentence(preview && `Key ${preview}`, product && `for product ${(names && productName(names, product)) ?? product}`),
      facts: [
        { label: 'Key', value: preview ? code(preview) : undefined },
        { label: 'Product', value: product ? productLabel(product, names) : undefined },
        textFact('Status', humanize(licenseKey.status) ?? 'unknown'),
        textFact('Activations', activations(licenseKey.instances_count, licenseKey.activations_limit)),
        { label: 'Expires', value: date(licenseKey.expires_at) ?? (licenseKey.expires_at === null ? code('never') : undefined) },
        textFact('Source', humanize(licenseKey.source)),
      ],
      ids: [
        idFact('License key', licenseKey.id),
        idFact('Customer', licenseKey.customer_id),
        idFact('Payment', licenseKey.payment_id),
        idFact('Subscription', licenseKey.subscription_id),
      ],
      links: dashboardLinks(['licenseKey', licenseKey.id], ['customer', licenseKey.customer_id]),
    },
    envelope,
    options,
  );
}
