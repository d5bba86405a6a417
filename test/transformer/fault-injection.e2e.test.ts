/**
 * The SQS engine under faults, as it ships: the transformer handler (two instances, as the event
 * source runs two at once) on the fauxqs SQS emulator, deduplicating on DynamoDB's API (dynalite,
 * through the handler's own Powertools idempotency client), while the Slack stand-in answers each
 * post by a seeded schedule (500, 503, connection reset, an answer later than the handler waits,
 * 429 with Retry-After). The test plays the Lambda event source: receive a batch, invoke, delete
 * what did not fail; the queue's visibility timeouts (set by the handler's retry delays) and its
 * dead-letter queue are the emulator's. Every event must end delivered exactly once or
 * dead-lettered with its reason: zero lost, zero duplicated.
 *
 * Deterministic: the answer to each post of each event is fixed by the seed (faulty-slack.ts).
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { createTransformerHandler, type TransformerHandler } from '../../lambda/transformer/handler';
import { fixtureBody, toLambdaEvent } from '../support/delivery';
import { lambdaContext } from '../support/lambda-context';
import { captureOutput } from '../support/capture-output';
import { useAwsEmulators } from '../support/aws-emulators';
import { FaultySlack, faultOf, type Fault } from '../support/faulty-slack';

const EVENTS = 80;
const SEED = 'sqs-faults-1';
const MAX_RECEIVE_COUNT = 5;
/** Records per invocation, as the construct's event source hands them over. */
const BATCH_SIZE = 5;
const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-url-AbCdEf';
const ids = Array.from({ length: EVENTS }, (_, index) => `pay_sqsfault_${index}`);

jest.setTimeout(150_000);

const emulators = useAwsEmulators();
const secretsManager = mockClient(SecretsManagerClient);
afterAll(() => secretsManager.restore());

test('the seed gives every kind of fault among the first posts', () => {
  const first = new Set<Fault>(ids.map((id) => faultOf(SEED, id, 1)));
  expect([...first].sort()).toEqual(['429', '500', '503', 'ok', 'reset', 'slow']);
});

test('80 events, seeded Slack faults, two handler instances: each delivered exactly once or dead-lettered with its reason', async () => {
  const slack = await new FaultySlack({ seed: SEED, keyOf: (body) => /pay_sqsfault_\d+/.exec(body)?.[0], slowMs: 1500 }).start();
  secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET_ARN }).resolves({ SecretString: slack.url() });
  const deadLetterQueueUrl = (await emulators.sqs.send(new CreateQueueCommand({ QueueName: 'faults-dlq' }))).QueueUrl!;
  const dlqArn = (await emulators.sqs.send(new GetQueueAttributesCommand({ QueueUrl: deadLetterQueueUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const queueUrl = (
    await emulators.sqs.send(
      new CreateQueueCommand({
        QueueName: 'faults',
        Attributes: { VisibilityTimeout: '30', RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: String(MAX_RECEIVE_COUNT) }) },
      }),
    )
  ).QueueUrl!;
  const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: SLACK_SECRET_ARN, transformation: { kind: 'builtin', options: {} } }];
  const env = {
    [TransformerEnv.Routes]: JSON.stringify(routes),
    [TransformerEnv.QueueUrl]: queueUrl,
    [TransformerEnv.DeadLetterQueueUrl]: deadLetterQueueUrl,
    [TransformerEnv.MaxReceiveCount]: String(MAX_RECEIVE_COUNT),
    [TransformerEnv.SlackTimeoutMs]: '1000',
    [TransformerEnv.DeliveryRatePerSecond]: '500',
    [TransformerEnv.DeliveryBurst]: '50',
    [TransformerEnv.RollupAfterSeconds]: '0',
    [TransformerEnv.IdempotencyTableName]: await emulators.db.createDeduplicationTable(),
  };
  // Two instances, each with its own caches and pacing, sharing the queue and the deduplication table.
  const instances: TransformerHandler[] = [0, 1].map(() => createTransformerHandler({ env, sqs: emulators.sqs, allowInsecureLocalhostSlack: true, baseBackoffSeconds: 1 }));

  const template = JSON.parse(fixtureBody('payment.succeeded')) as { data: Record<string, unknown> };
  for (const id of ids) {
    const body = JSON.stringify({ ...template, data: { ...template.data, payment_id: id } });
    await emulators.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSqsMessage({ webhookId: `msg_${id}`, webhookTimestamp: String(Math.floor(Date.now() / 1000)), eventType: 'payment.succeeded', body }) }));
  }

  const deadLetters: Message[] = [];
  const deadIds = () => deadLetters.map((message) => message.MessageAttributes![MessageAttribute.WebhookId].StringValue!.slice('msg_'.length));
  const settled = () => new Set([...slack.delivered, ...deadIds()]).size >= EVENTS;
  const output: string[] = [];
  const restoreOutput = captureOutput(output);
  let invocations = 0;
  try {
    const deadline = Date.now() + 120_000;
    const eventSource = async (handler: TransformerHandler): Promise<void> => {
      while (!settled() && Date.now() < deadline) {
        const { Messages: messages = [] } = await emulators.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: BATCH_SIZE, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
        );
        if (messages.length > 0) {
          invocations += 1;
          const response = await handler(toLambdaEvent(messages), lambdaContext());
          const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
          for (const message of messages) if (!failed.has(message.MessageId!)) await emulators.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
        }
        const { Messages: dead = [] } = await emulators.sqs.send(new ReceiveMessageCommand({ QueueUrl: deadLetterQueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
        for (const message of dead) {
          deadLetters.push(message);
          await emulators.sqs.send(new DeleteMessageCommand({ QueueUrl: deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle! }));
        }
        if (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    await Promise.all(instances.map(eventSource));
    await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would show up here
  } finally {
    restoreOutput();
    await slack.stop();
  }

  const deliveredTwice = slack.delivered.filter((id, index) => slack.delivered.indexOf(id) !== index);
  const both = deadIds().filter((id) => slack.delivered.includes(id));
  const lost = ids.filter((id) => !slack.delivered.includes(id) && !deadIds().includes(id));
  console.log(`SQS fault injection: ${JSON.stringify({ events: EVENTS, delivered: slack.delivered.length, deadLettered: deadLetters.length, posts: slack.requests, invocations, faults: slack.tally() })}`);
  expect({ lost, deliveredTwice, both, unrecognised: slack.unrecognised }).toEqual({ lost: [], deliveredTwice: [], both: [], unrecognised: [] });
  expect(new Set(deadIds()).size).toBe(deadLetters.length);
  for (const message of deadLetters) {
    const attributes = message.MessageAttributes!;
    expect(attributes[MessageAttribute.DeadLetterReason]?.StringValue).toMatch(/Slack (answered 5\d\d|request failed)/);
    expect(attributes[MessageAttribute.DeadLetterLastSlackResponse]?.StringValue).toEqual(expect.any(String));
    expect(message.Body).toContain(attributes[MessageAttribute.WebhookId].StringValue!.slice('msg_'.length));
  }
  // The Slack URL never reached the logs.
  expect(output.join('')).not.toContain('faulty-slack-secret-token');
  const tally = slack.tally();
  for (const fault of ['500', '503', 'reset', 'slow', '429'] as const) expect(tally[fault]).toBeGreaterThan(0);
});
