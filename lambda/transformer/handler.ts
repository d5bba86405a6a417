/**
 * Transformer Lambda: the SQS engine of the pipeline (pipeline.ts), which decides everything about
 * the routes. This file brings the AWS ports (Powertools idempotency on DynamoDB, Secrets Manager,
 * the DynamoDB thread table and summary counters), reads the configuration the construct sets in
 * the environment (TransformerEnv), reports partial batch failures, and turns each record's outcome
 * into SQS calls:
 *   done -> acknowledged; retry -> visibility set to the delay, reported failed;
 *   requeue -> fresh copy on the queue, acknowledged; dead-letter -> copy with reason on the DLQ, acknowledged.
 * Powertools' context, log-key reset and metrics flush come from middy (withTelemetry).
 */
import { routeRuleProblems } from '../shared/route-rules';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ServiceName } from '../shared/metrics';
import { TransformerEnv, type RouteConfig } from '../shared/function-env';
import { type CoreLogger } from '../shared/ports';
import { Defaults } from '../shared/defaults';
import { Limits, type Limit } from '../shared/limits';
import { EnvConfigReader } from '../shared/env-config';
import { fromSqsRecord } from '../shared/aws/sqs-message';
import { secretsManagerSource } from '../shared/aws/secrets-manager';
import { awsNameLookup } from '../shared/aws/dodo-api-key';
import { createTelemetry, withTelemetry, type LambdaHandler, type Telemetry } from '../shared/aws/telemetry';
import { dynamoSummaryCounter, dynamoUncountedMarker } from '../summaries/dynamodb-aggregates';
import type { DeliveryProcessor, DeliveryRecord, RecordOutcome } from './delivery';
import { createPipeline } from './pipeline';
import type { UserCodeRegistry } from '../sandbox/registry';
import { createDynamoDbThreadStore } from './dynamodb-thread-store';
import { createIdempotentRunOnce, type IdempotentRunOnce } from './idempotency';
import { createSqsDelivery, type SqsDelivery } from './sqs-delivery';
import { createSqsRollups, type SqsRollups } from './sqs-rollup';

/** Time kept back beyond one Slack request for the SQS calls that settle the batch. */
const SETTLE_MARGIN_MS = 2_000;
/**
 * Delay of a record that was not attempted (another consumer holds its webhook-id, or the
 * invocation is out of time): long enough not to spin through receives while the other consumer
 * finishes, short enough that a deferred record is not noticeably late.
 */
const DEFER_DELAY_SECONDS = 5;
/** First retry delay after a 5xx, network error or timeout, doubling per receive up to 15 minutes. */
const BASE_BACKOFF_SECONDS = 30;
/** Shortest time between two Slack secret reads forced by 403/404/410 answers (a flood of them is one Secrets Manager call). */
const SECRET_MIN_REFRESH_INTERVAL_MS = 10_000;

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
  /** Roll-ups: predicted wait beyond which a route folds its backlog; 0 = off. */
  readonly rollupAfterSeconds: number;
  /** Event-type globs never folded, besides Defaults.rollupNeverFold. */
  readonly rollupNeverFold: readonly string[];
  /** ARN of the Dodo API key's secret; undefined = messages show IDs. */
  readonly dodoApiKeySecretArn: string | undefined;
  readonly dodoApiUrl: string | undefined;
}

/**
 * Reads the transformer's configuration; a variable the construct did not set falls back to
 * {@link Defaults}. Throws once, naming every problem. `idempotencyTableRequired: false` is for
 * callers that bring their own persistence store.
 */
