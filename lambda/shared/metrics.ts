/**
 * The CloudWatch metrics the handlers emit (Powertools EMF) and the construct's metric() reads:
 * one namespace, one `service` dimension per function, one name per metric.
 */

/** Namespace of every custom CloudWatch metric the handlers emit (EMF) and the construct reads. */
export const METRICS_NAMESPACE = 'DodoSlackNotifier';

/**
 * `POWERTOOLS_SERVICE_NAME` of each function. Powertools Metrics adds it to every metric as the
 * `service` dimension, so the construct's metric() methods must use the same value.
 */
export const ServiceName = {
  Receiver: 'dodo-slack-receiver',
  Transformer: 'dodo-slack-transformer',
  Summaries: 'dodo-slack-summaries',
  Alerts: 'dodo-slack-alerts',
} as const;
export type ServiceName = (typeof ServiceName)[keyof typeof ServiceName];

/** Custom metric names. The construct's metric() methods and the handlers use these, nothing else. */
export const MetricName = {
  // receiver
  WebhookReceived: 'WebhookReceived',
  WebhookQueued: 'WebhookQueued',
  WebhookIgnored: 'WebhookIgnored',
  SignatureFailure: 'SignatureFailure',
  InvalidPayload: 'InvalidPayload',
  PayloadTooLarge: 'PayloadTooLarge',
  ReceiverUnavailable: 'ReceiverUnavailable',
  // transformer
  MessageDelivered: 'MessageDelivered',
  MessageSkipped: 'MessageSkipped',
  DuplicateSuppressed: 'DuplicateSuppressed',
  DeliveryRetried: 'DeliveryRetried',
  SlackRateLimited: 'SlackRateLimited',
  MessageDeadLettered: 'MessageDeadLettered',
  TransformationError: 'TransformationError',
  /** Roll-up messages posted (one per roll-up). */
  RollupPosted: 'RollupPosted',
  /** Events covered by roll-ups (each also counted once, never as MessageDelivered). */
  EventsRolledUp: 'EventsRolledUp',
  /** Milliseconds from the webhook's timestamp to Slack's 200 `ok`. */
  DeliveryLatency: 'DeliveryLatency',
  /** Dodo API look-ups (names for IDs) that failed: timeout, 4xx, 5xx, unusable key; the message showed the IDs. */
  NameLookupFailed: 'NameLookupFailed',
  /** Messages that did not wait for look-ups because the API failed moments ago (the circuit is open). */
  NameLookupSkipped: 'NameLookupSkipped',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];
