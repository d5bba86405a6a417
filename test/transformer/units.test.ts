import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createSqsDelivery } from '../../lambda/transformer/sqs-delivery';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import { SECRET_PLACEHOLDER } from '../../lambda/shared/function-env';
import { SecretConfigurationError } from '../../lambda/shared/errors';
import { createRateLimiter } from '../../lambda/transformer/rate-limiter';
import { parseRetryAfter } from '../../lambda/transformer/slack-client';
import { parseSlackWebhookUrl } from '../../lambda/transformer/slack-url';

describe('parseSlackWebhookUrl', () => {
  const url = 'https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX';

  it('accepts the plain URL and {"url": …}', () => {
    expect(parseSlackWebhookUrl(url)).toBe(url);
    expect(parseSlackWebhookUrl(`  ${url}\n`)).toBe(url);
    expect(parseSlackWebhookUrl(JSON.stringify({ url }))).toBe(url);
  });

  it('flags the placeholder, also inside JSON', () => {
    for (const raw of [SECRET_PLACEHOLDER, JSON.stringify({ url: SECRET_PLACEHOLDER })]) {
      const error = captured(() => parseSlackWebhookUrl(raw));
      expect(error).toBeInstanceOf(SecretConfigurationError);
      expect(error.isPlaceholder).toBe(true);
    }
  });

  it.each([
    ['http://hooks.slack.com/services/T000/B000/XXXXsecretXXXX', /must use https/],
    ['hooks.slack.com/services/XXXXsecretXXXX', /not a URL/],
    ['{"url": 42, "token": "XXXXsecretXXXX"}', /no "url" string/],
    ['{"url": "XXXXsecretXXXX', /does not parse/],
    ['', /empty/],
  ])('rejects %s with a clear error that does not print the value', (raw, message) => {
    const error = captured(() => parseSlackWebhookUrl(raw));
    expect(error).toBeInstanceOf(SecretConfigurationError);
    expect(error.isPlaceholder).toBe(false);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('XXXXsecretXXXX');
  });

  it('allows http on the loopback interface only when asked (local server)', () => {
    expect(() => parseSlackWebhookUrl('http://127.0.0.1:3000/hook')).toThrow(/https/);
    expect(parseSlackWebhookUrl('http://127.0.0.1:3000/hook', { allowInsecureLocalhost: true })).toBe('http://127.0.0.1:3000/hook');
    expect(parseSlackWebhookUrl('http://localhost:3000/hook', { allowInsecureLocalhost: true })).toBe('http://localhost:3000/hook');
    expect(() => parseSlackWebhookUrl('http://example.com/hook', { allowInsecureLocalhost: true })).toThrow(/https/);
  });
});

function captured(fn: () => unknown): SecretConfigurationError {
  try {
    fn();
  } catch (error) {
    return error as SecretConfigurationError;
  }
  throw new Error('expected a throw');
}

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('30')).toBe(30);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(new Date(10_000 + 5_000).toUTCString(), 10_000)).toBe(5);
  });
});

describe('createRateLimiter', () => {
  function clock() {
    const state = { now: 0, waits: [] as number[] };
    const limiter = (ratePerSecond: number, burst: number) =>
      createRateLimiter({
        ratePerSecond,
        burst,
        now: () => state.now,
        sleep: (ms) => {
          state.waits.push(ms);
          return Promise.resolve();
        },
      });
    return { state, limiter };
  }

  it('lets a burst through, then paces at the rate, per key', async () => {
    const { state, limiter } = clock();
    const rl = limiter(1, 3);
    for (let i = 0; i < 5; i++) await rl.acquire('a');
    expect(state.waits).toEqual([1000, 2000]);
    await rl.acquire('b');
    expect(state.waits).toHaveLength(2);
  });

  it('refills over time', async () => {
    const { state, limiter } = clock();
    const rl = limiter(2, 2);
    await rl.acquire('a');
    await rl.acquire('a');
    state.now = 1000;
    await rl.acquire('a');
    await rl.acquire('a');
    expect(state.waits).toEqual([]);
  });

  it('acquire with a maximum wait: refuses at once, reserving nothing, when the wait is longer', async () => {
    const { state, limiter } = clock();
    const rl = limiter(1, 1);
    rl.pause('a', 30);
    expect(rl.waitMs('a')).toBe(30_000);
    expect(await rl.acquire('a', 29_999)).toBe(false);
    expect(state.waits).toEqual([]);
    expect(rl.waitMs('a')).toBe(30_000);
    expect(await rl.acquire('a', 30_000)).toBe(true);
    expect(state.waits).toEqual([30_000]);
    expect(rl.waitMs('b')).toBe(0);
  });

  it('a Retry-After pauses the key, then requests come one interval apart', async () => {
    const { state, limiter } = clock();
    const rl = limiter(1, 5);
    rl.pause('a', 30);
    await rl.acquire('a');
    await rl.acquire('a');
    expect(state.waits).toEqual([30_000, 31_000]);
  });
});

describe('createSqsDelivery().deadLetter', () => {
  it('a redriven message dead-lettered again carries only the new details, not the stale ones', async () => {
    const sqsMock = mockClient(SQSClient);
    sqsMock.on(SendMessageCommand).resolves({});
    const delivery = createSqsDelivery({ sqs: new SQSClient({ region: 'us-east-1' }), queueUrl: 'https://q', deadLetterQueueUrl: 'https://dlq' });
    const text = (stringValue: string) => ({ dataType: 'String', stringValue, stringListValues: [], binaryListValues: [] });
    const record = {
      messageId: 'm1',
      receiptHandle: 'h1',
      body: '{"type":"payment.succeeded"}',
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {
        [MessageAttribute.WebhookId]: text('msg_1'),
        [MessageAttribute.DeadLetterReason]: text('Slack answered 404 channel_not_found'),
        [MessageAttribute.DeadLetterAttempts]: { ...text('1'), dataType: 'Number' },
        [MessageAttribute.DeadLetterLastSlackResponse]: text('404 channel_not_found'),
        [MessageAttribute.DeadLetterRoute]: text('finance'),
      },
    } as unknown as SQSRecord;
    await delivery.deadLetter(record, { reason: 'transformation failed: boom', attempts: 1 });
    const sent = sqsMock.commandCalls(SendMessageCommand)[0].args[0].input;
    sqsMock.restore();
    expect(sent.QueueUrl).toBe('https://dlq');
    expect(sent.MessageBody).toBe(record.body);
    expect(sent.MessageAttributes).toEqual({
      [MessageAttribute.WebhookId]: { DataType: 'String', StringValue: 'msg_1' },
      [MessageAttribute.DeadLetterReason]: { DataType: 'String', StringValue: 'transformation failed: boom' },
      [MessageAttribute.DeadLetterAttempts]: { DataType: 'Number', StringValue: '1' },
    });
  });
});
