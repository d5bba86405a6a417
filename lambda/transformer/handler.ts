/**
 * Transformer Lambda: a thin SQS adapter over the delivery core (lambda/transformer/delivery.ts).
 * Reads its configuration from the environment the construct sets (TransformerEnv), reports
 * partial batch failures, and turns each record's outcome into SQS calls:
 *   done -> acknowledged; retry -> visibility set to the delay, reported failed;
 *   requeue -> fresh copy on the queue, acknowledged; dead-letter -> copy with reason on the DLQ, acknowledged.
 * Powertools' context, log-key reset and metrics flush come from middy (withTelemetry).
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ServiceName } from '../shared/metrics';
import { TransformerEnv, type RouteConfig } from '../shared/function-env';
import { type CoreLogger } from '../shared/ports';
import { createDeliveryProcessor, type DeliveryProcessor, type DeliveryRecord, type DeliveryRoute, type RecordOutcome } from './delivery';
import { createSlackWebApi } from './slack-web-api';
import { parseSlackBotToken } from './slack-token';
import { createDynamoDbThreadStore } from './dynamodb-thread-store';
import { compileEventGlobs } from '../shared/event-glob';
import { createRateLimiter } from './rate-limiter';
import { CachedSecret } from '../shared/secret-cache';
import { createSlackClient } from './slack-client';
import { parseSlackWebhookUrl } from './slack-url';
import { createTransform } from './transform';
import { userCodeWorstCaseMs } from '../sandbox/runner';
import { createIdempotentRunOnce, type IdempotentRunOnce } from './idempotency';
import { secretsManagerLoader } from '../shared/aws/secrets-manager';
import { createSqsDelivery, type SqsDelivery } from './sqs-delivery';
import { EnvConfigReader } from '../shared/env-config';
import { fromSqsRecord } from '../shared/aws/sqs-message';
import { createTelemetry, withTelemetry, type LambdaHandler, type Telemetry } from '../shared/aws/telemetry';
import { Defaults } from '../shared/defaults';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamoSummaryCounter } from '../summaries/dynamodb-aggregates';
import { createRollupProcessor, rollupPolicy } from './rollup';
import { createSqsRollups, type SqsRollups } from './sqs-rollup';

/** Time kept back beyond one Slack request for the SQS calls that settle the batch. */
const SETTLE_MARGIN_MS = 2_000;
/**
 * Delay of a record that was not attempted (another consumer holds its webhook-id, or the
 * invocation is out of time): long enough not to spin through receives while the other consumer
 * finishes, short enough that a deferred record is not noticeably late.
 */
const DEFER_DELAY_SECONDS = 5;

/** The transformer's configuration as the construct sets it in the environment (TransformerEnv). */
export interface TransformerConfig {
  readonly routes: readonly RouteConfig[];
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** `undefined` only when read with `idempotencyTableRequired: false` and not set. */
  readonly idempotencyTableName: string | undefined;
  readonly deduplicationWindowSeconds: number;
  readonly secretCacheTtlSeconds: number;
  readonly maxReceiveCount: number;
  readonly slackTimeoutMs: number;
  /** Messages per second to one Slack webhook (token bucket rate). */
  readonly deliveryRatePerSecond: number;
  /** Messages that may go at once before the rate applies (token bucket size). */
  readonly deliveryBurst: number;
  /** App mode: the thread table; `undefined` when no route has a bot token. */
  readonly threadTableName: string | undefined;
  readonly threadTtlSeconds: number;
  readonly slackTier3CallsPerMinute: number;
  /** The summaries' aggregate table; undefined when the construct has no `summaries`. */
  readonly summaryTableName: string | undefined;
  /** Roll-ups (issue 15): predicted wait beyond which a route folds its backlog; 0 = off. */
  readonly rollupAfterSeconds: number;
  /** Event-type globs never folded, besides Defaults.rollupNeverFold. */
  readonly rollupNeverFold: readonly string[];
}

