/**
 * The one source of truth for each default that the construct (lib/), the handlers' fallbacks
 * (when a variable is not set) and `dodo-slack serve` share. test/shared/defaults.test.ts fails
 * when any of the three uses another value.
 */
export const Defaults = {
  /** How far `webhook-timestamp` may be from the receiver's clock, both directions (Standard Webhooks: 5 minutes). */
  timestampToleranceSeconds: 300,
  /** How long the functions cache secret values. */
  secretCacheTtlSeconds: 300,
  /** Deliveries of one message before it is dead-lettered (the queue's maxReceiveCount). */
  maxReceiveCount: 10,
  /** How long a delivered `webhook-id` is remembered: above Dodo's retry span of about 27.6 hours. */
  deduplicationWindowSeconds: 48 * 3600,
  /** Messages per second to one Slack incoming webhook (Slack allows about one per second). */
  deliveryRatePerSecond: 1,
  /** Messages that may go at once before the rate applies (token bucket size). */
  deliveryBurst: 1,
  /** Timeout of one Slack request. */
  slackTimeoutMs: 5_000,
  /** Slack app mode: how long a thread is remembered after its last event (then the next event starts a new one). */
  threadTtlSeconds: 90 * 24 * 3600,
  /** Slack app mode: events whose thread reply is also shown in the channel (`reply_broadcast`): disputes, failures, cancellations. */
  replyBroadcast: ['dispute.*', 'payment.failed', 'refund.failed', 'payout.failed', 'subscription.failed', 'subscription.cancelled', 'subscription.on_hold', 'entitlement_grant.failed'],
  /** Slack app mode: calls per minute to each Tier 3 method (`chat.update`, `conversations.history`, …); Slack allows 50+. */
  slackTier3CallsPerMinute: 50,
  /** Slack app mode: how far back a post whose answer was lost is looked for before it is posted again. */
  slackLookupWindowSeconds: 3600,
  /** Per-event time limit of user transformation code. */
  userCodeTimeoutMs: 1_000,
  /** Time zone of summary periods and posting times (`summaries.timeZone`, `--tz`). */
  summaryTimeZone: 'UTC',
  /**
   * Roll-ups: when a route's backlog would keep an event waiting longer than this
   * (foldable backlog ÷ delivery rate), the route posts one roll-up message for many events.
   * 0 turns roll-ups off.
   */
  rollupAfterSeconds: 30,
  /**
   * Most events one roll-up covers. Each roll-up lists the webhook-ids it covers in its message
   * metadata (about 30 bytes each), so this keeps a roll-up's request well under 32 KB.
   */
  rollupMaxEvents: 500,
  /** Event types that are never folded into a roll-up, whatever the user configures besides. */
  rollupNeverFold: ['dispute.*', 'payout.failed'] as readonly string[],
} as const;
