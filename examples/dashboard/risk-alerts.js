// Dispute and failed-payment alerts for #risk, in the Dodo dashboard's transformation format.
// It uses a coloured attachment (the side bar) and pings the channel for new disputes.
var REASONS = {
  fraudulent: 'Fraudulent',
  product_not_received: 'Product not received',
  duplicate: 'Duplicate charge',
};

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function alert(color, title, lines) {
  return {
    text: title,
    attachments: [{ color: color, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*' + title + '*\n' + lines.join('\n') } }] }],
  };
}

function handler(webhook) {
  var data = webhook.payload.data;
  if (webhook.eventType === 'dispute.opened') {
    webhook.payload = alert('danger', '<!here> Dispute opened on ' + escape(data.payment_id), [
      'Reason: ' + escape(REASONS[data.reason] || data.reason || 'not given'),
      'Amount: ' + escape(data.amount) + ' (minor units) ' + escape(data.currency),
      data.remarks ? '> ' + escape(data.remarks) : 'No remarks',
    ]);
  } else if (webhook.eventType.indexOf('dispute.') === 0) {
    webhook.payload = alert('warning', 'Dispute ' + escape(data.dispute_id) + ' is now ' + escape(data.dispute_status), [
      'Payment: ' + escape(data.payment_id),
    ]);
  } else if (webhook.eventType === 'payment.failed') {
    webhook.payload = alert('warning', 'Payment failed for ' + escape(data.customer.email), [
      'Code: `' + escape(data.error_code || 'unknown') + '`',
      escape(data.error_message || 'No message'),
    ]);
  } else {
    webhook.cancel = true;
  }
  return webhook;
}