/**
 * Reads the transformer's configuration; a variable the construct did not set falls back to
 * {@link Defaults}. Throws once, naming every problem. `idempotencyTableRequired: false` is for
 * callers that bring their own persistence store.
 */
export function transformerConfigFromEnv(env: NodeJS.ProcessEnv, { idempotencyTableRequired = true }: { idempotencyTableRequired?: boolean } = {}): TransformerConfig {
  const config = new EnvConfigReader(env);
  const positive = (name: string, fallback: number) => config.number(name, fallback, (value) => value > 0, 'a positive number');
  const transformerConfig: TransformerConfig = {
    routes: parseRoutes(config.required(TransformerEnv.Routes), config.problems),
    queueUrl: config.required(TransformerEnv.QueueUrl),
    deadLetterQueueUrl: config.required(TransformerEnv.DeadLetterQueueUrl),
    idempotencyTableName: idempotencyTableRequired ? config.required(TransformerEnv.IdempotencyTableName) : config.optional(TransformerEnv.IdempotencyTableName),
    deduplicationWindowSeconds: positive(TransformerEnv.DeduplicationWindowSeconds, Defaults.deduplicationWindowSeconds),
    secretCacheTtlSeconds: positive(TransformerEnv.SecretCacheTtlSeconds, Defaults.secretCacheTtlSeconds),
    maxReceiveCount: positive(TransformerEnv.MaxReceiveCount, Defaults.maxReceiveCount),
    slackTimeoutMs: positive(TransformerEnv.SlackTimeoutMs, Defaults.slackTimeoutMs),
    deliveryRatePerSecond: positive(TransformerEnv.DeliveryRatePerSecond, Defaults.deliveryRatePerSecond),
    deliveryBurst: positive(TransformerEnv.DeliveryBurst, Defaults.deliveryBurst),
    threadTableName: config.optional(TransformerEnv.ThreadTableName),
    threadTtlSeconds: positive(TransformerEnv.ThreadTtlSeconds, Defaults.threadTtlSeconds),
    slackTier3CallsPerMinute: positive(TransformerEnv.SlackTier3CallsPerMinute, Defaults.slackTier3CallsPerMinute),
    summaryTableName: config.optional(TransformerEnv.SummaryTableName),
    rollupAfterSeconds: config.number(TransformerEnv.RollupAfterSeconds, Defaults.rollupAfterSeconds, (value) => value >= 0, 'a number of seconds >= 0 (0 turns roll-ups off)'),
    rollupNeverFold: (config.optional(TransformerEnv.RollupNeverFold) ?? '').split(',').map((glob) => glob.trim()).filter((glob) => glob !== ''),
  };
  if (transformerConfig.routes.some((route) => route.slackChannelId !== undefined) && transformerConfig.threadTableName === undefined) {
    config.problems.push(`${TransformerEnv.ThreadTableName} is not set, and a route posts with a Slack bot token (its threads live there)`);
  }
  config.throwIfProblems('transformer configuration');
  return transformerConfig;
}

export interface TransformerHandlerOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly sqs?: SQSClient;
  /** @default DynamoDBPersistenceLayer on IDEMPOTENCY_TABLE_NAME */
  readonly persistenceStore?: BasePersistenceLayer;
  readonly telemetry?: Telemetry;
  /** Accept an http://127.0.0.1 Slack URL (tests with a Slack stand-in). Deliberately not an env var. @default false */
  readonly allowInsecureLocalhostSlack?: boolean;
  /** Minimum time between two Slack secret refetches forced by 403/404/410 answers. @default 10_000 */
  readonly secretMinRefreshIntervalMs?: number;
  /** Slack Web API base URL for app-mode routes (tests: a stand-in on 127.0.0.1). Deliberately not an env var. @default https://slack.com/api/ */
  readonly slackApiUrl?: string;
  /** Client of the summaries' table (tests point it at dynalite). @default a new DynamoDBClient */
  readonly dynamodb?: DynamoDBClient;
}

