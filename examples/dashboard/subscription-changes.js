// Subscription changes for #ops, in the Dodo dashboard's transformation format.
// Like many dashboard transformations, its switch has no default case: an event type it does not
// handle comes back as the raw Dodo payload. Our pipeline refuses to post that and dead-letters the
// event with a reason, instead of posting garbage to Slack (see docs/transformations.md).
var seen = 0; // module-level state: kept between events on one warm instance only

function handler(webhook) {
  var sub = webhook.payload.data;
  seen += 1;
  switch (webhook.eventType) {
    case 'subscription.active':
      webhook.payload = { text: ':tada: Subscription ' + sub.subscription_id + ' is active (' + sub.payment_frequency_interval.toLowerCase() + 'ly)' };
      break;
    case 'subscription.cancelled':
      webhook.payload = {
        text: ':wave: Subscription ' + sub.subscription_id + ' cancelled' +
          (sub.cancellation_feedback ? ' (feedback: ' + sub.cancellation_feedback.replace(/_/g, ' ') + ')' : ''),
      };
      break;
    case 'subscription.plan_changed':
      webhook.payload = { text: ':arrows_counterclockwise: Subscription ' + sub.subscription_id + ' moved to product ' + sub.product_id };
      break;
    case 'subscription.on_hold':
      console.log('on hold', sub.subscription_id, 'events seen by this instance:', seen);
      webhook.payload = { text: ':warning: Subscription ' + sub.subscription_id + ' is on hold: payment needed' };
      break;
  }
  return webhook;
}
