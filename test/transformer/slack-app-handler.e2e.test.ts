/**
 * Slack app mode through the transformer Lambda handler: SQS (fauxqs, an SQS emulator in a child
 * process) → handler → Slack Web API stand-in on 127.0.0.1, with the threads in DynamoDB (dynalite,
 * on a table shaped like the construct's, reached through THREAD_TABLE_NAME and the SDK's default
 * client as on AWS). Only Secrets Manager is mocked (aws-sdk-client-mock); deduplication uses the
 * in-memory persistence layer (its DynamoDB side is tested elsewhere).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { MemoryPersistenceLayer } from '../support/memory-persistence';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import { toLambdaEvent } from '../support/delivery';
import { FakeSlackApi } from '../support/fake-slack-api';
import { startThreadDynalite, type ThreadDynalite } from '../support/dynalite-threads';
import { PAYMENT_STORY, shownText } from '../support/slack-app-story';
import { lambdaContext } from '../support/lambda-context';
import { captureOutput } from '../support/capture-output';
import { startFauxqs, type Fauxqs } from '../support/fauxqs';

jest.setTimeout(30_000);

const TOKEN_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-bot-AbCdEf';
const TOKEN = 'xoxb-test-0000-token';
const CHANNEL = 'C0TESTCHAN';

describe('transformer handler in Slack app mode (fauxqs + dynalite + Web API stand-in)', () => {
  const api = new FakeSlackApi();
  const secretsManager = mockClient(SecretsManagerClient);
  let fauxqs: Fauxqs;
  let sqs: SQSClient;
  let db: ThreadDynalite;
  let output: string[];
  let restoreOutput: () => void;
  let tokenValue: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    await api.start();
    db = await startThreadDynalite();
    Object.assign(process.env, { AWS_ENDPOINT_URL_DYNAMODB: db.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' });
    fauxqs = await startFauxqs();
    sqs = fauxqs.sqs;
  });
  afterAll(async () => {
    fauxqs.stop();
    await db.stop();
    await api.stop();
    process.env = savedEnv;
  });
  beforeEach(() => {
    api.reset();
    tokenValue = TOKEN;
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand, { SecretId: TOKEN_ARN }).callsFake(() => Promise.resolve({ SecretString: tokenValue }));
    output = [];
    restoreOutput = captureOutput(output);
  });
  afterEach(() => {
    restoreOutput();
    // Powertools' JSON log lines never carry the bot token.
    expect(output.join('')).not.toContain(TOKEN);
  });

  let counter = 0;
  async function setup(options: { maxReceiveCount?: number; slackTimeoutMs?: number } = {}) {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `app-${++counter}`, Attributes: { VisibilityTimeout: '1' } }))).QueueUrl!;
    const deadLetterQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `app-dlq-${counter}` }))).QueueUrl!;
    const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: TOKEN_ARN, slackChannelId: CHANNEL, transformation: { kind: 'builtin', options: {} } }];
    const handler = createTransformerHandler({
      env: {
        [TransformerEnv.Routes]: JSON.stringify(routes),
        [TransformerEnv.QueueUrl]: queueUrl,
        [TransformerEnv.DeadLetterQueueUrl]: deadLetterQueueUrl,
        [TransformerEnv.MaxReceiveCount]: String(options.maxReceiveCount ?? 3),
        [TransformerEnv.SlackTimeoutMs]: String(options.slackTimeoutMs ?? 2000),
        [TransformerEnv.DeliveryRatePerSecond]: '100',
        [TransformerEnv.DeliveryBurst]: '10',
        [TransformerEnv.ThreadTableName]: await db.createThreadTable(),
        [TransformerEnv.SlackTier3CallsPerMinute]: '6000',
      },
      sqs,
      persistenceStore: new MemoryPersistenceLayer(),
      slackApiUrl: api.url,
      secretMinRefreshIntervalMs: 0,
    });
    let sent = 0;
    /** Queues one webhook and runs the handler on what SQS hands out, as the event source does. */
    async function deliver(body: string, type: string): Promise<{ webhookId: string; failures: number }> {
      const event: QueuedWebhook = { webhookId: `msg_lambda_${counter}_${++sent}`, webhookTimestamp: String(Math.floor(Date.now() / 1000)), eventType: type, body };
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSqsMessage(event) }));
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
      const messages = received.Messages ?? [];
      const response = await handler(toLambdaEvent(messages), lambdaContext());
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const message of messages) if (!failed.has(message.MessageId!)) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      return { webhookId: event.webhookId, failures: failed.size };
    }
    async function deadLetters(): Promise<Message[]> {
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterQueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
      return received.Messages ?? [];
    }
    return { deliver, deadLetters };
  }

  test('payment → refund → dispute opened → dispute won: one parent, replies in its thread, the card at the outcome', async () => {
    const { deliver } = await setup();
    const ids: string[] = [];
    const callsPerEvent: number[] = [];
    for (const event of PAYMENT_STORY) {
      const before = api.calls.length;
      const { webhookId, failures } = await deliver(event.body, event.type);
      expect(failures).toBe(0);
      ids.push(webhookId);
      callsPerEvent.push(api.calls.length - before);
    }
    const [parent, ...others] = api.parents(CHANNEL);
    expect(others).toEqual([]);
    expect(parent.thread_ts).toBeUndefined();
    expect(api.replies(parent.ts).map((reply) => reply.metadata?.event_payload.webhook_id)).toEqual(ids);
    expect(shownText(parent)).toContain('dispute won');
    expect(shownText(parent)).toContain('refunded $10.00');
    expect(api.calls.every((call) => call.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(callsPerEvent).toEqual([2, 2, 2, 2]);
  });

  test('a dispute that arrives before its payment still gives one thread', async () => {
    const { deliver } = await setup();
    const dispute = await deliver(PAYMENT_STORY[2].body, 'dispute.opened');
    const payment = await deliver(PAYMENT_STORY[0].body, 'payment.succeeded');
    const parents = api.parents(CHANNEL);
    expect(parents).toHaveLength(1);
    expect(api.replies(parents[0].ts).map((reply) => reply.metadata?.event_payload.webhook_id)).toEqual([dispute.webhookId, payment.webhookId]);
    expect(shownText(parents[0])).toContain('Payment succeeded');
  });

  test('a post Slack records but answers after the timeout ends in the channel once, not dead-lettered', async () => {
    const { deliver, deadLetters } = await setup({ slackTimeoutMs: 1000 });
    let slowed = false;
    api.respond = (call) => {
      if (call.method === 'chat.postMessage' && !slowed) {
        slowed = true;
        return { kind: 'record-then-slow', delayMs: 2500 };
      }
      return { kind: 'normal' };
    };
    const { webhookId, failures } = await deliver(PAYMENT_STORY[0].body, 'payment.succeeded');
    expect(failures).toBe(0);
    expect(api.withWebhookId(webhookId).map((m) => m.metadata?.event_payload.role)).toEqual(['parent', 'reply']);
    expect(api.parents(CHANNEL)).toHaveLength(1);
    expect(api.count('conversations.history')).toBe(1);
    expect(await deadLetters()).toEqual([]);
  });

  test('not_in_channel: the token is read once more, then the event is dead-lettered with the reason', async () => {
    const { deliver, deadLetters } = await setup();
    api.respond = () => ({ kind: 'answer', status: 200, body: { ok: false, error: 'not_in_channel' } });
    const { failures } = await deliver(PAYMENT_STORY[0].body, 'payment.succeeded');
    expect(failures).toBe(0);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    const [dead] = await deadLetters();
    expect(dead?.MessageAttributes?.[MessageAttribute.DeadLetterReason]?.StringValue).toMatch(/not_in_channel \(the Slack bot token secret has not changed\)/);
    expect(dead?.MessageAttributes?.[MessageAttribute.DeadLetterLastSlackResponse]?.StringValue).toBe('chat.postMessage 200 not_in_channel');
    expect(JSON.stringify(dead)).not.toContain(TOKEN);
  });

  test('invalid_auth after a rotation: the new token from the secret is used, the event delivered once', async () => {
    const { deliver } = await setup();
    await deliver(PAYMENT_STORY[0].body, 'payment.succeeded');
    // The operator rotates the token in the console; Slack no longer takes the old one.
    const rotated = 'xoxb-test-1111-rotated';
    api.tokens = new Set([rotated]);
    tokenValue = rotated;
    const { webhookId, failures } = await deliver(PAYMENT_STORY[1].body, 'refund.succeeded');
    expect(failures).toBe(0);
    expect(api.withWebhookId(webhookId)).toHaveLength(1);
    expect(api.calls.at(-1)?.authorization).toBe(`Bearer ${rotated}`);
    expect(output.join('')).not.toContain(rotated);
  });
});
