/**
 * What a user configures: the props of {@link DodoSlackNotifier}, its routes, and the checks that
 * refuse a bad configuration at synth time instead of at the first webhook.
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { globProblems } from '../lambda/shared/event-glob';
import { DEFAULT_ROUTE_ID, ROUTE_ID_SHAPE, type RouteMention } from '../lambda/shared/function-env';
import type { RouteFilter } from '../lambda/shared/route-filter';
import { routeRuleProblems } from '../lambda/shared/route-rules';
import type { WebhookMode } from '../lambda/shared/webhook';
import { Limits, withinLimit, type Limit } from '../lambda/shared/limits';
import { summariesProblems, type DodoSlackSummaries } from './summaries';
import { alertsProblems, type DodoSlackAlerts } from './alerts';
import type { Transformation } from './transformation';
import { slackAppProblems } from './slack-app';

/**
 * API Gateway's stage-wide steady rate when `throttlingRateLimit` is not set. The endpoint is
 * public and a forged request still runs the receiver (to be answered 401): the limit caps what a
 * flood of them costs.
 */
export const DEFAULT_THROTTLING_RATE_LIMIT = 50;
/** Requests allowed in a burst above the steady rate when `throttlingBurstLimit` is not set. */
export const DEFAULT_THROTTLING_BURST_LIMIT = 100;
/** The transformer's memory, MB, when `transformerMemorySize` is not set and every route uses the built-in templates. */
export const DEFAULT_TRANSFORMER_MEMORY_SIZE = 256;
/**
 * The transformer's memory, MB, when a route runs user code, and the least it may have then: the
 * sandbox lets one event grow the process by up to USER_CODE_MEMORY_GROWTH_MB (192) above the
 * function's own ~100 MB, which 256 MB cannot hold (the function would be killed with its batch).
 */
export const USER_CODE_TRANSFORMER_MEMORY_SIZE = 512;

/** One more Slack channel: the events it takes, its incoming webhook, and how its messages look. */
export interface DodoSlackRoute {
  /**
   * Stable identifier: letters and digits, starting with a letter (e.g. `Risk`, `Sales`). Used in
   * construct ids, idempotency keys, logs and dead-letter attributes; changing it re-delivers
   * events already deduplicated under the old id. `default` is reserved for the top-level route.
   */
  readonly id: string;
  /** Event-type globs this route takes, e.g. `['dispute.*']`. */
  readonly events: string[];
  /**
   * Secret holding this channel's Slack incoming-webhook URL (plain URL or JSON `{"url": "…"}`).
   * Set exactly one of this and `slackBotTokenSecret`.
   * @default - none; then `slackBotTokenSecret` and `slackChannelId` are required
   */
  readonly slackWebhookSecret?: secretsmanager.ISecret;
  /**
   * Slack app mode (see README "Threads and live cards"): secret holding a bot token (`xoxb-…`,
   * plain or JSON `{"token": "…"}`), instead of `slackWebhookSecret`. With it, each payment,
   * subscription and payout gets one thread whose parent is a card kept up to date.
   * @default - none (incoming webhook)
   */
  readonly slackBotTokenSecret?: secretsmanager.ISecret;
  /**
   * App mode: ID of the channel the bot posts to (`C0123456789`, from the channel's details); required with `slackBotTokenSecret`.
   * @default - none
   */
  readonly slackChannelId?: string;
  /**
   * App mode: event-type globs whose thread replies are also shown in the channel (`reply_broadcast`); `[]` for none.
   * @default - disputes, failures and cancellations (Defaults.replyBroadcast)
   */
  readonly replyBroadcast?: string[];
  /**
   * How this route's messages are built.
   * @default Transformation.builtin()
   */
  readonly transformation?: Transformation;
  /**
   * Conditions on what the event says that must hold for this route to take it, e.g.
   * `{ 'data.total_amount': { $gte: 50000 }, 'data.currency': 'USD' }` (see README "Routing rules").
   * Applied before the transformation and roll-ups; summaries are not affected.
   * @default {} (every event its `events` match)
   */
  readonly filter?: RouteFilter;
  /**
   * The modes this route takes: the mode whose signing key (`live:whsec_…`, `test:whsec_…`,
   * unlabelled = live) verified the event, e.g. `['live']` to mute test mode.
   * @default ['live', 'test']
   */
  readonly modes?: WebhookMode[];
  /**
   * Mentions (`@here`, `@channel`, a user ID `U…` or a user-group ID `S…`) added to this route's
   * messages when their filter holds, e.g. `[{ mention: 'S0123ABCD', filter: { 'data.total_amount': { $gte: 100000 } } }]`.
   * @default - none
   */
  readonly mentions?: RouteMention[];
}

