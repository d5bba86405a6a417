import { noMetrics, silentLogger, type CoreLogger, type CoreMetrics } from '../shared/ports';
import { type RouteConfig } from '../shared/function-env';
import { type Transform } from '../shared/transformation';
import { createDeliveryProcessor, type DeliveryProcessor, type RunOnce } from '../transformer/delivery';
import { createRateLimiter } from '../transformer/rate-limiter';
import { CachedSecret } from '../shared/secret-cache';
import { createSlackClient, type PostToSlack } from '../transformer/slack-client';
import { parseSlackWebhookUrl } from '../transformer/slack-url';
import { createIdempotentRunOnce } from '../transformer/idempotency';
import { Defaults } from '../shared/defaults';
import { MemoryPersistenceLayer } from './memory-persistence';
import { createRollupProcessor, rollupPolicy, type RollupProcessor, type RollupSettings } from '../transformer/rollup';
import { createSlackWebApi, type SlackWebApi } from '../transformer/slack-web-api';
import { parseSlackBotToken } from '../transformer/slack-token';
import type { ThreadStore } from '../transformer/threads/thread-store';
import { compileEventGlobs } from '../shared/event-glob';

export interface LocalRoute {
  readonly config: RouteConfig;
  readonly transform: Transform;
  /** Reads the raw Slack URL (an env var, a file); parsed like the AWS secret, http://127.0.0.1 allowed. */
  readonly loadSlackUrl: () => string | Promise<string>;
  /**
   * App mode instead of the URL: reads the raw bot token (parsed like the AWS secret); the channel
   * is `config.slackChannelId`.
   */
  readonly loadSlackBotToken?: () => string | Promise<string>;
}

/** What app-mode routes share locally. */
export interface LocalSlackApp {
  readonly threads: ThreadStore;
  /** @default createSlackWebApi on https://slack.com/api/ */
  readonly api?: SlackWebApi;
  /** @default https://slack.com/api/ */
  readonly apiUrl?: string;
  /** @default Defaults.slackTier3CallsPerMinute */
  readonly tier3CallsPerMinute?: number;
}

export interface LocalDeliveryOptions {
  readonly routes: readonly LocalRoute[];
  /** Must equal the local queue's maxAttempts. */
  readonly maxAttempts: number;
  /** Replace the HTTP client, e.g. to print messages to the terminal when no Slack URL is set. @default real HTTP */
  readonly postToSlack?: PostToSlack;
  /** @default Defaults.slackTimeoutMs */
  readonly slackTimeoutMs?: number;
  /** @default Defaults.deliveryRatePerSecond */
  readonly ratePerSecond?: number;
  /** @default Defaults.deliveryBurst */
  readonly burst?: number;
  /** @default Defaults.deduplicationWindowSeconds */
  readonly deduplicationWindowSeconds?: number;
  /**
   * First retry delay after a 5xx, network error or timeout, doubling per attempt (AWS: 30 s).
   * A 429's Retry-After is honoured as it is. @default 30
   */
  readonly baseBackoffSeconds?: number;
  /**
   * Deduplication of `route:webhook-id`. `serve` passes its store's (lambda/local/store-run-once.ts).
   * @default Powertools idempotency over in-memory records (tests)
   */
  readonly runOnce?: RunOnce;
  /**
   * Shortest time between two reads of the Slack URL forced by a 403/404/410. 0 where the URL
   * cannot change while the process runs (serve reads it once from its environment): the re-read
   * then shows at once that there is no new URL, and the event is dead-lettered without retries.
   * @default 1000
   */
  readonly slackUrlMinRefreshIntervalMs?: number;
  /** How often the Slack URL is re-read. @default Defaults.secretCacheTtlSeconds */
  readonly secretCacheTtlMs?: number;
  /** Threads and the Web API client; required when a route has `loadSlackBotToken`. */
  readonly slackApp?: LocalSlackApp;
  readonly logger?: CoreLogger;
  readonly metrics?: CoreMetrics;
  /** Roll-up settings (issue 15); used by {@link createLocalDelivery}. @default Defaults */
  readonly rollup?: RollupSettings;
}

