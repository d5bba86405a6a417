/**
 * One pipeline, two engines: everything a route does is decided here, once, and both the
 * transformer Lambda (handler.ts) and `dodo-slack serve` (lambda/local/) call this factory with
 * their own ports. For each route it builds its event globs, its transformation (the built-in
 * templates with their options, or user code, whatever kind the route really has), its destination
 * (an incoming webhook, or app mode's threads and cards), its pacing and whether it may fold into
 * roll-ups; the summary counting before delivery is the same for every route.
 *
 *   engine ──records──▶ processor (delivery.ts): count for the summaries, then every route that
 *                       takes the event: transform → deduplicate → pace → post (webhook | thread)
 *   engine ──backlog─▶ rollups (rollup.ts): fold a route's foldable backlog into one message
 *
 * What an engine brings are ports, and what only it can know (how long it may spend on a record,
 * how soon a failed record comes back): deduplication (`RunOnce`), where a route's credential is
 * read from, the thread store, the summary counter, the Slack clients, the clock, logs and metrics.
 * Each port has one contract suite its adapters pass (test/contracts/).
 */
import type { CoreLogger, CoreMetrics, NameLookup, SecretSource } from '../shared/ports';
import type { RouteConfig } from '../shared/function-env';
import type { QueuedWebhook } from '../shared/webhook';
import { Defaults } from '../shared/defaults';
import { Limits, withinLimit, describeLimit, type Limit } from '../shared/limits';
import { compileEventGlobs } from '../shared/event-glob';
import { compileRouteSelection } from '../shared/route-rules';
import { CachedSecret } from '../shared/secret-cache';
import { embeddedUserCode, type UserCodeRegistry } from '../sandbox/registry';
import { userCodeWorstCaseMs } from '../sandbox/runner';
import { createDeliveryProcessor, type DeliveryProcessor, type DeliveryRoute, type RunOnce } from './delivery';
import { createRollupProcessor, rollupPolicy, type RollupProcessor, type RollupRoute } from './rollup';
import { createRateLimiter } from './rate-limiter';
import { createSlackClient, type PostToSlack } from './slack-client';
import { createSlackWebApi, type SlackWebApi } from './slack-web-api';
import { parseSlackWebhookUrl } from './slack-url';
import { parseSlackBotToken } from './slack-token';
import { createTransform } from './transform';
import type { ThreadStore } from './threads/thread-store';

/** What an engine brings. */
export interface PipelinePorts {
  /** Deduplication of `route:webhook-id` (Powertools idempotency on DynamoDB, the SQLite store). */
  readonly runOnce: RunOnce;
  readonly secrets: SecretSource;
  /** Threads and cards of app-mode routes (DynamoDB, the SQLite store); required when a route has a channel. */
  readonly threads?: ThreadStore;
  /**
   * Adds an event to the summaries' counters, once per webhook-id (DynamoDB's conditional counters,
   * the SQLite store); called before the event is delivered or folded. @default - not counted
   */
  readonly countForSummaries?: (webhook: QueuedWebhook) => Promise<void>;
  /** Records a count given up, so the period's summary says it is incomplete. @default - not recorded */
  readonly countGivenUp?: (webhook: QueuedWebhook) => Promise<void>;
  /** Where `code` transformations' sources are found. @default the code embedded in this bundle */
  readonly userCode?: UserCodeRegistry;
  /** Posts to an incoming webhook (serve prints to the terminal when no URL is set). @default real HTTP */
  readonly postToSlack?: PostToSlack;
  /** App mode's Web API client. @default real HTTP to `settings.slackApiUrl` */
  readonly slackWebApi?: SlackWebApi;
  /**
   * Names for the IDs built-in messages, roll-ups and summaries show (lambda/shared/dodo-names.ts,
   * with the engine's key and cache). Bounded in time and never failing. @default - messages show IDs
   */
  readonly names?: NameLookup;
  readonly logger: CoreLogger;
  readonly metrics: CoreMetrics;
  readonly now?: () => number;
}

/**
 * The routes' shared settings. Those that users set (the construct's props, serve's flags) default
 * to {@link Defaults} and must be within {@link Limits}; the rest say what the engine is.
 */