export function transformerConfigFromEnv(env: NodeJS.ProcessEnv, { idempotencyTableRequired = true }: { idempotencyTableRequired?: boolean } = {}): TransformerConfig {
  const config = new EnvConfigReader(env);
  const within = (name: string, fallback: number, limit: Limit) => config.limited(name, fallback, limit);
  const transformerConfig: TransformerConfig = {
    routes: parseRoutes(config.required(TransformerEnv.Routes), config.problems),
    queueUrl: config.required(TransformerEnv.QueueUrl),
    deadLetterQueueUrl: config.required(TransformerEnv.DeadLetterQueueUrl),
    idempotencyTableName: idempotencyTableRequired ? config.required(TransformerEnv.IdempotencyTableName) : config.optional(TransformerEnv.IdempotencyTableName),
    deduplicationWindowSeconds: within(TransformerEnv.DeduplicationWindowSeconds, Defaults.deduplicationWindowSeconds, Limits.deduplicationWindowSeconds),
    secretCacheTtlSeconds: within(TransformerEnv.SecretCacheTtlSeconds, Defaults.secretCacheTtlSeconds, Limits.secretCacheTtlSeconds),
    maxReceiveCount: within(TransformerEnv.MaxReceiveCount, Defaults.maxReceiveCount, Limits.maxReceiveCount),
    slackTimeoutMs: within(TransformerEnv.SlackTimeoutMs, Defaults.slackTimeoutMs, Limits.slackTimeoutMs),
    deliveryRatePerSecond: within(TransformerEnv.DeliveryRatePerSecond, Defaults.deliveryRatePerSecond, Limits.deliveryRatePerSecond),
    deliveryBurst: within(TransformerEnv.DeliveryBurst, Defaults.deliveryBurst, Limits.deliveryBurst),
    threadTableName: config.optional(TransformerEnv.ThreadTableName),
    threadTtlSeconds: within(TransformerEnv.ThreadTtlSeconds, Defaults.threadTtlSeconds, Limits.threadTtlSeconds),
    slackTier3CallsPerMinute: within(TransformerEnv.SlackTier3CallsPerMinute, Defaults.slackTier3CallsPerMinute, Limits.slackTier3CallsPerMinute),
    summaryTableName: config.optional(TransformerEnv.SummaryTableName),
    rollupAfterSeconds: within(TransformerEnv.RollupAfterSeconds, Defaults.rollupAfterSeconds, Limits.rollupAfterSeconds),
    rollupNeverFold: (config.optional(TransformerEnv.RollupNeverFold) ?? '').split(',').map((glob) => glob.trim()).filter((glob) => glob !== ''),
    dodoApiKeySecretArn: config.optional(TransformerEnv.DodoApiKeySecretArn),
    dodoApiUrl: config.optional(TransformerEnv.DodoApiUrl),
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
  /** First retry delay of a failed delivery, doubling per receive (tests that drive retries on an emulator). Deliberately not an env var. @default 30 */
  readonly baseBackoffSeconds?: number;
  /** Slack Web API base URL for app-mode routes (tests: a stand-in on 127.0.0.1). Deliberately not an env var. @default https://slack.com/api/ */
  readonly slackApiUrl?: string;
  /** Client of the summaries' table (tests point it at dynalite). @default a new DynamoDBClient */
  readonly dynamodb?: DynamoDBClient;
  /**
   * Where `code` routes find their source (tests that run the handler from the sources, where
   * nothing is embedded). Deliberately not an env var. @default the code embedded in the bundle
   */
  readonly userCode?: UserCodeRegistry;
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
  const coreLogger = correlatedLogger(telemetry);
  const dedup = createIdempotentRunOnce({
    // The table name was read as required whenever no store is passed in.
    persistenceStore: options.persistenceStore ?? new DynamoDBPersistenceLayer({ tableName: config.idempotencyTableName! }),
    expiresAfterSeconds: config.deduplicationWindowSeconds,
    logger: coreLogger,
  });
  const { processor, rollups } = createPipeline(
    config.routes,
    {
      runOnce: dedup.runOnce,
      secrets: secretsManagerSource({ minRefreshIntervalMs: options.secretMinRefreshIntervalMs ?? SECRET_MIN_REFRESH_INTERVAL_MS }),
      ...(config.threadTableName === undefined ? {} : { threads: createDynamoDbThreadStore({ tableName: config.threadTableName, ttlSeconds: config.threadTtlSeconds }) }),
      // One conditional UpdateItem per event, once per webhook-id (lambda/summaries/dynamodb-aggregates.ts),
      // whether the event goes out on its own or in a roll-up.
      ...(config.summaryTableName === undefined
        ? {}
        : {
            countForSummaries: dynamoSummaryCounter(options.dynamodb ?? new DynamoDBClient({}), config.summaryTableName),
            countGivenUp: dynamoUncountedMarker(options.dynamodb ?? new DynamoDBClient({}), config.summaryTableName),
          }),
      ...(options.userCode === undefined ? {} : { userCode: options.userCode }),
      ...(config.dodoApiKeySecretArn === undefined
        ? {}
        : {
            names: awsNameLookup({
              secretArn: config.dodoApiKeySecretArn,
              ...(config.dodoApiUrl === undefined ? {} : { apiUrl: config.dodoApiUrl }),
              secretCacheTtlSeconds: config.secretCacheTtlSeconds,
              minRefreshIntervalMs: options.secretMinRefreshIntervalMs ?? SECRET_MIN_REFRESH_INTERVAL_MS,
              logger: coreLogger,
              metrics: telemetry.coreMetrics,
            }),
          }),
      logger: coreLogger,
      metrics: telemetry.coreMetrics,
    },
    {
      maxReceiveCount: config.maxReceiveCount,
      slackTimeoutMs: config.slackTimeoutMs,
      deliveryRatePerSecond: config.deliveryRatePerSecond,
      deliveryBurst: config.deliveryBurst,
      rollupAfterSeconds: config.rollupAfterSeconds,
      rollupNeverFold: config.rollupNeverFold,
      slackTier3CallsPerMinute: config.slackTier3CallsPerMinute,
      secretCacheTtlSeconds: config.secretCacheTtlSeconds,
      allowInsecureLocalhostSlack: options.allowInsecureLocalhostSlack === true,
      ...(options.slackApiUrl === undefined ? {} : { slackApiUrl: options.slackApiUrl }),
      baseBackoffSeconds: options.baseBackoffSeconds ?? BASE_BACKOFF_SECONDS,
      deferDelaySeconds: DEFER_DELAY_SECONDS,
      settleMarginMs: SETTLE_MARGIN_MS,
    },
  );
  const sqs = options.sqs ?? new SQSClient({});
  const sqsDelivery = createSqsDelivery({ sqs, queueUrl: config.queueUrl, deadLetterQueueUrl: config.deadLetterQueueUrl });
  const sqsRollups = createSqsRollups({
    sqs,
    queueUrl: config.queueUrl,
    processor: rollups,
    ratePerSecond: config.deliveryRatePerSecond,
    maxReceiveCount: config.maxReceiveCount,
    logger: coreLogger,
  });
  return { processor, dedup, sqsDelivery, rollups: sqsRollups };
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
    if (typeof route === 'object' && route !== null) {
      problems.push(...routeRuleProblems(route, `${TransformerEnv.Routes}[${index}]`).map((problem) => `${problem.path}: ${problem.message}`));
    }
  });
  return parsed as RouteConfig[];
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : String(error).slice(0, 300);
}

export const handler = createTransformerHandler();
