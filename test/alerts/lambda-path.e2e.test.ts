/**
 * Alerts through both Lambda handlers, end to end on the emulators (fauxqs for SQS, dynalite for
 * DynamoDB, a Slack stand-in on 127.0.0.1; only Secrets Manager is mocked): events are counted by
 * the transformer, the alerts handler runs as EventBridge Scheduler invokes it (its clock
 * injected), and the transformer delivers the alerts from the same queue. The same mixes as serve's
 * end-to-end test give the same alerts. With the counters table unreachable, notifications are
 * still delivered, and the counts catch up when it is back.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createAlertHandler } from '../../lambda/alerts/handler';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { AlertsEnv, TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { dynamoSummaryStore } from '../../lambda/summaries/dynamodb-aggregates';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import { useAwsEmulators } from '../support/aws-emulators';
import { captureOutput } from '../support/capture-output';
import { toLambdaEvent } from '../support/delivery';
import { FakeSlack } from '../support/fake-slack';
import { MemoryPersistenceLayer } from '../support/memory-persistence';
import { dodoEvent } from '../support/summary-events';

jest.setTimeout(90_000);

const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-url-AbCdEf';
const NOW = Date.parse('2026-12-07T12:00:00Z');
const emulators = useAwsEmulators();
const slack = new FakeSlack();
const secretsManager = mockClient(SecretsManagerClient);
let output: string[];
let restoreOutput: () => void;
let tables = 0;
let sequence = 0;

beforeAll(async () => {
  await slack.start();
  secretsManager.on(GetSecretValueCommand).resolves({ SecretString: slack.url() });
});
afterAll(async () => {
  await slack.stop();
  secretsManager.restore();
});
beforeEach(() => {
  output = [];
  restoreOutput = captureOutput(output);
  slack.requests.length = 0;
});
afterEach(() => restoreOutput());

const context = () => ({ functionName: 'test', awsRequestId: 'req', getRemainingTimeInMillis: () => 60_000 }) as unknown as Context;

/** A queue, a counters table, a transformer counting into it (through `dynamodb`), and the alerts handler. */
async function notifier(settings: object, dynamodb?: DynamoDBClient) {
  const { sqs, db } = emulators;
  const name = `alerts-${++tables}`;
  await db.createSummaryTable(name);
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '0' } }))).QueueUrl!;
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
  const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: SLACK_SECRET_ARN, transformation: { kind: 'builtin', options: {} } }];
  const transformer = createTransformerHandler({
    env: {
      [TransformerEnv.Routes]: JSON.stringify(routes),
      [TransformerEnv.QueueUrl]: queueUrl,
      [TransformerEnv.DeadLetterQueueUrl]: dlqUrl,
      [TransformerEnv.DeliveryRatePerSecond]: '1000',
      [TransformerEnv.DeliveryBurst]: '100',
      [TransformerEnv.RollupAfterSeconds]: '0',
      [TransformerEnv.SummaryTableName]: name,
    },
    sqs,
    dynamodb: dynamodb ?? db.client,
    persistenceStore: new MemoryPersistenceLayer(),
    allowInsecureLocalhostSlack: true,
  });
  /** Records left for later (a failed count): their backoff, which a test cuts short with retryParked(). */
  const parked: string[] = [];
  /** Runs the transformer until nothing is visible on the queue. */
  const drain = async () => {
    for (;;) {
      const { Messages: messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
      if (messages.length === 0) return;
      const response = await transformer(toLambdaEvent(messages), context());
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const message of messages) {
        if (!failed.has(message.MessageId!)) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
        } else {
          await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 3600 }));
          parked.push(message.ReceiptHandle!);
        }
      }
    }
  };
  /** The parked records come back now instead of after their backoff. */
  const retryParked = async () => {
    for (const handle of parked.splice(0)) await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }));
    await drain();
  };
  const send = async (type: string, count: number, at = NOW, data: Record<string, unknown> = {}) => {
    for (let index = 0; index < count; index += 1) {
      sequence += 1;
      const envelope = dodoEvent(type, { timestamp: new Date(at - index * 1000).toISOString(), currency: 'USD', amount: 1000, data });
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSqsMessage({ webhookId: `msg_aws_${sequence}`, webhookTimestamp: String(Math.floor(at / 1000)), eventType: type, body: JSON.stringify(envelope) }) }));
    }
  };
  const alerts = (nowMs: number) =>
    createAlertHandler({
      env: { [AlertsEnv.SummaryTableName]: name, [AlertsEnv.QueueUrl]: queueUrl, [AlertsEnv.RouteId]: 'default', [AlertsEnv.Settings]: JSON.stringify(settings) },
      dynamodb: emulators.db.client,
      sqs,
      now: () => nowMs,
    })({}, context());
  return { name, drain, retryParked, send, alerts };
}