export interface PipelineSettings {
  /** Attempts before a failing record is dead-lettered (SQS maxReceiveCount, `serve --max-attempts`). */
  readonly maxReceiveCount: number;
  /** @default Defaults.slackTimeoutMs */
  readonly slackTimeoutMs?: number;
  /** Messages per second to one Slack destination, in this process. @default Defaults.deliveryRatePerSecond */
  readonly deliveryRatePerSecond?: number;
  /** @default Defaults.deliveryBurst */
  readonly deliveryBurst?: number;
  /** @default Defaults.rollupAfterSeconds */
  readonly rollupAfterSeconds?: number;
  /** Event-type globs never folded, besides Defaults.rollupNeverFold. @default none */
  readonly rollupNeverFold?: readonly string[];
  /** @default Defaults.slackTier3CallsPerMinute */
  readonly slackTier3CallsPerMinute?: number;
  /** How long a route's credential is cached. @default Defaults.secretCacheTtlSeconds */
  readonly secretCacheTtlSeconds?: number;
  /** App mode's Web API base URL (a stand-in on 127.0.0.1 in tests). @default https://slack.com/api/ */
  readonly slackApiUrl?: string;
  /** Accept `http://127.0.0.1` incoming-webhook URLs (serve, and tests with a Slack stand-in). @default false */
  readonly allowInsecureLocalhostSlack?: boolean;
  /** First retry delay after a 5xx, network error or timeout, doubling per attempt (AWS: 30 s). @default 30 */
  readonly baseBackoffSeconds?: number;
  /** Delay of a record whose turn never came (no time left, another consumer busy). @default 0 */
  readonly deferDelaySeconds?: number;
  /**
   * Time the engine needs after a record's last Slack request to settle it (SQS calls on Lambda);
   * a record is not started with less than its worst case plus this left. @default 0
   */
  readonly settleMarginMs?: number;
  /**
   * User code that does not load: `retry` treats every event of the route as not deliverable yet
   * and loads again later (Lambda: the code passed the synth-time check, a cold start may recover);
   * `throw` fails `createPipeline` with the file and line (serve: said at start). @default 'retry'
   */
  readonly userCodeLoadFailure?: 'retry' | 'throw';
}

export interface Pipeline {
  /** The single-record path: every route that takes the event, each deduplicated, paced and posted on its own. */
  readonly processor: DeliveryProcessor;
  /** Roll-ups of a route's backlog; shares the pacing and deduplication with `processor`. */
  readonly rollups: RollupProcessor;
  /** Settings as the pipeline runs them (defaults applied). */
  readonly settings: ResolvedPipelineSettings;
  /** The routes that take the event (globs, modes, filter), in configuration order: serve keeps one record per route. */
  readonly routesTaking: (webhook: QueuedWebhook) => readonly RouteConfig[];
}

export type ResolvedPipelineSettings = Required<Omit<PipelineSettings, 'slackApiUrl'>> & Pick<PipelineSettings, 'slackApiUrl'>;

/** Thrown when the settings are outside {@link Limits} or the routes are inconsistent; names every problem. */
export class PipelineConfigurationError extends Error {
  override name = 'PipelineConfigurationError';
}