/** Props of {@link DodoSlackNotifier}. All optional: the defaults deploy a working pipeline. */
export interface DodoSlackNotifierProps {
  /**
   * Secret holding the Slack incoming-webhook URL of the default route (plain URL or JSON
   * `{"url": "…"}`). Only its ARN reaches the functions.
   * @default - a new secret holding a placeholder, unless `routes` is given (then there is no default route)
   */
  readonly slackWebhookSecret?: secretsmanager.ISecret;
  /**
   * Slack app mode for the default route (see README "Threads and live cards"): secret holding a
   * bot token (`xoxb-…`), instead of `slackWebhookSecret`; requires `slackChannelId`.
   * @default - none (the default route posts to an incoming webhook)
   */
  readonly slackBotTokenSecret?: secretsmanager.ISecret;
  /**
   * App mode: ID of the channel the default route's bot posts to (`C0123456789`).
   * @default - none
   */
  readonly slackChannelId?: string;
  /**
   * App mode: event-type globs whose thread replies on the default route are also shown in the channel; `[]` for none.
   * @default - disputes, failures and cancellations (Defaults.replyBroadcast)
   */
  readonly replyBroadcast?: string[];
  /**
   * App mode: how long a thread (its parent's ts and card) is remembered after its last event; the
   * next event of the object after that starts a new thread (1..3650 days, whole days).
   * @default Duration.days(90)
   */
  readonly threadTtl?: Duration;
  /**
   * Secret holding the Dodo webhook signing key(s) (`whsec_` + base64), several separated by whitespace
   * while rotating; a key labelled `test:whsec_…` verifies test-mode events (unlabelled or `live:` = live),
   * so one deployment can take both of Dodo's dashboards (README "Test mode and live mode").
   * @default - a new secret holding a placeholder; the receiver answers 503 until it is set
   */
  readonly signingSecret?: secretsmanager.ISecret;
  /**
   * Event-type globs the default route takes (`*`, `payment.*`, `dispute.opened`).
   * @default ['*']
   */
  readonly events?: string[];
  /**
   * How the default route turns events into Slack messages.
   * @default Transformation.builtin()
   */
  readonly transformation?: Transformation;
  /**
   * More Slack channels. Every event goes to each route whose globs match it; each route is
   * delivered, retried, dead-lettered and deduplicated on its own.
   * @default - only the default route
   */
  readonly routes?: DodoSlackRoute[];
  /**
   * How far a webhook's timestamp may be from the receiver's clock (replay protection; 1 s..1 h, whole seconds).
   * @default Duration.minutes(5)
   */
  readonly timestampTolerance?: Duration;
  /**
   * How long the functions cache secret values before reading them again (1 s..1 h).
   * @default Duration.minutes(5)
   */
  readonly secretCacheTtl?: Duration;
  /**
   * Deliveries of one message before SQS moves it to the dead-letter queue (1..1000).
   * @default 10
   */
  readonly maxReceiveCount?: number;
  /**
   * How long a delivered `webhook-id` is remembered to drop duplicates; keep it above Dodo's
   * retry span of about 27.6 hours (1 h..365 days).
   * @default Duration.hours(48)
   */
  readonly deduplicationWindow?: Duration;
  /**
   * Messages per second posted to one Slack incoming webhook, across all transformer instances
   * (Slack allows about one per second per webhook); more than 0, at most 1000.
   * @default 1
   */
  readonly deliveryRatePerSecond?: number;
  /**
   * How long the transformer waits for Slack to answer one post (1..10 s).
   * @default Duration.seconds(5)
   */
  readonly slackTimeout?: Duration;
  /**
   * Roll-ups: when a route's backlog would keep an event waiting longer than this at
   * `deliveryRatePerSecond`, the transformer drains the queue and posts one roll-up message for many
   * events (counts, per-currency totals, the events that matter listed) until the backlog is gone.
   * Disputes, payout failures and `rollupNeverFold` keep their own messages; routes with user code
   * never fold. `Duration.seconds(0)` turns roll-ups off (0..24 h).
   * @default Duration.seconds(30)
   */
  readonly rollupAfter?: Duration;
  /**
   * Event-type globs that always keep their own message, besides `dispute.*` and `payout.failed`.
   * @default - none
   */
  readonly rollupNeverFold?: string[];
  /**
   * Steady-state requests per second API Gateway lets through for the whole stage; more than 0.
   * @default 50
   */
  readonly throttlingRateLimit?: number;
  /**
   * Requests API Gateway lets through in a burst above the steady rate; a whole number of at least 1.
   * @default 100
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Topic the alarms notify.
   * @default - a new topic (TLS enforced)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Email address subscribed to the alarm topic (AWS sends a confirmation mail first).
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * One CloudWatch dashboard with the whole flow. A dashboard costs 3 USD a month (an account's first
   * three are free), more than the rest of the standing stack, and shows nothing the metrics and
   * alarms do not already hold: off unless asked for. Without it, CloudWatch → Metrics → the
   * `DodoSlackNotifier` namespace shows the same metrics.
   * @default false
   */
  readonly dashboard?: boolean;
  /**
   * Retention of the functions' logs and the API access logs. AWS Control Tower's CT.CLOUDWATCH.PR.2
   * asks for at least one year.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Customer-managed KMS key that encrypts the log groups, the tables (deduplication, summaries,
   * app mode's threads) and the alarm topic it creates. A key passed here must allow CloudWatch Logs (`logs.<region>.amazonaws.com`)
   * and CloudWatch alarms (`cloudwatch.amazonaws.com`) to use it; for a `kms.Key` of the same app the
   * construct adds those statements itself, for an imported key it cannot and warns at synth.
   * @default - a new key with yearly rotation (about 1 USD a month plus requests)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the queues, the deduplication table, the encryption key and the secrets the
   * construct creates when they leave the stack (stack deleted, resource replaced). The default
   * keeps the undelivered events in the dead-letter queue and the operator's secret values.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Active X-Ray tracing on the API stage and both functions; one trace follows the event through
   * SQS (the SDK passes the invocation's trace id to SendMessage, SQS to the transformer). X-Ray bills per trace recorded beyond its free tier (100,000 a month): about 5 USD per
   * million webhooks. Control Tower's CT.APIGATEWAY.PR.2 asks for it.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Memory of the transformer function, MB (Lambda's range, 128–10240). Most of its billed time is
   * waiting, on Slack's answer and on Slack's pace (one message a second), and Lambda bills waiting
   * by the GB-second: at 256 MB a waited second costs half what it did at 512 MB, the default
   * before. More memory brings more CPU (faster cold starts and roll-ups) at that price. A route
   * with user code needs at least 512 (its sandbox may grow the process by 192 MB).
   * @default 256, or 512 when a route runs user code
   */
  readonly transformerMemorySize?: number;
  /**
   * VPC to run both functions in (Control Tower's CT.LAMBDA.PR.3). Its subnets need a route to
   * Slack (a NAT gateway) and to SQS, DynamoDB, Secrets Manager, CloudWatch and X-Ray (the NAT
   * gateway or VPC endpoints).
   * @default - the functions run outside a VPC (see README: acknowledged controls)
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of `vpc` for the functions.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Create the account-wide role API Gateway uses to write logs (`AWS::ApiGateway::Account`).
   * API Gateway refuses access logs until the account has one; set `false` when your
   * organisation already manages that setting.
   * @default true
   */
  readonly createApiGatewayCloudWatchRole?: boolean;
  /**
   * Daily and/or weekly summaries of the events received (per currency: gross, refunds, net,
   * failures, disputes, subscriptions, MRR, top products, the change against the period before),
   * posted at a local time in an IANA time zone to the default route or `route`.
   * @default - no summaries
   */
  readonly summaries?: DodoSlackSummaries;
  /**
   * A Dodo API key (plaintext secret): messages, roll-ups and summaries then show product names
   * (the ID after them) and an abandoned checkout its payment's amount, customer and products,
   * looked up through Dodo's SDK and cached a day per function instance. Only the transformer and
   * the summary function may read it. A look-up never holds a message back: past 1.5 s, or when
   * the API or the key fails, the message shows the IDs.
   * @default - messages show IDs
   */
  readonly dodoApiKeySecret?: secretsmanager.ISecret;
  /**
   * The Dodo API base URL for both modes (a proxy), https; requires `dodoApiKeySecret`.
   * @default - Dodo's live or test API host, by the webhook's mode
   */
  readonly dodoApiUrl?: string;
  /**
   * Alerts posted to Slack: silence (no webhook for longer than a threshold; also a CloudWatch
   * alarm), payment failures, refund spikes and the month's dispute ratio, each once per episode
   * with a resolved message. `{}` turns every rule on with its defaults (see README, Alerts).
   * @default - no alerts
   */
  readonly alerts?: DodoSlackAlerts;
}

