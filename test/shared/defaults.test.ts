/**
 * One source of truth for each default (lambda/shared/defaults.ts): the construct, the handlers'
 * fallbacks (a variable the construct did not set) and `dodo-slack serve` must all use it. Each
 * part is read from what it really does: the synthesized template, the handlers' config readers,
 * and the settings a started `serve` pipeline runs with.
 */
import { randomBytes } from 'node:crypto';
import { parseServeOptions } from '../../bin/dodo-slack';
import { startLocalServer } from '../../lambda/local/server';
import { receiverConfigFromEnv } from '../../lambda/receiver/handler';
import { Defaults } from '../../lambda/shared/defaults';
import { ReceiverEnv, TransformerEnv } from '../../lambda/shared/function-env';
import { transformerConfigFromEnv } from '../../lambda/transformer/handler';
import { functionEnv, onlyResource, synthNotifier } from '../lib/helpers';

describe('the construct deploys the defaults', () => {
  const { template } = synthNotifier();
  const receiver = functionEnv(template, 'NotifierReceiverFunction');
  const transformer = functionEnv(template, 'NotifierTransformerFunction');

  test('receiver environment', () => {
    expect(Number(receiver[ReceiverEnv.TimestampToleranceSeconds])).toBe(Defaults.timestampToleranceSeconds);
    expect(Number(receiver[ReceiverEnv.SecretCacheTtlSeconds])).toBe(Defaults.secretCacheTtlSeconds);
  });

  test('transformer environment and the queue it reads', () => {
    expect(Number(transformer[TransformerEnv.DeduplicationWindowSeconds])).toBe(Defaults.deduplicationWindowSeconds);
    expect(Number(transformer[TransformerEnv.SecretCacheTtlSeconds])).toBe(Defaults.secretCacheTtlSeconds);
    expect(Number(transformer[TransformerEnv.MaxReceiveCount])).toBe(Defaults.maxReceiveCount);
    expect(Number(transformer[TransformerEnv.SlackTimeoutMs])).toBe(Defaults.slackTimeoutMs);
    expect(Number(transformer[TransformerEnv.DeliveryBurst])).toBe(Defaults.deliveryBurst);
    expect(Number(transformer[TransformerEnv.RollupAfterSeconds])).toBe(Defaults.rollupAfterSeconds);
    // The rate is split across the instances the event source may run at once.
    const instances = onlyResource<{ ScalingConfig: { MaximumConcurrency: number } }>(template, 'AWS::Lambda::EventSourceMapping').Properties.ScalingConfig.MaximumConcurrency;
    expect(Number(transformer[TransformerEnv.DeliveryRatePerSecond]) * instances).toBeCloseTo(Defaults.deliveryRatePerSecond, 10);
    const queue = onlyResource<{ RedrivePolicy: { maxReceiveCount: number } }>(template, 'AWS::SQS::Queue', 'NotifierQueue');
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(Defaults.maxReceiveCount);
  });
});

describe("the handlers' fallbacks are the defaults", () => {
  test('receiver, with only the required variables set', () => {
    const config = receiverConfigFromEnv({ [ReceiverEnv.SigningSecretArn]: 'arn:signing', [ReceiverEnv.QueueUrl]: 'https://queue' });
    expect(config.toleranceSeconds).toBe(Defaults.timestampToleranceSeconds);
    expect(config.secretCacheTtlSeconds).toBe(Defaults.secretCacheTtlSeconds);
  });

  test('transformer, with only the required variables set', () => {
    const config = transformerConfigFromEnv({
      [TransformerEnv.Routes]: JSON.stringify([{ id: 'default', events: ['*'], slackSecretId: 'arn:slack', transformation: { kind: 'builtin', options: {} } }]),
      [TransformerEnv.QueueUrl]: 'https://queue',
      [TransformerEnv.DeadLetterQueueUrl]: 'https://dlq',
      [TransformerEnv.IdempotencyTableName]: 'table',
    });
    expect(config).toMatchObject({
      deduplicationWindowSeconds: Defaults.deduplicationWindowSeconds,
      secretCacheTtlSeconds: Defaults.secretCacheTtlSeconds,
      maxReceiveCount: Defaults.maxReceiveCount,
      slackTimeoutMs: Defaults.slackTimeoutMs,
      deliveryRatePerSecond: Defaults.deliveryRatePerSecond,
      deliveryBurst: Defaults.deliveryBurst,
      rollupAfterSeconds: Defaults.rollupAfterSeconds,
    });
  });
});

test('dodo-slack serve without flags runs its pipeline on the defaults', async () => {
  const io = { stdout: () => undefined, stderr: () => undefined, env: { DODO_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString('base64')}` } };
  const parsed = parseServeOptions([], io);
  if (parsed.help) throw new Error('no --help was given');
  const server = await startLocalServer({ ...parsed.options, port: 0 });
  try {
    expect(server.settings).toEqual({
      timestampToleranceSeconds: Defaults.timestampToleranceSeconds,
      deduplicationWindowSeconds: Defaults.deduplicationWindowSeconds,
      slackTimeoutMs: Defaults.slackTimeoutMs,
      ratePerSecond: Defaults.deliveryRatePerSecond,
      burst: Defaults.deliveryBurst,
      rollupAfterSeconds: Defaults.rollupAfterSeconds,
    });
  } finally {
    await server.close();
  }
});
