import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { MemoryPersistenceLayer } from '../support/memory-persistence';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import { SECRET_PLACEHOLDER, TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import { startDynalite, type Dynalite } from '../support/dynalite';
import { answer, FakeSlack, ok } from '../support/fake-slack';
import { toLambdaEvent, webhook } from '../support/delivery';
import { lambdaContext } from '../support/lambda-context';
import { captureOutput } from '../support/capture-output';
import { startFauxqs, type Fauxqs } from '../support/fauxqs';

/**
 * The SQS side of the transformer against fauxqs (an SQS emulator speaking the SDK v3 protocol,
 * run in a child process because it is ESM-only), and the handler end to end: SQS -> handler ->
 * Slack stand-in on 127.0.0.1. Only Secrets Manager is mocked (aws-sdk-client-mock); the
 * idempotency table is a real DynamoDB API (dynalite, on a table shaped like the construct's),
 * reached the way the deployed handler reaches it: through IDEMPOTENCY_TABLE_NAME and the SDK's
 * default client (AWS_ENDPOINT_URL_DYNAMODB points it at dynalite).
 */
jest.setTimeout(30_000);

const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-url-AbCdEf';
const SLACK_PATH = '/services/T123/B456/very-secret-token';

describe('transformer handler over SQS (fauxqs)', () => {
  const slack = new FakeSlack();
  const secretsManager = mockClient(SecretsManagerClient);
  let fauxqs: Fauxqs;
  let sqs: SQSClient;
  let deadLetterQueueUrl: string;
  let stdout: string[];
  let restoreOutput: () => void;
  let slackSecret: string;
  let db: Dynalite;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    await slack.start();
    db = await startDynalite();
    // The SDK's default DynamoDB client (the one the handler builds) talks to dynalite.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    delete process.env.AWS_PROFILE;
    fauxqs = await startFauxqs();
    sqs = fauxqs.sqs;
    deadLetterQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'notifier-dlq' }))).QueueUrl!;
  });
  afterAll(async () => {
    fauxqs.stop();
    await slack.stop();
    await db.stop();
    process.env = savedEnv;
  });

  beforeEach(() => {
    slack.requests.length = 0;
    slack.respond = () => ok;
    slackSecret = slack.url(SLACK_PATH);
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET_ARN }).callsFake(() => Promise.resolve({ SecretString: JSON.stringify({ url: slackSecret }) }));
    stdout = [];
    // Powertools writes info lines to stdout, warnings and errors to stderr: capture both, echo nothing.
    restoreOutput = captureOutput(stdout);
  });
  afterEach(() => {
    restoreOutput();
    // Slack URLs never reach the logs (Powertools writes JSON lines to stdout).
    expect(stdout.join('')).not.toContain('very-secret-token');
  });

  let queueCounter = 0;
  /** A fresh main queue per test, with a redrive policy to the shared DLQ. */
  async function setup(maxReceiveCount = 3, secretMinRefreshIntervalMs?: number) {
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
    const queueUrl = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: `notifier-${++queueCounter}`,
          Attributes: { VisibilityTimeout: '1', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(maxReceiveCount) }) },
        }),
      )
    ).QueueUrl!;
    const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: SLACK_SECRET_ARN, transformation: { kind: 'builtin', options: {} } }];
    const tableName = await db.createDeduplicationTable();
    const handler = createTransformerHandler({
      env: {
        [TransformerEnv.Routes]: JSON.stringify(routes),
        [TransformerEnv.QueueUrl]: queueUrl,
        [TransformerEnv.DeadLetterQueueUrl]: deadLetterQueueUrl,
        [TransformerEnv.MaxReceiveCount]: String(maxReceiveCount),
        [TransformerEnv.SlackTimeoutMs]: '1000',
        [TransformerEnv.DeliveryRatePerSecond]: '100',
        [TransformerEnv.DeliveryBurst]: '10',
        [TransformerEnv.SecretCacheTtlSeconds]: '300',
        [TransformerEnv.IdempotencyTableName]: tableName,
      },
      sqs,
      allowInsecureLocalhostSlack: true,
      ...(secretMinRefreshIntervalMs === undefined ? {} : { secretMinRefreshIntervalMs }),
    });

    /** What the Lambda event source does: receive a batch, invoke, delete what did not fail. */
    async function invokeOnce(): Promise<{ response: SQSBatchResponse; messages: Message[] }> {
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
      );
      const messages = received.Messages ?? [];
      const response = await handler(toLambdaEvent(messages), lambdaContext());
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const message of messages) {
        if (!failed.has(message.MessageId!)) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      }
      return { response, messages };
    }
    const send = (event = webhook()) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSqsMessage(event) })).then(() => event);
    const receiveRaw = (visibility = 0) =>
      sqs
        .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: visibility, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }))
        .then((r) => r.Messages ?? []);
    const makeVisible = (message: Message) => sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 }));
    const deduplicationItems = async () => (await db.client.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
    return { queueUrl, handler, invokeOnce, send, receiveRaw, makeVisible, deduplicationItems };
  }

  async function drainDeadLetters(): Promise<Message[]> {
    const out: Message[] = [];
    for (;;) {
      const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterQueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
      if (!received.Messages?.length) return out;
      for (const message of received.Messages) {
        out.push(message);
        await sqs.send(new DeleteMessageCommand({ QueueUrl: deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle! }));
      }
    }
  }

  it('send, receive, deliver: the message is acknowledged and Slack gets the built-in message', async () => {
    const q = await setup();
    const event = await q.send(webhook('payment.succeeded'));
    const { response, messages } = await q.invokeOnce();
    expect(messages).toHaveLength(1);
    expect(response.batchItemFailures).toEqual([]);
    expect(slack.delivered(SLACK_PATH)).toHaveLength(1);
    expect(typeof slack.requests[0].json.text).toBe('string');
    expect(await q.receiveRaw()).toEqual([]);
    // The delivery is remembered in the table; the same webhook sent again (Dodo's retry) posts nothing.
    expect((await q.deduplicationItems()).map((item) => item.status?.S)).toEqual(['COMPLETED']);
    await q.send(event);
    expect((await q.invokeOnce()).response.batchItemFailures).toEqual([]);
    expect(slack.delivered(SLACK_PATH)).toHaveLength(1);
    // The Powertools logger wrote JSON lines naming the webhook, not the URL, with webhook-id as correlation id.
    expect(stdout.join('')).toContain(event.webhookId);
    const delivered = stdout
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line['message'] === 'Message delivered to Slack');
    expect(delivered).toMatchObject({ correlation_id: event.webhookId, webhookId: event.webhookId });
  });

  it('partial batch failure: only the failed record is reported, and its visibility is set to the retry delay', async () => {
    const q = await setup();
    const good = await q.send();
    const bad = await q.send();
    slack.respond = (_r, index) => (index === 1 ? answer(503, 'service_unavailable') : ok);
    const { response, messages } = await q.invokeOnce();
    expect(messages.map((m) => m.MessageAttributes![MessageAttribute.WebhookId].StringValue)).toEqual([good.webhookId, bad.webhookId]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: messages[1].MessageId }]);
    // The queue's own visibility timeout is 1 s; ours (30 s backoff) keeps it hidden well beyond that.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await q.receiveRaw()).toEqual([]);
  });

  it('429: the record comes back after Retry-After; the rest of the batch is not attempted', async () => {
    const q = await setup();
    await q.send();
    await q.send();
    slack.respond = () => answer(429, 'rate_limited', { 'retry-after': '2' });
    const { response, messages } = await q.invokeOnce();
    expect(response.batchItemFailures).toHaveLength(2);
    expect(slack.requests).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    expect(await q.receiveRaw()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const back = await q.receiveRaw();
    expect(back.map((m) => m.MessageId).sort()).toEqual(messages.map((m) => m.MessageId).sort());
    expect(back.every((m) => m.Attributes!.ApproximateReceiveCount === '2')).toBe(true);
  });

  it('the SQS redrive policy moves a message to the DLQ after maxReceiveCount receives', async () => {
    const q = await setup(2);
    const event = await q.send();
    for (let receive = 1; receive <= 2; receive++) {
      const [message] = await q.receiveRaw(30);
      expect(message.Attributes!.ApproximateReceiveCount).toBe(String(receive));
      await q.makeVisible(message);
    }
    expect(await q.receiveRaw()).toEqual([]);
    const dead = await drainDeadLetters();
    expect(dead.map((m) => m.MessageAttributes![MessageAttribute.WebhookId].StringValue)).toEqual([event.webhookId]);
  });

  it('at maxReceiveCount the handler sends body + attributes + reason to the DLQ and acknowledges the record', async () => {
    const q = await setup(2);
    const event = await q.send(webhook('refund.succeeded'));
    slack.respond = () => answer(500, 'internal_error');
    const first = await q.invokeOnce();
    expect(first.response.batchItemFailures).toHaveLength(1);
    // Hidden for the 30 s backoff; then time passes (we make it visible again with its receipt handle).
    expect(await q.receiveRaw()).toEqual([]);
    await q.makeVisible(first.messages[0]);
    const second = await q.invokeOnce();
    expect(second.messages[0].Attributes!.ApproximateReceiveCount).toBe('2');
    expect(second.response.batchItemFailures).toEqual([]);
    expect(await q.receiveRaw()).toEqual([]);

    const [dead] = await drainDeadLetters();
    expect(dead.Body).toBe(event.body);
    const attributes = dead.MessageAttributes!;
    expect(attributes[MessageAttribute.WebhookId].StringValue).toBe(event.webhookId);
    expect(attributes[MessageAttribute.WebhookTimestamp].StringValue).toBe(event.webhookTimestamp);
    expect(attributes[MessageAttribute.EventType].StringValue).toBe('refund.succeeded');
    expect(attributes[MessageAttribute.DeadLetterReason].StringValue).toBe('Slack answered 500 internal_error');
    expect(attributes[MessageAttribute.DeadLetterAttempts].StringValue).toBe('2');
    expect(attributes[MessageAttribute.DeadLetterLastSlackResponse].StringValue).toBe('500 internal_error');
    expect(attributes[MessageAttribute.DeadLetterRoute].StringValue).toBe('default');

    // The operator fixes Slack and redrives: the copy is delivered once.
    slack.respond = () => ok;
    await sqs.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: dead.Body!, MessageAttributes: dead.MessageAttributes }));
    const redriven = await q.invokeOnce();
    expect(redriven.response.batchItemFailures).toEqual([]);
    expect(slack.delivered(SLACK_PATH)).toHaveLength(1);
  });

  it('404 right after the secret was read: retried later (the refetch is rate-limited), not dead-lettered', async () => {
    const q = await setup();
    await q.send();
    slack.respond = () => answer(404, 'channel_not_found');
    const { response } = await q.invokeOnce();
    expect(response.batchItemFailures).toHaveLength(1);
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(await drainDeadLetters()).toEqual([]);
  });

  it('404 channel_not_found: secret refetched, then straight to the DLQ with the reason; a rotated secret is used at once', async () => {
    const q = await setup(3, 0);
    await q.send();
    slack.respond = (request) => (request.path === SLACK_PATH ? answer(404, 'channel_not_found') : ok);
    const first = await q.invokeOnce();
    expect(first.response.batchItemFailures).toEqual([]);
    const [dead] = await drainDeadLetters();
    expect(dead.MessageAttributes![MessageAttribute.DeadLetterReason].StringValue).toBe('Slack answered 404 channel_not_found (the Slack secret has not changed)');
    expect(dead.MessageAttributes![MessageAttribute.DeadLetterLastSlackResponse].StringValue).toBe('404 channel_not_found');
    expect(secretsManager.commandCalls(GetSecretValueCommand)).toHaveLength(2);

    // The operator rotates the secret; the next 404 from the old URL moves to the new one at once.
    slackSecret = slack.url('/services/T123/B789/another-very-secret-token');
    await q.send();
    const second = await q.invokeOnce();
    expect(second.response.batchItemFailures).toEqual([]);
    expect(slack.delivered('/services/T123/B789/another-very-secret-token')).toHaveLength(1);
    expect(await drainDeadLetters()).toEqual([]);
  });

  it('placeholder secret: retried (visibility = backoff) while the operator has not set it', async () => {
    const q = await setup();
    slackSecret = SECRET_PLACEHOLDER;
    secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET_ARN }).resolves({ SecretString: SECRET_PLACEHOLDER });
    await q.send();
    const { response } = await q.invokeOnce();
    expect(response.batchItemFailures).toHaveLength(1);
    expect(slack.requests).toHaveLength(0);
    expect(stdout.join('')).toContain('placeholder');
  });

  it('a record without the webhook attributes goes to the DLQ with the reason instead of looping', async () => {
    const q = await setup();
    await sqs.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: '{"type":"payment.succeeded"}' }));
    const { response } = await q.invokeOnce();
    expect(response.batchItemFailures).toEqual([]);
    const [dead] = await drainDeadLetters();
    expect(dead.MessageAttributes![MessageAttribute.DeadLetterReason].StringValue).toMatch(/has no "webhook-id" attribute/);
  });

  it('an SQS call that fails while settling leaves the record on the queue (reported failed), never acknowledged', async () => {
    const failingSqs = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const sqsMock = mockClient(failingSqs);
    sqsMock.onAnyCommand().rejects(new Error('SQS is down'));
    try {
      const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: SLACK_SECRET_ARN, transformation: { kind: 'builtin', options: {} } }];
      const handler = createTransformerHandler({
        env: {
          [TransformerEnv.Routes]: JSON.stringify(routes),
          [TransformerEnv.QueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
          [TransformerEnv.DeadLetterQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq',
          [TransformerEnv.MaxReceiveCount]: '3',
          [TransformerEnv.SlackTimeoutMs]: '1000',
          [TransformerEnv.DeliveryRatePerSecond]: '100',
        },
        sqs: failingSqs,
        persistenceStore: new MemoryPersistenceLayer(),
        allowInsecureLocalhostSlack: true,
      });
      const asMessage = (event: ReturnType<typeof webhook>, id: string, receiveCount: string): Message => ({
        MessageId: id,
        ReceiptHandle: `rh-${id}`,
        Body: event.body,
        Attributes: { ApproximateReceiveCount: receiveCount },
        ...(id === 'no-attributes' ? {} : { MessageAttributes: toSqsMessage(event).MessageAttributes }),
      });
      // 400 -> dead-letter (SendMessage fails), 503 -> retry (ChangeMessageVisibility fails), 429 at the last receive -> requeue (fails), no attributes -> dead-letter (fails)
      const scripts = [answer(400, 'invalid_payload'), answer(503, 'busy'), answer(429, 'rate_limited', { 'retry-after': '1' })];
      slack.respond = (_r, index) => scripts[index];
      const messages = [asMessage(webhook(), 'dead', '1'), asMessage(webhook(), 'retry', '1'), asMessage(webhook(), 'requeue', '3'), asMessage(webhook(), 'no-attributes', '1')];
      const response = await handler(toLambdaEvent(messages), lambdaContext());
      expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['dead', 'no-attributes', 'requeue', 'retry']);
      expect(stdout.join('')).toContain('Could not settle the record with SQS');
    } finally {
      sqsMock.restore();
      failingSqs.destroy();
    }
  });

  it('at the last receive, a record whose turn never came (429) is re-queued fresh instead of a reasonless DLQ move', async () => {
    const q = await setup(1);
    await q.send();
    slack.respond = () => answer(429, 'rate_limited', { 'retry-after': '0' });
    const { response, messages } = await q.invokeOnce();
    expect(response.batchItemFailures).toEqual([]);
    const [copy] = await q.receiveRaw();
    expect(copy.MessageId).not.toBe(messages[0].MessageId);
    expect(copy.Body).toBe(messages[0].Body);
    expect(copy.Attributes!.ApproximateReceiveCount).toBe('1');
    expect(await drainDeadLetters()).toEqual([]);
  });
});