/**
 * Whether the top-level props make a route of their own. With `routes` and no
 * `slackWebhookSecret` there is no channel to post the default route to, so there is none.
 */
export function hasDefaultRoute(props: DodoSlackNotifierProps): boolean {
  return props.routes === undefined || props.slackWebhookSecret !== undefined || props.slackBotTokenSecret !== undefined;
}

/** Every event glob the props name (default route and routes), tokens left out. */
export function knownGlobs(props: DodoSlackNotifierProps): string[] {
  const globs = [...(props.events ?? []), ...(props.routes ?? []).flatMap((route) => route.events)];
  return globs.filter((glob) => !Token.isUnresolved(glob));
}

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Every problem with the props at once, so one failed synth shows them all. */
export function validateProps(props: DodoSlackNotifierProps): void {
  const problems: string[] = [];
  const checkGlobs = (where: string, globs: readonly string[]) => {
    if (globs.length === 0) {
      problems.push(`${where} must list at least one event glob; use ['*'] for every event`);
    }
    for (const glob of globs) {
      if (Token.isUnresolved(glob)) continue;
      problems.push(...globProblems(glob).map((problem) => `${where}: ${problem}`));
    }
  };
  /** A Duration within `limit` (lambda/shared/limits.ts), in the limit's unit: whole seconds where the limit says whole. */
  const checkDuration = (name: string, value: Duration | undefined, limit: Limit, unit: 'seconds' | 'milliseconds' = 'seconds') => {
    if (value === undefined || value.isUnresolved()) return;
    const ms = value.toMilliseconds();
    const amount = unit === 'seconds' ? ms / 1000 : ms;
    if (limit.integer === true && !Number.isInteger(amount)) {
      problems.push(`${name} must be whole ${unit}, got ${value.toHumanString()}`);
      return;
    }
    if (!withinLimit({ ...limit, integer: false }, amount)) {
      const bound = (n: number) => (unit === 'seconds' ? Duration.seconds(n) : Duration.millis(n)).toHumanString();
      problems.push(`${name} must be between ${bound(limit.min)} and ${bound(limit.max)}, got ${value.toHumanString()}`);
    }
  };

  if (props.events !== undefined) checkGlobs('events', props.events);
  if (!hasDefaultRoute(props)) {
    if (props.events !== undefined) {
      problems.push('events applies to the default route, which exists only with slackWebhookSecret (or slackBotTokenSecret); set one or move the globs into a route');
    }
    if (props.transformation !== undefined) {
      problems.push('transformation applies to the default route, which exists only with slackWebhookSecret (or slackBotTokenSecret); set one or move it into a route');
    }
    if (props.routes !== undefined && props.routes.length === 0) {
      problems.push('routes is empty and slackWebhookSecret is not set (nor slackBotTokenSecret), so no event would go anywhere; add a route or set one of them');
    }
  }
  const seenRouteIds = new Set<string>();
  for (const [index, route] of (props.routes ?? []).entries()) {
    const where = `routes[${index}] (${JSON.stringify(route.id)})`;
    if (!ROUTE_ID_SHAPE.test(route.id)) {
      problems.push(`${where}: id must be 1-64 letters and digits starting with a letter, e.g. "Risk"`);
    } else if (route.id.toLowerCase() === DEFAULT_ROUTE_ID) {
      problems.push(`${where}: id "${DEFAULT_ROUTE_ID}" is reserved for the top-level route; choose another id`);
    } else if (seenRouteIds.has(route.id.toLowerCase())) {
      problems.push(`${where}: duplicate route id; every route needs its own id (compared case-insensitively)`);
    }
    seenRouteIds.add(route.id.toLowerCase());
    checkGlobs(`${where} events`, route.events);
    problems.push(...routeRuleProblems(route, `routes[${index}]`).map((problem) => `${problem.path}: ${problem.message}`));
  }

  const maxReceiveCount = props.maxReceiveCount;
  if (maxReceiveCount !== undefined && !Token.isUnresolved(maxReceiveCount) && !withinLimit(Limits.maxReceiveCount, maxReceiveCount)) {
    problems.push(`maxReceiveCount must be a whole number ${Limits.maxReceiveCount.min}..${Limits.maxReceiveCount.max}, got ${maxReceiveCount}`);
  }
  checkDuration('timestampTolerance', props.timestampTolerance, Limits.timestampToleranceSeconds);
  // The transformer needs a positive TTL: 0 would mean a Secrets Manager call per message.
  checkDuration('secretCacheTtl', props.secretCacheTtl, Limits.secretCacheTtlSeconds);
  checkDuration('deduplicationWindow', props.deduplicationWindow, Limits.deduplicationWindowSeconds);
  checkDuration('slackTimeout', props.slackTimeout, Limits.slackTimeoutMs, 'milliseconds');
  checkDuration('rollupAfter', props.rollupAfter, Limits.rollupAfterSeconds);
  if (props.rollupNeverFold?.length) checkGlobs('rollupNeverFold', props.rollupNeverFold);

  const rate = props.deliveryRatePerSecond;
  if (rate !== undefined && !Token.isUnresolved(rate) && !withinLimit(Limits.deliveryRatePerSecond, rate)) {
    problems.push(`deliveryRatePerSecond must be more than ${Limits.deliveryRatePerSecond.min} and at most ${Limits.deliveryRatePerSecond.max}, got ${rate}`);
  }
  const { throttlingRateLimit, throttlingBurstLimit } = props;
  if (
    throttlingRateLimit !== undefined &&
    !Token.isUnresolved(throttlingRateLimit) &&
    !(Number.isFinite(throttlingRateLimit) && throttlingRateLimit > 0)
  ) {
    problems.push(`throttlingRateLimit must be more than 0 requests per second, got ${throttlingRateLimit}`);
  }
  const memory = props.transformerMemorySize;
  if (memory !== undefined && !Token.isUnresolved(memory) && !(Number.isInteger(memory) && memory >= 128 && memory <= 10_240)) {
    problems.push(`transformerMemorySize must be a whole number of MB from 128 to 10240, got ${memory}`);
  }
  if (
    throttlingBurstLimit !== undefined &&
    !Token.isUnresolved(throttlingBurstLimit) &&
    !(Number.isInteger(throttlingBurstLimit) && throttlingBurstLimit >= 1)
  ) {
    problems.push(`throttlingBurstLimit must be a whole number of at least 1, got ${throttlingBurstLimit}`);
  }
  if (props.vpcSubnets !== undefined && props.vpc === undefined) {
    problems.push('vpcSubnets applies only with vpc; set vpc or remove vpcSubnets');
  }
  if (props.alarmEmail !== undefined && !Token.isUnresolved(props.alarmEmail) && !EMAIL_SHAPE.test(props.alarmEmail)) {
    problems.push(`alarmEmail must be an email address like ops@example.com, got ${JSON.stringify(props.alarmEmail)}`);
  }

  problems.push(...slackAppProblems(props));
  const routeIds = [...(hasDefaultRoute(props) ? [DEFAULT_ROUTE_ID] : []), ...(props.routes ?? []).map((route) => route.id)];
  problems.push(...summariesProblems(props.summaries, routeIds));
  problems.push(...alertsProblems(props.alerts, routeIds));

  if (problems.length > 0) {
    throw new Error(`DodoSlackNotifier: invalid props:\n- ${problems.join('\n- ')}`);
  }
}
