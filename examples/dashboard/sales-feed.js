// Sales feed for #sales, in the Dodo dashboard's transformation format: paste it into the
// dashboard or pass it to Transformation.fromFile() unchanged.
// Money is in the currency's minor unit; not every currency has 2 decimals (JPY 0, KWD 3).
var DECIMALS = { JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, UGX: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3 };

function money(minor, currency) {
  var digits = currency in DECIMALS ? DECIMALS[currency] : 2;
  return (minor / Math.pow(10, digits)).toFixed(digits) + ' ' + currency;
}

// Customer names and emails are payload text: escape what Slack treats as markup.
function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function handler(webhook) {
  var data = webhook.payload.data;
  switch (webhook.eventType) {
    case 'payment.succeeded':
      webhook.payload = {
        text: 'New sale: ' + money(data.total_amount, data.currency) + ' from ' + escape(data.customer.email),
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: 'New sale ' + money(data.total_amount, data.currency) } },
          {
            type: 'section',
            fields: [
              { type: 'mrkdwn', text: '*Customer*\n' + escape(data.customer.name) + ' (' + escape(data.customer.email) + ')' },
              { type: 'mrkdwn', text: '*Payment*\n`' + escape(data.payment_id) + '`' },
            ],
          },
        ],
      };
      break;

    case 'refund.succeeded':
      webhook.payload = {
        text: 'Refund of ' + (data.amount === null ? 'an unknown amount' : money(data.amount, data.currency)) +
          ' for payment ' + escape(data.payment_id) + (data.reason ? ': ' + escape(data.reason) : ''),
      };
      break;

    default:
      // Everything else is for other channels.
      webhook.cancel = true;
  }
  return webhook;
}
