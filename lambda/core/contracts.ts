/**
 * The contracts every part of the notifier agrees on: the construct (lib/), the Lambda adapters
 * (lambda/receiver, lambda/transformer), the local workbench (bin/dodo-slack.ts) and the pure core.
 *
 * This module imports nothing with side effects and nothing from AWS: it is safe to import from
 * CDK code, Lambda code and tests alike.
 */

/** Namespace of every custom CloudWatch metric the handlers emit (EMF) and the construct reads. */
export const METRICS_NAMESPACE = 'DodoSlackNotifier';

/**
 * `POWERTOOLS_SERVICE_NAME` of each function. Powertools Metrics adds it to every metric as the
 * `service` dimension, so the construct's metricXxx() methods must use the same value.
 */
export const ServiceName = {
  Receiver: 'dodo-slack-receiver',
  Transformer: 'dodo-slack-transformer',
} as const;

/** Custom metric names. The construct's metricXxx() methods and the handlers use these, nothing else. */
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
  /** Milliseconds from the webhook's timestamp to Slack's 200 `ok`. */
  DeliveryLatency: 'DeliveryLatency',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/**
 * Value a secret created by the construct holds until an operator sets it. The receiver answers
 * 503 while the signing secret holds it (Dodo retries), the transformer retries while the Slack
 * secret holds it. Not a secret itself: it is visible in the CloudFormation template on purpose.
 */
export const SECRET_PLACEHOLDER = 'PLACEHOLDER - set this secret in the AWS console (see the README)';

/** Path Dodo posts to, on API Gateway and on the local server. */
export const WEBHOOK_PATH = '/webhooks/dodo';

/**
 * Largest raw webhook body the receiver accepts (bytes). SQS takes 256 KiB per message including
 * attributes; this leaves room for them. Larger bodies get 413.
 */
export const MAX_BODY_BYTES = 200 * 1024;

/** SQS message attributes on every queued webhook (and kept on dead letters). */
export const MessageAttribute = {
  WebhookId: 'webhook-id',
  WebhookTimestamp: 'webhook-timestamp',
  EventType: 'event-type',
  /** Added on dead letters: why delivery stopped. */
  DeadLetterReason: 'dead-letter-reason',
  /** Added on dead letters: how many delivery attempts were made. */
  DeadLetterAttempts: 'dead-letter-attempts',
  /** Added on dead letters: the last Slack answer, e.g. `404 channel_not_found` (never the URL). */
  DeadLetterLastSlackResponse: 'dead-letter-last-slack-response',
  /** Added on dead letters: the route id whose delivery failed (other routes may have succeeded). */
  DeadLetterRoute: 'dead-letter-route',
} as const;

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
} as const;

/** Options of the built-in templates (`Transformation.builtin(options)`). */
export interface BuiltinTemplateOptions {
  /** Show customer emails as `a***@example.com`. @default false */
  readonly maskCustomerEmails?: boolean;
  /** Leave customer names out of messages. @default false */
  readonly hideCustomerNames?: boolean;
  /** Base URL of the Dodo dashboard; when set, messages get "Open in Dodo" link buttons. @default - no buttons */
  readonly dashboardBaseUrl?: string;
  /**
   * Mentions to prepend per event-type glob, e.g. `{ 'dispute.opened': '<!here>' }`.
   * These are trusted operator configuration and are not escaped. @default - none
   */
  readonly mentions?: Readonly<Record<string, string>>;
}

/**
 * How one route turns an event into a Slack message; serialisable, so the construct can hand it
 * to the transformer function. `code` transformations reference code embedded into the bundle
 * (see lambda/core/transform-runner.ts) by `codeId`.
 */
export type TransformationSpec =
  | { readonly kind: 'builtin'; readonly options: BuiltinTemplateOptions }
  | { readonly kind: 'code'; readonly codeId: string; readonly timeoutMs: number };

/** One destination channel: which events, which Slack secret, which transformation. */
export interface RouteConfig {
  /** Stable id, used in idempotency keys, logs and dead-letter attributes. `default` for the top-level route. */
  readonly id: string;
  /** Event-type globs this route takes. */
  readonly events: readonly string[];
  /** ARN (on AWS) or name of the secret that holds this route's Slack incoming-webhook URL. */
  readonly slackSecretId: string;
  readonly transformation: TransformationSpec;
}

/** The Dodo webhook envelope (`data` is typed per event family by the templates). */
export interface DodoWebhookEnvelope {
  readonly business_id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
}

/** A verified webhook as it travels through the queue (SQS body = `body`, the rest = attributes). */
export interface QueuedWebhook {
  readonly webhookId: string;
  /** Unix seconds, as Dodo sent it in `webhook-timestamp`. */
  readonly webhookTimestamp: string;
  readonly eventType: string;
  /** The raw body exactly as Dodo sent it. */
  readonly body: string;
}

/**
 * A Slack incoming-webhook message. Block and attachment shapes come from `@slack/types`, so a
 * template with a wrong field fails to compile.
 */
export interface SlackMessage {
  /** Notification fallback (phones, screen readers); required by us even when blocks are present. */
  readonly text: string;
  readonly blocks?: import('@slack/types').KnownBlock[];
  readonly attachments?: import('@slack/types').MessageAttachment[];
  readonly unfurl_links?: boolean;
  readonly unfurl_media?: boolean;
}

/** What a transformation gets for one event. */
export interface TransformInput {
  readonly webhookId: string;
  readonly eventType: string;
  /** The parsed Dodo body. */
  readonly envelope: DodoWebhookEnvelope;
  /** The raw Dodo body, exactly as received. */
  readonly rawBody: string;
  /** Standard Webhooks headers of the original request (`webhook-id`, `webhook-timestamp`). */
  readonly headers: Readonly<Record<string, string>>;
}

/** What a transformation decided for one event. A failure is a rejected promise with a TransformationError. */
export type TransformOutcome =
  | { readonly kind: 'message'; readonly message: SlackMessage }
  | { readonly kind: 'skip'; readonly reason: string };

export type Transform = (input: TransformInput) => Promise<TransformOutcome>;

/** Logging port of the pure core (Powertools Logger fits it; tests pass a recorder). Never pass secrets. */
export interface CoreLogger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Metrics port of the pure core (Powertools Metrics on Lambda, counters locally). */
export interface CoreMetrics {
  count(name: MetricName, value?: number): void;
  milliseconds(name: MetricName, value: number): void;
}

/** Does nothing: for callers that do not care about logs or metrics. */
export const silentLogger: CoreLogger = { debug() {}, info() {}, warn() {}, error() {} };
export const noMetrics: CoreMetrics = { count() {}, milliseconds() {} };