export function createPipeline(routes: readonly RouteConfig[], ports: PipelinePorts, settings: PipelineSettings): Pipeline {
  const resolved = resolveSettings(settings);
  const problems = settingsProblems(resolved);
  if (routes.some((route) => route.slackChannelId !== undefined) && ports.threads === undefined) {
    problems.push('a route posts with a Slack bot token (app mode), and no thread store was given');
  }
  if (problems.length > 0) throw new PipelineConfigurationError(`pipeline settings: ${problems.join('; ')}`);

  const { logger, metrics } = ports;
  const registry = ports.userCode ?? embeddedUserCode();
  const secretTtlMs = resolved.secretCacheTtlSeconds * 1000;
  const credential = <T>(route: RouteConfig, parse: (raw: string) => T) =>
    new CachedSecret<T>({
      load: () => ports.secrets.load(route.slackSecretId),
      parse,
      ttlMs: secretTtlMs,
      minRefreshIntervalMs: ports.secrets.minRefreshIntervalMs,
      ...(ports.now ? { now: ports.now } : {}),
    });

  const deliveryRoutes = routes.map((route): DeliveryRoute => {
    const transform = createTransform(route.transformation, registry, { logger, failOnLoadError: resolved.userCodeLoadFailure === 'throw' });
    const selection = compileRouteSelection(route);
    if (route.slackChannelId !== undefined) {
      return {
        config: route,
        selection,
        transform,
        slackApp: {
          token: credential(route, parseSlackBotToken),
          channel: route.slackChannelId,
          broadcast: compileEventGlobs(route.replyBroadcast ?? Defaults.replyBroadcast),
          ...(route.transformation.kind === 'builtin' ? { cardOptions: route.transformation.options } : {}),
        },
      };
    }
    return {
      config: route,
      selection,
      transform,
      slackUrl: credential(route, (raw) => parseSlackWebhookUrl(raw, { allowInsecureLocalhost: resolved.allowInsecureLocalhostSlack })),
    };
  });

  const postToSlack = ports.postToSlack ?? createSlackClient({ timeoutMs: resolved.slackTimeoutMs });
  // One limiter for single messages and roll-ups: they share Slack's pace.
  const rateLimiter = createRateLimiter({ ratePerSecond: resolved.deliveryRatePerSecond, burst: resolved.deliveryBurst, ...(ports.now ? { now: ports.now } : {}) });

  const processor = createDeliveryProcessor({
    routes: deliveryRoutes,
    ...(ports.threads === undefined
      ? {}
      : {
          slackApp: {
            api: ports.slackWebApi ?? createSlackWebApi({ timeoutMs: resolved.slackTimeoutMs, ...(resolved.slackApiUrl === undefined ? {} : { baseUrl: resolved.slackApiUrl }) }),
            threads: ports.threads,
            tier3Limiter: createRateLimiter({ ratePerSecond: resolved.slackTier3CallsPerMinute / 60, burst: 5, ...(ports.now ? { now: ports.now } : {}) }),
            lookupWindowSeconds: Defaults.slackLookupWindowSeconds,
            ...(ports.now ? { now: ports.now } : {}),
          },
        }),
    runOnce: ports.runOnce,
    postToSlack,
    rateLimiter,
    maxReceiveCount: resolved.maxReceiveCount,
    logger,
    metrics,
    // Before starting a record: time for its user code (worst case), one Slack request and settling;
    // app mode checks the time again before each of its posts.
    reserveTimeMs: userCodeWorstMs(routes) + resolved.slackTimeoutMs + resolved.settleMarginMs + (ports.names?.timeLimitMs ?? 0),
    baseBackoffSeconds: resolved.baseBackoffSeconds,
    deferDelaySeconds: resolved.deferDelaySeconds,
    ...(ports.now ? { now: ports.now } : {}),
    ...(ports.countForSummaries === undefined ? {} : { countForSummaries: ports.countForSummaries }),
    ...(ports.names === undefined ? {} : { names: ports.names }),
    ...(ports.countGivenUp === undefined ? {} : { countGivenUp: ports.countGivenUp }),
  });

  const rollups = createRollupProcessor({
    // Roll-ups fold for incoming-webhook routes only: an app-mode route posts each event in its thread.
    routes: deliveryRoutes.filter((route): route is DeliveryRoute & RollupRoute => route.slackUrl !== undefined),
    policy: rollupPolicy({ rollupAfterSeconds: resolved.rollupAfterSeconds, neverFold: resolved.rollupNeverFold }),
    runOnce: ports.runOnce,
    postToSlack,
    rateLimiter,
    logger,
    metrics,
    reserveTimeMs: resolved.slackTimeoutMs + resolved.settleMarginMs + (ports.names?.timeLimitMs ?? 0),
    ...(ports.countForSummaries === undefined ? {} : { countForSummaries: ports.countForSummaries }),
    ...(ports.names === undefined ? {} : { names: ports.names }),
  });

  return {
    processor,
    rollups,
    settings: resolved,
    routesTaking: (webhook) => deliveryRoutes.filter((route) => route.selection.takes(webhook)).map((route) => route.config),
  };
}

