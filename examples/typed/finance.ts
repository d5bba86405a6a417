/**
 * A typed transformation for a #finance channel: `Transformation.fromModule('examples/typed/finance.ts')`.
 * `event` is the dodopayments SDK's union of webhook events, so `switch (event.type)` narrows
 * `event.data` to the right shape and a typo in a field name fails to compile.
 * (In your own app, import the types from 'dodo-slack-notifier' instead of '../../lib'.)
 */
import type { SlackMessage, TypedTransform } from '../../lib';

/** ISO 4217 minor units that are not 2; amounts are integers in the minor unit. */
const MINOR_UNITS: Readonly<Record<string, number>> = { JPY: 0, KRW: 0, VND: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 };

function money(minor: number, currency: string): string {
  const digits = MINOR_UNITS[currency] ?? 2;
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function line(emoji: string, text: string): SlackMessage {
  return { text: `${emoji} ${text}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `${emoji} ${text}` } }] };
}

export const transform: TypedTransform = (event, { webhookId }) => {
  switch (event.type) {
    case 'payout.success':
      return line(':bank:', `Payout ${money(event.data.amount, event.data.currency)} to *${escape(event.data.name ?? 'your bank')}* arrived`);
    case 'payout.failed':
      return line(':rotating_light:', `Payout ${money(event.data.amount, event.data.currency)} failed (\`${escape(event.data.payout_id)}\`)`);
    case 'refund.succeeded':
      return line(
        ':leftwards_arrow_with_hook:',
        event.data.amount == null || event.data.currency == null
          ? `Refund for \`${escape(event.data.payment_id)}\` (amount unknown)`
          : `Refund ${money(event.data.amount, event.data.currency)} for \`${escape(event.data.payment_id)}\``,
      );
    case 'payment.succeeded':
      // Settlement can be in another currency than the charge.
      return line(
        ':moneybag:',
        `${money(event.data.total_amount, event.data.currency)} settled as ${money(event.data.settlement_amount, event.data.settlement_currency)} (webhook ${escape(webhookId)})`,
      );
    default:
      return null; // not for #finance
  }
};