interface Wiring {
  readonly processor: DeliveryProcessor;
  readonly dedup: IdempotentRunOnce;
  readonly sqsDelivery: SqsDelivery;
  readonly rollups: SqsRollups;
}

export type TransformerHandler = LambdaHandler<SQSEvent, SQSBatchResponse>;

/** The SQS-triggered Lambda handler; `handler` below is this over the function's environment. */
export function createTransformerHandler(options: TransformerHandlerOptions = {}): TransformerHandler {
  // Outside the lazy wiring: the middlewares need it before the first invocation, and it reads no configuration.
  const telemetry = options.telemetry ?? createTelemetry(ServiceName.Transformer);
  let wiring: Wiring | undefined;

  return withTelemetry(telemetry, async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    // Built on first use, so a configuration error surfaces as a failed invocation with its reason (records retried).
    wiring ??= wire(options, telemetry);
    const { processor, dedup, sqsDelivery, rollups } = wiring;
    dedup.registerContext(context);
    const failures: string[] = [];
    const byId = new Map<string, SQSRecord>();
    const records: DeliveryRecord[] = [];
    for (const record of event.Records) {
      byId.set(record.messageId, record);
      try {
        records.push({ id: record.messageId, webhook: fromSqsRecord(record), receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1 });
      } catch (error) {
        // Not a message the receiver wrote: keep it for an operator rather than retry it forever.
        const reason = error instanceof Error ? error.message : String(error);
        if (!(await settle(record, { kind: 'dead-letter', reason, attempts: Number(record.attributes.ApproximateReceiveCount) || 1 }))) failures.push(record.messageId);
      }
    }
    const remainingTimeMs = () => context.getRemainingTimeInMillis();
    // Roll-ups (lambda/transformer/sqs-rollup.ts): when the queue is behind, more messages are drained and folded.
    const folded = await rollups.fold(records, event.Records, remainingTimeMs);
    const drained = new Set<string>();
    for (const { record, sqsRecord } of folded.drained) {
      byId.set(record.id, sqsRecord);
      records.push(record);
      drained.add(record.id);
    }
    const outcomes = await processor.processBatch(records.filter((record) => !folded.settled.has(record.id)), { remainingTimeMs });
    const outcomeOf = (record: DeliveryRecord): RecordOutcome =>
      folded.settled.get(record.id) ?? outcomes.get(record.id) ?? { kind: 'retry', delaySeconds: 0, reason: 'no outcome' };
    for (const record of records) {
      if (drained.has(record.id)) continue;
      if (!(await settle(byId.get(record.id)!, outcomeOf(record)))) failures.push(record.id);
    }
    // Drained messages are not in the event source's batch: settled ten at a time (there may be hundreds),
    // and deleted here once acknowledged, that is after their outcome (a roll-up's post) is settled.
    const drainedRecords = records.filter((record) => drained.has(record.id));
    for (let i = 0; i < drainedRecords.length; i += 10) {
      await Promise.all(
        drainedRecords.slice(i, i + 10).map(async (record) => {
          if (!(await settle(byId.get(record.id)!, outcomeOf(record)))) return;
          await rollups.deleteDrained(byId.get(record.id)!).catch((error: unknown) => {
            telemetry.logger.error('Could not delete a drained message; it returns to the queue and is suppressed as a duplicate', { messageId: record.id, error: errorName(error) });
          });
        }),
      );
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };

    /** Applies one outcome; returns true when the record is settled (acknowledged), false to report it failed. */
    async function settle(record: SQSRecord, outcome: RecordOutcome): Promise<boolean> {
      const log = { messageId: record.messageId };
      try {
        switch (outcome.kind) {
          case 'done':
            return true;
          case 'retry':
            await sqsDelivery.retryLater(record, outcome.delaySeconds);
            return false;
          case 'requeue':
            await sqsDelivery.requeue(record, outcome.delaySeconds);
            return true;
          case 'dead-letter':
            await sqsDelivery.deadLetter(record, outcome);
            return true;
        }
      } catch (error) {
        // The record goes back to the queue as it is (queue visibility timeout, then redrive policy): nothing is lost.
        telemetry.logger.error('Could not settle the record with SQS; it returns to the queue', { ...log, outcome: outcome.kind, error: errorName(error) });
        return false;
      }
    }
  });
}

