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

export interface LocalRoute {
  readonly config: RouteConfig;
  readonly transform: Transform;
  /** Reads the raw Slack URL (an env var, a file); parsed like the AWS secret, http://127.0.0.1 allowed. */
  readonly loadSlackUrl: () => string | Promise<string>;
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
  const routes = options.routes.map((route) => ({
    config: route.config,
    transform: route.transform,
    slackUrl: new CachedSecret({
      load: async () => route.loadSlackUrl(),
      parse: (raw) => parseSlackWebhookUrl(raw, { allowInsecureLocalhost: true }),
      ttlMs: options.secretCacheTtlMs ?? Defaults.secretCacheTtlSeconds * 1000,
      minRefreshIntervalMs: options.slackUrlMinRefreshIntervalMs ?? 1000,
    }),
  }));
  const postToSlack = options.postToSlack ?? createSlackClient({ timeoutMs: slackTimeoutMs });
  const rateLimiter = createRateLimiter({ ratePerSecond: options.ratePerSecond ?? Defaults.deliveryRatePerSecond, burst: options.burst ?? Defaults.deliveryBurst });
  const logger = options.logger ?? silentLogger;
  const metrics = options.metrics ?? noMetrics;
  const processor = createDeliveryProcessor({
    routes,
    runOnce,
    postToSlack,
    rateLimiter,
    maxReceiveCount: options.maxAttempts,
    ...(options.baseBackoffSeconds === undefined ? {} : { baseBackoffSeconds: options.baseBackoffSeconds }),
    logger,
    metrics,
  });
  const rollups = createRollupProcessor({ routes, policy: rollupPolicy(options.rollup), runOnce, postToSlack, rateLimiter, logger, metrics });
  return { processor, rollups };
}