/**
 * The delivery processor wired for the local workbench: the same core as the Lambda, with
 * Powertools idempotency over in-memory records unless `runOnce` is given (serve gives its store's).
 * Driven by the store engine (engine.ts) in serve.
 */
export function createLocalDeliveryProcessor(options: LocalDeliveryOptions): DeliveryProcessor {
  return createLocalDelivery(options).processor;
}

/**
 * The single-message processor and the roll-up processor over the same routes, Slack URLs,
 * deduplication and pacing: a roll-up takes its turn in the same 1/s as single messages.
 */
export function createLocalDelivery(options: LocalDeliveryOptions): { readonly processor: DeliveryProcessor; readonly rollups: RollupProcessor } {
  const slackTimeoutMs = options.slackTimeoutMs ?? Defaults.slackTimeoutMs;
  const runOnce =
    options.runOnce ??
    createIdempotentRunOnce({
      persistenceStore: new MemoryPersistenceLayer(),
      expiresAfterSeconds: options.deduplicationWindowSeconds ?? Defaults.deduplicationWindowSeconds,
      // A delivery that has not finished by then is considered abandoned.
      inProgressTimeoutMs: slackTimeoutMs * 3 + 1000,
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    }).runOnce;
  const secretTtlMs = options.secretCacheTtlMs ?? Defaults.secretCacheTtlSeconds * 1000;
  const minRefreshIntervalMs = options.slackUrlMinRefreshIntervalMs ?? 1000;
  const app = options.slackApp;
  const routes = options.routes.map((route) => {
    const loadToken = route.loadSlackBotToken;
    if (loadToken === undefined) return urlRoute(route);
    if (route.config.slackChannelId === undefined) throw new Error(`route ${route.config.id} has a Slack bot token but no channel`);
    return {
      config: route.config,
      transform: route.transform,
      slackApp: {
        token: new CachedSecret({ load: async () => loadToken(), parse: parseSlackBotToken, ttlMs: secretTtlMs, minRefreshIntervalMs }),
        channel: route.config.slackChannelId,
        broadcast: compileEventGlobs(route.config.replyBroadcast ?? Defaults.replyBroadcast),
        ...(route.config.transformation.kind === 'builtin' ? { cardOptions: route.config.transformation.options } : {}),
      },
    };
  });
  const postToSlack = options.postToSlack ?? createSlackClient({ timeoutMs: slackTimeoutMs });
  const rateLimiter = createRateLimiter({ ratePerSecond: options.ratePerSecond ?? Defaults.deliveryRatePerSecond, burst: options.burst ?? Defaults.deliveryBurst });
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? noMetrics;
  const processor = createDeliveryProcessor({
    routes,
    ...(app === undefined
      ? {}
      : {
          slackApp: {
            api: app.api ?? createSlackWebApi({ timeoutMs: slackTimeoutMs, ...(app.apiUrl === undefined ? {} : { baseUrl: app.apiUrl }) }),
            threads: app.threads,
            tier3Limiter: createRateLimiter({ ratePerSecond: (app.tier3CallsPerMinute ?? Defaults.slackTier3CallsPerMinute) / 60, burst: 5 }),
            lookupWindowSeconds: Defaults.slackLookupWindowSeconds,
          },
        }),
    runOnce,
    postToSlack,
    rateLimiter,
    maxReceiveCount: options.maxAttempts,
    ...(options.baseBackoffSeconds === undefined ? {} : { baseBackoffSeconds: options.baseBackoffSeconds }),
    logger,
    metrics,
  });
  // Roll-ups fold for incoming-webhook routes only: an app-mode route posts each event in its thread.
  const webhookRoutes = routes.filter((route): route is ReturnType<typeof urlRoute> => 'slackUrl' in route);
  const rollups = createRollupProcessor({ routes: webhookRoutes, policy: rollupPolicy(options.rollup), runOnce, postToSlack, rateLimiter, logger, metrics });
  return { processor, rollups };

  function urlRoute(route: LocalRoute) {
    return {
      config: route.config,
      transform: route.transform,
      slackUrl: new CachedSecret({
        load: async () => route.loadSlackUrl(),
        parse: (raw) => parseSlackWebhookUrl(raw, { allowInsecureLocalhost: true }),
        ttlMs: secretTtlMs,
        minRefreshIntervalMs,
      }),
    };
  }
}