function wire(options: TransformerHandlerOptions, telemetry: Telemetry): Wiring {
  const config = transformerConfigFromEnv(options.env ?? process.env, { idempotencyTableRequired: options.persistenceStore === undefined });
  const { routes, slackTimeoutMs } = config;
  const secretTtlMs = config.secretCacheTtlSeconds * 1000;

  const coreLogger = correlatedLogger(telemetry);
  const dedup = createIdempotentRunOnce({
    // The table name was read as required whenever no store is passed in.
    persistenceStore: options.persistenceStore ?? new DynamoDBPersistenceLayer({ tableName: config.idempotencyTableName! }),
    expiresAfterSeconds: config.deduplicationWindowSeconds,
    logger: coreLogger,
  });
  const refreshInterval = options.secretMinRefreshIntervalMs === undefined ? {} : { minRefreshIntervalMs: options.secretMinRefreshIntervalMs };
  const deliveryRoutes = routes.map((route): DeliveryRoute => {
    const transform = createTransform(route.transformation, undefined, { logger: coreLogger });
    if (route.slackChannelId !== undefined) {
      return {
        config: route,
        transform,
        slackApp: {
          token: new CachedSecret({ load: secretsManagerLoader(route.slackSecretId), parse: parseSlackBotToken, ttlMs: secretTtlMs, ...refreshInterval }),
          channel: route.slackChannelId,
          broadcast: compileEventGlobs(route.replyBroadcast ?? Defaults.replyBroadcast),
          ...(route.transformation.kind === 'builtin' ? { cardOptions: route.transformation.options } : {}),
        },
      };
    }
    return {
      config: route,
      transform,
      slackUrl: new CachedSecret({ load: secretsManagerLoader(route.slackSecretId), parse: (raw) => parseSlackWebhookUrl(raw, { allowInsecureLocalhost: options.allowInsecureLocalhostSlack === true }), ttlMs: secretTtlMs, ...refreshInterval }),
    };
  });
  const postToSlack = createSlackClient({ timeoutMs: slackTimeoutMs });
  // One limiter for single messages and roll-ups: they share Slack's pace.
  const rateLimiter = createRateLimiter({ ratePerSecond: config.deliveryRatePerSecond, burst: config.deliveryBurst });
  // One conditional UpdateItem per event, once per webhook-id (lambda/summaries/dynamodb-aggregates.ts),
  // whether the event goes out on its own or in a roll-up.
  const countForSummaries = config.summaryTableName === undefined ? undefined : dynamoSummaryCounter(options.dynamodb ?? new DynamoDBClient({}), config.summaryTableName);
  const processor = createDeliveryProcessor({
    routes: deliveryRoutes,
    ...(config.threadTableName === undefined
      ? {}
      : {
          slackApp: {
            api: createSlackWebApi({ timeoutMs: slackTimeoutMs, ...(options.slackApiUrl === undefined ? {} : { baseUrl: options.slackApiUrl }) }),
            threads: createDynamoDbThreadStore({ tableName: config.threadTableName, ttlSeconds: config.threadTtlSeconds }),
            tier3Limiter: createRateLimiter({ ratePerSecond: config.slackTier3CallsPerMinute / 60, burst: 5 }),
            lookupWindowSeconds: Defaults.slackLookupWindowSeconds,
          },
        }),
    runOnce: dedup.runOnce,
    postToSlack,
    rateLimiter,
    maxReceiveCount: config.maxReceiveCount,
    logger: coreLogger,
    metrics: telemetry.coreMetrics,
    // Before starting a record: time for its user code (worst case), one Slack request and settling.
    reserveTimeMs: userCodeReserveMs(routes) + slackTimeoutMs + SETTLE_MARGIN_MS,
    deferDelaySeconds: DEFER_DELAY_SECONDS,
    ...(countForSummaries === undefined ? {} : { countForSummaries }),
  });
  const sqs = options.sqs ?? new SQSClient({});
  const sqsDelivery = createSqsDelivery({ sqs, queueUrl: config.queueUrl, deadLetterQueueUrl: config.deadLetterQueueUrl });
  const rollups = createSqsRollups({
    sqs,
    queueUrl: config.queueUrl,
    processor: createRollupProcessor({
      // Roll-ups fold for incoming-webhook routes only: an app-mode route posts each event in its thread.
      routes: deliveryRoutes.filter((route): route is DeliveryRoute & { readonly slackUrl: CachedSecret<string> } => route.slackUrl !== undefined),
      policy: rollupPolicy({ rollupAfterSeconds: config.rollupAfterSeconds, neverFold: config.rollupNeverFold }),
      runOnce: dedup.runOnce,
      postToSlack,
      rateLimiter,
      logger: coreLogger,
      metrics: telemetry.coreMetrics,
      reserveTimeMs: slackTimeoutMs + SETTLE_MARGIN_MS,
      ...(countForSummaries === undefined ? {} : { countForSummaries }),
    }),
    ratePerSecond: config.deliveryRatePerSecond,
    maxReceiveCount: config.maxReceiveCount,
    logger: coreLogger,
  });
  return { processor, dedup, sqsDelivery, rollups };
}

