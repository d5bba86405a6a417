/**
 * How the construct configures the two functions: the environment variables it sets, the routes
 * it hands the transformer, and the placeholder a secret holds until an operator sets it.
 * `dodo-slack serve` builds the same route shape from its flags.
 */
import type { TransformationSpec } from './transformation';
import type { RouteFilter } from './route-filter';
import type { WebhookMode } from './webhook';

/**
 * Value a secret created by the construct holds until an operator sets it. The receiver answers
 * 503 while the signing secret holds it (Dodo retries), the transformer retries while the Slack
 * secret holds it. Not a secret itself: it is visible in the CloudFormation template on purpose.
 */
export const SECRET_PLACEHOLDER = 'PLACEHOLDER - set this secret in the AWS console (see the README)';

/** Id of the route made of the construct's top-level props (and of the single route of `serve`). */
export const DEFAULT_ROUTE_ID = 'default';

/** A route id: used in construct ids, idempotency keys, logs and dead-letter attributes. */
export const ROUTE_ID_SHAPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;

/** Environment variables the construct sets on the receiver function. */
export const ReceiverEnv = {
  SigningSecretArn: 'SIGNING_SECRET_ARN',
  QueueUrl: 'QUEUE_URL',
  /** JSON array of event-type globs, e.g. `["payment.*","dispute.opened"]`. */
  EventFilter: 'EVENT_FILTER',
  TimestampToleranceSeconds: 'TIMESTAMP_TOLERANCE_SECONDS',
  SecretCacheTtlSeconds: 'SECRET_CACHE_TTL_SECONDS',
} as const;

/** Environment variables the construct sets on the transformer function. */
export const TransformerEnv = {
  /** JSON array of {@link RouteConfig}. */
  Routes: 'ROUTES',
  QueueUrl: 'QUEUE_URL',
  DeadLetterQueueUrl: 'DEAD_LETTER_QUEUE_URL',
  IdempotencyTableName: 'IDEMPOTENCY_TABLE_NAME',
  DeduplicationWindowSeconds: 'DEDUPLICATION_WINDOW_SECONDS',
  SecretCacheTtlSeconds: 'SECRET_CACHE_TTL_SECONDS',
  MaxReceiveCount: 'MAX_RECEIVE_COUNT',
  SlackTimeoutMs: 'SLACK_TIMEOUT_MS',
  /** Messages per second one transformer instance may post to one Slack URL. */
  DeliveryRatePerSecond: 'DELIVERY_RATE_PER_SECOND',
  DeliveryBurst: 'DELIVERY_BURST',
  /** Slack app mode: the DynamoDB table of threads and cards (set when a route has a bot token). */
  ThreadTableName: 'THREAD_TABLE_NAME',
  ThreadTtlSeconds: 'THREAD_TTL_SECONDS',
  /** Slack app mode: calls per minute this instance makes to each Tier 3 method. */
  SlackTier3CallsPerMinute: 'SLACK_TIER3_CALLS_PER_MINUTE',
  /** The summaries' aggregate table; unset when the construct has no `summaries`. */
  SummaryTableName: 'SUMMARY_TABLE_NAME',
  /** Seconds of predicted wait after which a route folds its backlog into roll-ups; 0 = off. */
  RollupAfterSeconds: 'ROLLUP_AFTER_SECONDS',
  /** Comma-separated event-type globs never folded, besides Defaults.rollupNeverFold. */
  RollupNeverFold: 'ROLLUP_NEVER_FOLD',
  /** ARN of the secret holding a Dodo API key (names for IDs); unset = messages show IDs. */
  DodoApiKeySecretArn: 'DODO_API_KEY_SECRET_ARN',
  /** Dodo API base URL for both modes; unset = Dodo's host of the webhook's mode. */
  DodoApiUrl: 'DODO_API_URL',
} as const;

/** Key attributes of the summaries' table (the construct creates it, lambda/summaries/dynamodb-aggregates.ts uses it). */
export const SummaryTableKey = { partition: 'pk', sort: 'sk' } as const;

/** Environment variables the construct sets on the summary function. */
export const SummariesEnv = {
  SummaryTableName: 'SUMMARY_TABLE_NAME',
  /** The transformer's queue: summaries go through the same delivery path as events. */
  QueueUrl: 'QUEUE_URL',
  /** As the transformer's: the top products are named. */
  DodoApiKeySecretArn: 'DODO_API_KEY_SECRET_ARN',
  DodoApiUrl: 'DODO_API_URL',
} as const;

/** Environment variables the construct sets on the alerts function. */
export const AlertsEnv = {
  /** The summaries' table: the counters the rules read and the open episodes. */
  SummaryTableName: 'SUMMARY_TABLE_NAME',
  QueueUrl: 'QUEUE_URL',
  /** Route the alerts post to. */
  RouteId: 'ALERT_ROUTE_ID',
  /** JSON of the rules and thresholds (lambda/alerts/rules.ts AlertSettings). */
  Settings: 'ALERT_SETTINGS',
} as const;

/** One destination channel: which events, which Slack secret, which transformation. */
export interface RouteConfig {
  /** Stable id, used in idempotency keys, logs and dead-letter attributes. `default` for the top-level route. */
  readonly id: string;
  /** Event-type globs this route takes. */
  readonly events: readonly string[];
  /**
   * ARN (on AWS) or name of the secret that holds this route's Slack incoming-webhook URL, or, when
   * `slackChannelId` is set, its Slack bot token (app mode: threads and live cards).
   */
  readonly slackSecretId: string;
  /** App mode: the channel ID (`C…`) the bot posts to; the secret then holds a bot token (`xoxb-…`). */
  readonly slackChannelId?: string;
  /** App mode: event-type globs whose thread replies are also broadcast to the channel (`reply_broadcast`). */
  readonly replyBroadcast?: readonly string[];
  readonly transformation: TransformationSpec;
  /** Conditions on the event's envelope the route takes (see route-filter.ts). @default {} (every event its globs match) */
  readonly filter?: RouteFilter;
  /** Modes the route takes. @default both */
  readonly modes?: readonly WebhookMode[];
  /** Mentions added to the route's messages when their filter holds. @default none */
  readonly mentions?: readonly RouteMention[];
}

/** A mention a route adds to a message whose event matches `filter`. */
export interface RouteMention {
  /** `@here`, `@channel`, a user ID (`U…`/`W…`) or a user-group ID (`S…`). */
  readonly mention: string;
  /** @default {} (every message of the route) */
  readonly filter?: RouteFilter;
}
