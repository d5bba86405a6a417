/**
 * The transformer's configuration: read from the environment by transformerConfigFromEnv, with the
 * shared Defaults for what the construct did not set. A misconfigured transformer fails its
 * invocation once, naming every problem (records are retried, nothing is lost).
 */
import type { Context } from 'aws-lambda';
import { Defaults } from '../../lambda/shared/defaults';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { omit } from '../../lambda/shared/omit';
import { createTransformerHandler, transformerConfigFromEnv } from '../../lambda/transformer/handler';

const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: 'arn:slack', transformation: { kind: 'builtin', options: {} } }];
/** Only the variables without a fallback. */
const requiredEnv = {
  [TransformerEnv.Routes]: JSON.stringify(routes),
  [TransformerEnv.QueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/queue',
  [TransformerEnv.DeadLetterQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq',
  [TransformerEnv.IdempotencyTableName]: 'dedupe',
};

test('every configuration problem is named in one error', async () => {
  const handler = createTransformerHandler({
    env: { [TransformerEnv.Routes]: '[]', [TransformerEnv.SlackTimeoutMs]: '0', [TransformerEnv.DeliveryRatePerSecond]: 'fast' },
  });
  const context = { getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
  await expect(handler({ Records: [] }, context)).rejects.toThrow(
    'transformer configuration: ROUTES must be a non-empty JSON array of routes; QUEUE_URL is not set; DEAD_LETTER_QUEUE_URL is not set; ' +
      'IDEMPOTENCY_TABLE_NAME is not set; SLACK_TIMEOUT_MS must be a whole number from 1000 to 10000 milliseconds, got "0"; ' +
      'DELIVERY_RATE_PER_SECOND must be more than 0 and at most 1000 messages per second, got "fast"',
  );
});

test('with only the required variables set, every fallback is the shared Defaults', () => {
  expect(transformerConfigFromEnv(requiredEnv)).toEqual({
    routes,
    queueUrl: requiredEnv[TransformerEnv.QueueUrl],
    deadLetterQueueUrl: requiredEnv[TransformerEnv.DeadLetterQueueUrl],
    idempotencyTableName: 'dedupe',
    deduplicationWindowSeconds: Defaults.deduplicationWindowSeconds,
    secretCacheTtlSeconds: Defaults.secretCacheTtlSeconds,
    maxReceiveCount: Defaults.maxReceiveCount,
    slackTimeoutMs: Defaults.slackTimeoutMs,
    deliveryRatePerSecond: Defaults.deliveryRatePerSecond,
    deliveryBurst: Defaults.deliveryBurst,
    // App mode: no thread table unless a route posts with a bot token.
    threadTableName: undefined,
    threadTtlSeconds: Defaults.threadTtlSeconds,
    slackTier3CallsPerMinute: Defaults.slackTier3CallsPerMinute,
    summaryTableName: undefined,
    rollupAfterSeconds: Defaults.rollupAfterSeconds,
    rollupNeverFold: [],
  });
});

test('roll-up settings: seconds (0 turns them off) and never-fold globs; a negative value is refused', () => {
  expect(transformerConfigFromEnv({ ...requiredEnv, [TransformerEnv.RollupAfterSeconds]: '0', [TransformerEnv.RollupNeverFold]: 'refund.*, subscription.on_hold' })).toMatchObject({
    rollupAfterSeconds: 0,
    rollupNeverFold: ['refund.*', 'subscription.on_hold'],
  });
  expect(() => transformerConfigFromEnv({ ...requiredEnv, [TransformerEnv.RollupAfterSeconds]: '-5' })).toThrow(/ROLLUP_AFTER_SECONDS/);
});

test('every variable the construct sets is read', () => {
  const config = transformerConfigFromEnv({
    ...requiredEnv,
    [TransformerEnv.DeduplicationWindowSeconds]: '3600',
    [TransformerEnv.SecretCacheTtlSeconds]: '60',
    [TransformerEnv.MaxReceiveCount]: '4',
    [TransformerEnv.SlackTimeoutMs]: '2500',
    [TransformerEnv.DeliveryRatePerSecond]: '0.5',
    [TransformerEnv.DeliveryBurst]: '2',
    [TransformerEnv.ThreadTableName]: 'threads',
    [TransformerEnv.ThreadTtlSeconds]: '86400',
    [TransformerEnv.SlackTier3CallsPerMinute]: '25',
    [TransformerEnv.SummaryTableName]: 'summaries',
  });
  expect(config).toMatchObject({ deduplicationWindowSeconds: 3600, secretCacheTtlSeconds: 60, maxReceiveCount: 4, slackTimeoutMs: 2500, deliveryRatePerSecond: 0.5, deliveryBurst: 2, threadTableName: 'threads', threadTtlSeconds: 86400, slackTier3CallsPerMinute: 25, summaryTableName: 'summaries' });
});

test('the table name is optional only for a caller that brings its own persistence store', () => {
  const withoutTable = omit(requiredEnv, TransformerEnv.IdempotencyTableName);
  expect(() => transformerConfigFromEnv(withoutTable)).toThrow('transformer configuration: IDEMPOTENCY_TABLE_NAME is not set');
  expect(transformerConfigFromEnv(withoutTable, { idempotencyTableRequired: false }).idempotencyTableName).toBeUndefined();
});
