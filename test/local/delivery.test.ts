/**
 * `dodo-slack serve --retry-delay-ms` is the first step of the same growing backoff the Lambda
 * uses (30 s there), while a 429's Retry-After is honoured as Slack said.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import type { SlackPostResult } from '../../lambda/transformer/slack-client';
import { createLocalDeliveryProcessor } from '../../lambda/local/delivery';

const body = readFileSync(path.join(__dirname, '../fixtures/dodo/payment.succeeded.json'), 'utf8');
const webhook = (id: string): QueuedWebhook => ({ webhookId: id, webhookTimestamp: '1700000000', eventType: 'payment.succeeded', body });

function processorAnswering(result: SlackPostResult) {
  return createLocalDeliveryProcessor({
    routes: [
      {
        config: { id: 'default', events: ['*'], slackSecretId: 'local', transformation: { kind: 'builtin', options: {} } },
        transform: async () => ({ kind: 'message', message: { text: 'hello' } }),
        loadSlackUrl: () => 'http://127.0.0.1:9/services/T/B/X',
      },
    ],
    maxAttempts: 5,
    postToSlack: async () => result,
    ratePerSecond: 1000,
    burst: 1000,
    baseBackoffSeconds: 0.25,
  });
}

test.each([
  [1, 0.25],
  [2, 0.5],
  [3, 1],
])('a 500 on attempt %i is retried after %f s (sub-second steps kept, doubling)', async (receiveCount, expected) => {
  const processor = processorAnswering({ kind: 'response', status: 500, body: 'rollup_error' });
  const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook(`msg_${receiveCount}`), receiveCount }]);
  expect(outcomes.get('r')).toMatchObject({ kind: 'retry', delaySeconds: expected });
});

test("a 429 is retried after Slack's Retry-After, not the local backoff", async () => {
  const processor = processorAnswering({ kind: 'response', status: 429, body: 'rate_limited', retryAfterSeconds: 3 });
  const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook('msg_429'), receiveCount: 1 }]);
  expect(outcomes.get('r')).toMatchObject({ kind: 'retry', delaySeconds: 3 });
});

describe('roll-ups and app mode', () => {
  test('incoming-webhook routes may fold; an app-mode route never does (its events go in their threads)', async () => {
    const { createLocalDelivery } = await import('../../lambda/local/delivery');
    const threads = { get: async () => undefined, create: async () => true, replace: async () => true };
    const builtin = { kind: 'builtin' as const, options: {} };
    const { rollups } = createLocalDelivery({
      maxAttempts: 3,
      routes: [
        { config: { id: 'hooks', events: ['*'], slackSecretId: 'x', transformation: builtin }, transform: async () => ({ kind: 'skip', reason: 'test' }), loadSlackUrl: () => 'http://127.0.0.1:9/services/T/B/x' },
        {
          config: { id: 'app', events: ['*'], slackSecretId: 'y', slackChannelId: 'C0123456789', transformation: builtin },
          transform: async () => ({ kind: 'skip', reason: 'test' }),
          loadSlackUrl: () => '',
          loadSlackBotToken: () => 'xoxb-1-2-abc',
        },
      ],
      slackApp: { threads },
    });
    expect(rollups.foldingRoutes('payment.succeeded').map((route) => route.id)).toEqual(['hooks']);
    expect(rollups.matchingRoutes('payment.succeeded').map((route) => route.id)).toEqual(['hooks']);
  });
});