const alertTexts = () => slack.requests.map((request) => request.json.text ?? '').filter((text) => /^(Alert|Resolved):/.test(text));

test('30 payments succeeded and 20 failed: one failure alert, posted once by the transformer; later runs add nothing', async () => {
  const { drain, send, alerts } = await notifier({ silence: {}, failures: {}, refunds: {}, disputes: {} });
  await send('payment.succeeded', 30);
  await send('payment.failed', 20, NOW, { error_code: 'card_declined' });
  await drain();
  expect(await alerts(NOW + 60_000)).toMatchObject({ opened: ['failures'] });
  expect(await alerts(NOW + 120_000)).toEqual({ opened: [], resolved: [], resent: 0 });
  await drain();
  expect(alertTexts()).toHaveLength(1);
  expect(alertTexts()[0]).toMatch(/^Alert: payment failures: 20 of 50 payments failed in the last hour \(40 %\)/);
  // Two hours on, the hour is clear: resolved once.
  expect(await alerts(NOW + 2 * 3_600_000)).toMatchObject({ resolved: ['failures'] });
  await drain();
  expect(alertTexts()[1]).toMatch(/^Resolved: payment failures/);
});

test('50 payments succeeded and 1 failed: no alert', async () => {
  const { drain, send, alerts } = await notifier({ silence: {}, failures: {}, refunds: {}, disputes: {} });
  await send('payment.succeeded', 50);
  await send('payment.failed', 1);
  await drain();
  expect(await alerts(NOW + 60_000)).toEqual({ opened: [], resolved: [], resent: 0 });
});

test('silence after the threshold, resolved when webhooks arrive again; disputes over the month', async () => {
  const { drain, send, alerts } = await notifier({ silence: { afterSeconds: 3600 }, disputes: {} });
  expect(await alerts(NOW)).toEqual({ opened: [], resolved: [], resent: 0 }); // nothing before the first webhook
  await send('payment.succeeded', 20, NOW - 3 * 3_600_000);
  await send('dispute.opened', 1, NOW - 3 * 3_600_000);
  await drain();
  slack.requests.length = 0;
  expect([...(await alerts(NOW)).opened].sort()).toEqual(['disputes', 'silence']);
  await drain();
  expect(alertTexts().sort()).toEqual([
    expect.stringMatching(/^Alert: dispute ratio 5 % for 2026-12: 1 dispute\(s\) opened against 20 successful payment\(s\)/),
    expect.stringMatching(/^Alert: no webhooks for/),
  ]);
  await send('payment.succeeded', 1, NOW + 60_000);
  await drain();
  expect(await alerts(NOW + 120_000)).toMatchObject({ resolved: ['silence'] });
  await drain();
  expect(alertTexts().filter((text) => text.startsWith('Resolved:'))).toEqual([expect.stringMatching(/^Resolved: webhooks arrive again/)]);
});

test('with the counters table unreachable, notifications are delivered; the counts catch up when it is back', async () => {
  let down = true;
  const flaky = new DynamoDBClient({ endpoint: emulators.db.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
  flaky.middlewareStack.add(
    (next) => (args) => {
      if (down) return Promise.reject(Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError', $metadata: {} }));
      return next(args);
    },
    { step: 'initialize', name: 'unreachable' },
  );
  const { name, drain, retryParked, send } = await notifier({}, flaky);
  await send('payment.succeeded', 3);
  await drain();
  expect(slack.requests).toHaveLength(3); // delivered while nothing could be counted
  const totals = () => dynamoSummaryStore(emulators.db.client, name).totals(NOW - 3_600_000, NOW + 60_000);
  expect((await totals())['pay.n|USD']).toBeUndefined();
  down = false;
  // The records come back (here at once instead of after their backoff) and count.
  await retryParked();
  expect((await totals())['pay.n|USD']).toBe(3);
  expect(slack.requests).toHaveLength(3); // nothing posted twice
  flaky.destroy();
});