/**
 * Slack calls one app-mode delivery may make: the parent and the reply are posts, each of which may
 * look for an earlier copy of itself before it and after a timeout (3 calls each), and the card
 * may be updated once.
 */
const APP_MODE_SLACK_CALLS = 7;

/** The worst-case time of the routes' user code (0 when every route uses the built-in templates). */
function userCodeWorstMs(routes: readonly RouteConfig[]): number {
  return Math.max(0, ...routes.map((route) => (route.transformation.kind === 'code' ? userCodeWorstCaseMs(route.transformation.timeoutMs) : 0)));
}

/**
 * The longest one record's delivery to one route may take: the worst case of the routes' user code
 * and every Slack call it may make, each up to the Slack timeout. An engine with no invocation
 * deadline (serve) lets an in-progress deduplication record expire after it; the Lambda's expires
 * with the invocation.
 */
export function longestDeliveryMs(routes: readonly RouteConfig[], slackTimeoutMs: number = Defaults.slackTimeoutMs): number {
  const calls = routes.some((route) => route.slackChannelId !== undefined) ? APP_MODE_SLACK_CALLS : 1;
  return userCodeWorstMs(routes) + calls * slackTimeoutMs;
}

function resolveSettings(settings: PipelineSettings): ResolvedPipelineSettings {
  return {
    maxReceiveCount: settings.maxReceiveCount,
    slackTimeoutMs: settings.slackTimeoutMs ?? Defaults.slackTimeoutMs,
    deliveryRatePerSecond: settings.deliveryRatePerSecond ?? Defaults.deliveryRatePerSecond,
    deliveryBurst: settings.deliveryBurst ?? Defaults.deliveryBurst,
    rollupAfterSeconds: settings.rollupAfterSeconds ?? Defaults.rollupAfterSeconds,
    rollupNeverFold: settings.rollupNeverFold ?? [],
    slackTier3CallsPerMinute: settings.slackTier3CallsPerMinute ?? Defaults.slackTier3CallsPerMinute,
    secretCacheTtlSeconds: settings.secretCacheTtlSeconds ?? Defaults.secretCacheTtlSeconds,
    ...(settings.slackApiUrl === undefined ? {} : { slackApiUrl: settings.slackApiUrl }),
    allowInsecureLocalhostSlack: settings.allowInsecureLocalhostSlack ?? false,
    baseBackoffSeconds: settings.baseBackoffSeconds ?? 30,
    deferDelaySeconds: settings.deferDelaySeconds ?? 0,
    settleMarginMs: settings.settleMarginMs ?? 0,
    userCodeLoadFailure: settings.userCodeLoadFailure ?? 'retry',
  };
}

/** The user-set settings checked against {@link Limits}: engines check them first, with their own names for them; this is the last guard. */
function settingsProblems(settings: ResolvedPipelineSettings): string[] {
  const checked: readonly (readonly [string, number, Limit])[] = [
    ['maxReceiveCount', settings.maxReceiveCount, Limits.maxReceiveCount],
    ['slackTimeoutMs', settings.slackTimeoutMs, Limits.slackTimeoutMs],
    ['deliveryRatePerSecond', settings.deliveryRatePerSecond, Limits.deliveryRatePerSecond],
    ['deliveryBurst', settings.deliveryBurst, Limits.deliveryBurst],
    ['rollupAfterSeconds', settings.rollupAfterSeconds, Limits.rollupAfterSeconds],
    ['slackTier3CallsPerMinute', settings.slackTier3CallsPerMinute, Limits.slackTier3CallsPerMinute],
    ['secretCacheTtlSeconds', settings.secretCacheTtlSeconds, Limits.secretCacheTtlSeconds],
  ];
  const problems = checked.filter(([, value, limit]) => !withinLimit(limit, value)).map(([name, value, limit]) => `${name} must be ${describeLimit(limit)}, got ${value}`);
  if (!(settings.baseBackoffSeconds >= 0)) problems.push(`baseBackoffSeconds must be 0 or more, got ${settings.baseBackoffSeconds}`);
  return problems;
}
