/**
 * One source for each limit (lambda/shared/limits.ts): the construct's prop validation, the CLI's
 * flag checks and the handlers' environment readers take their ranges from it. Each range is
 * probed through every one of them that has the setting, at its edges and just beyond: a value one
 * of them accepts is never refused by another.
 */
import { Duration } from 'aws-cdk-lib';
import { parseServeOptions } from '../../bin/dodo-slack';
import { validateProps, type DodoSlackNotifierProps } from '../../lib/props';
import { receiverConfigFromEnv } from '../../lambda/receiver/handler';
import { ReceiverEnv, TransformerEnv } from '../../lambda/shared/function-env';
import { Limits, withinLimit, type Limit, type LimitName } from '../../lambda/shared/limits';
import { transformerConfigFromEnv } from '../../lambda/transformer/handler';
import { Transformation } from '../../lib/transformation';

type Check = (value: number) => boolean;

const accepts = (run: () => unknown): boolean => {
  try {
    run();
    return true;
  } catch {
    return false;
  }
};

const construct = (props: (value: number) => DodoSlackNotifierProps): Check => (value) => accepts(() => validateProps(props(value)));
const flag = (name: string, extra: string[] = []): Check => (value) =>
  accepts(() => parseServeOptions([`--${name}`, String(value), ...extra], { stdout: () => undefined, stderr: () => undefined, env: { DODO_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } }));
const transformerEnv = (name: string): Check => (value) =>
  accepts(() =>
    transformerConfigFromEnv({
      [TransformerEnv.Routes]: JSON.stringify([{ id: 'default', events: ['*'], slackSecretId: 'arn:slack', transformation: { kind: 'builtin', options: {} } }]),
      [TransformerEnv.QueueUrl]: 'https://queue',
      [TransformerEnv.DeadLetterQueueUrl]: 'https://dlq',
      [TransformerEnv.IdempotencyTableName]: 'table',
      [name]: String(value),
    }),
  );
const receiverEnv = (name: string): Check => (value) => accepts(() => receiverConfigFromEnv({ [ReceiverEnv.SigningSecretArn]: 'arn:signing', [ReceiverEnv.QueueUrl]: 'https://queue', [name]: String(value) }));
/** The range check only: with a limit of a few milliseconds the code itself may not load in time, which is another error. */
const userCodeTimeout: Check = (value) => {
  try {
    Transformation.fromInline('function handler(w) { return w; }', { timeout: Duration.millis(value) });
    return true;
  } catch (error) {
    return !/Transformation timeout must be/.test(String(error));
  }
};

/** Where each limit is checked. */
const CHECKS: Readonly<Record<LimitName, readonly (readonly [string, Check])[]>> = {
  timestampToleranceSeconds: [
    ['construct timestampTolerance', construct((v) => ({ timestampTolerance: Duration.seconds(v) }))],
    ['receiver TIMESTAMP_TOLERANCE_SECONDS', receiverEnv(ReceiverEnv.TimestampToleranceSeconds)],
  ],
  secretCacheTtlSeconds: [
    ['construct secretCacheTtl', construct((v) => ({ secretCacheTtl: Duration.seconds(v) }))],
    ['receiver SECRET_CACHE_TTL_SECONDS', receiverEnv(ReceiverEnv.SecretCacheTtlSeconds)],
    ['transformer SECRET_CACHE_TTL_SECONDS', transformerEnv(TransformerEnv.SecretCacheTtlSeconds)],
  ],
  maxReceiveCount: [
    ['construct maxReceiveCount', construct((v) => ({ maxReceiveCount: v }))],
    ['serve --max-attempts', flag('max-attempts')],
    ['transformer MAX_RECEIVE_COUNT', transformerEnv(TransformerEnv.MaxReceiveCount)],
  ],
  deduplicationWindowSeconds: [
    ['construct deduplicationWindow', construct((v) => ({ deduplicationWindow: Duration.seconds(v) }))],
    ['transformer DEDUPLICATION_WINDOW_SECONDS', transformerEnv(TransformerEnv.DeduplicationWindowSeconds)],
  ],
  slackTimeoutMs: [
    ['construct slackTimeout', construct((v) => ({ slackTimeout: Duration.millis(v) }))],
    ['transformer SLACK_TIMEOUT_MS', transformerEnv(TransformerEnv.SlackTimeoutMs)],
  ],
  deliveryRatePerSecond: [
    ['construct deliveryRatePerSecond', construct((v) => ({ deliveryRatePerSecond: v }))],
    ['serve --rate', flag('rate')],
    ['transformer DELIVERY_RATE_PER_SECOND', transformerEnv(TransformerEnv.DeliveryRatePerSecond)],
  ],
  deliveryBurst: [
    ['serve --burst', flag('burst')],
    ['transformer DELIVERY_BURST', transformerEnv(TransformerEnv.DeliveryBurst)],
  ],
  rollupAfterSeconds: [
    ['construct rollupAfter', construct((v) => ({ rollupAfter: Duration.seconds(v) }))],
    ['serve --rollup-after', flag('rollup-after')],
    ['transformer ROLLUP_AFTER_SECONDS', transformerEnv(TransformerEnv.RollupAfterSeconds)],
  ],
  threadTtlSeconds: [
    [
      'construct threadTtl',
      construct((v) => ({
        slackBotTokenSecret: { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bot-AbCdEf' } as never,
        slackChannelId: 'C0123456789',
        threadTtl: Duration.seconds(v),
      })),
    ],
    ['transformer THREAD_TTL_SECONDS', transformerEnv(TransformerEnv.ThreadTtlSeconds)],
  ],
  slackTier3CallsPerMinute: [['transformer SLACK_TIER3_CALLS_PER_MINUTE', transformerEnv(TransformerEnv.SlackTier3CallsPerMinute)]],
  userCodeTimeoutMs: [['Transformation timeout', userCodeTimeout]],
};

/** The edges of a limit and just beyond them, in its own granularity. */
function probes(limit: Limit): number[] {
  const step = limit.integer === true ? 1 : 0.5;
  const granule = limit.min >= 86_400 && limit.integer === true ? 86_400 : step;
  return [limit.min - granule, limit.min, limit.min + granule, limit.max - granule, limit.max, limit.max + granule].filter((value) => value >= 0);
}

describe.each(Object.keys(CHECKS) as LimitName[])('%s', (name) => {
  const limit: Limit = Limits[name];
  test.each(CHECKS[name].map(([where, check]) => [where, check] as const))('%s accepts exactly the values within the limit', (_where, check) => {
    const probed = probes(limit).map((value) => [value, check(value)] as const);
    expect(probed).toEqual(probes(limit).map((value) => [value, withinLimit(limit, value)] as const));
  });
});

test('every limit is checked somewhere, and those two or three places set are probed in each', () => {
  expect(Object.keys(CHECKS).sort()).toEqual(Object.keys(Limits).sort());
});