/**
 * The core's logger with Powertools' `correlation_id` set to the `webhookId` of the record each
 * line is about (and removed from lines about no record), so one webhook's lines can be followed
 * through a batch.
 */
function correlatedLogger(telemetry: Telemetry): CoreLogger {
  const { logger, coreLogger } = telemetry;
  const at =
    (level: keyof CoreLogger) =>
    (message: string, extra?: Record<string, unknown>): void => {
      const webhookId = extra?.['webhookId'];
      if (typeof webhookId === 'string') logger.setCorrelationId(webhookId);
      else logger.removeKeys(['correlation_id']);
      coreLogger[level](message, extra);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The largest worst-case user-code time of any route (0 when every route uses the built-in templates). */
function userCodeReserveMs(routes: readonly RouteConfig[]): number {
  return Math.max(0, ...routes.map((route) => (route.transformation.kind === 'code' ? userCodeWorstCaseMs(route.transformation.timeoutMs) : 0)));
}

function parseRoutes(raw: string, problems: string[]): RouteConfig[] {
  if (raw === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    problems.push(`${TransformerEnv.Routes} is not JSON`);
    return [];
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    problems.push(`${TransformerEnv.Routes} must be a non-empty JSON array of routes`);
    return [];
  }
  parsed.forEach((route: Partial<RouteConfig>, index) => {
    if (typeof route?.id !== 'string' || !Array.isArray(route.events) || typeof route.slackSecretId !== 'string' || typeof route.transformation !== 'object') {
      problems.push(`${TransformerEnv.Routes}[${index}] needs id, events, slackSecretId and transformation`);
    }
    if (route?.slackChannelId !== undefined && typeof route.slackChannelId !== 'string') {
      problems.push(`${TransformerEnv.Routes}[${index}].slackChannelId must be a channel ID string`);
    }
    if (route?.replyBroadcast !== undefined && !(Array.isArray(route.replyBroadcast) && route.replyBroadcast.every((glob) => typeof glob === 'string'))) {
      problems.push(`${TransformerEnv.Routes}[${index}].replyBroadcast must be an array of event globs`);
    }
  });
  return parsed as RouteConfig[];
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : String(error).slice(0, 300);
}

export const handler = createTransformerHandler();
