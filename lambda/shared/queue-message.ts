/** The format of a queued webhook as an SQS message, shared by the receiver, the transformer and redrives. */

/** SQS message attributes on every queued webhook (and kept on dead letters). */
export const MessageAttribute = {
  WebhookId: 'webhook-id',
  WebhookTimestamp: 'webhook-timestamp',
  EventType: 'event-type',
  /** `test` when a test-mode signing key verified the webhook; absent for live. */
  WebhookMode: 'webhook-mode',
  /** `true` on a precomposed message (a scheduled summary); the receiver never sets it. */
  Precomposed: 'dodo-slack-precomposed',
  /** Added on dead letters: why delivery stopped. */
  DeadLetterReason: 'dead-letter-reason',
  /** Added on dead letters: how many delivery attempts were made. */
  DeadLetterAttempts: 'dead-letter-attempts',
  /** Added on dead letters: the last Slack answer, e.g. `404 channel_not_found` (never the URL). */
  DeadLetterLastSlackResponse: 'dead-letter-last-slack-response',
  /** Added on dead letters: the route id whose delivery failed (other routes may have succeeded). */
  DeadLetterRoute: 'dead-letter-route',
} as const;
