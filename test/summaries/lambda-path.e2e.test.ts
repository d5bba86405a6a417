/**
 * The summaries through both Lambda handlers, end to end on real emulators: fauxqs for SQS,
 * dynalite for DynamoDB, a Slack stand-in on 127.0.0.1 (only Secrets Manager is mocked, as in the
 * transformer's own e2e test). Events go through the transformer (counted once each, whatever
 * SQS redelivers), the summary handler runs as EventBridge Scheduler would invoke it, and the
 * transformer delivers the summary from the same queue, once.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { MemoryPersistenceLayer } from '../support/memory-persistence';
import { SummariesEnv, TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import { createSummaryHandler } from '../../lambda/summaries/handler';
import { dynamoSummaryStore } from '../../lambda/summaries/dynamodb-aggregates';
import { FakeSlack } from '../support/fake-slack';
import { toLambdaEvent } from '../support/delivery';
import { startDynalite, type Dynalite } from '../support/dynalite';
import { DAY_MIX, PREVIOUS_DAY } from '../support/summary-events';
import { captureOutput } from '../support/capture-output';
import { startFauxqs, type Fauxqs } from '../support/fauxqs';
import { FakeDodoApi } from '../support/fake-dodo-api';

jest.setTimeout(60_000);

const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-url-AbCdEf';
const TABLE = 'notifier-summaries';

const slack = new FakeSlack();
const secretsManager = mockClient(SecretsManagerClient);
let fauxqs: Fauxqs;
let sqs: SQSClient;
let db: Dynalite;
let output: string[];
let restoreOutput: () => void;

beforeAll(async () => {
  await slack.start();
  db = await startDynalite();
  await db.createSummaryTable(TABLE);
  fauxqs = await startFauxqs();
  sqs = fauxqs.sqs;
  secretsManager.on(GetSecretValueCommand).resolves({ SecretString: slack.url() });
});
afterAll(async () => {
  fauxqs.stop();
  await db.stop();
  await slack.stop();
  secretsManager.restore();
});
beforeEach(() => {
  output = [];
  restoreOutput = captureOutput(output);
});
afterEach(() => restoreOutput());

const context = () => ({ functionName: 'test', awsRequestId: 'req', getRemainingTimeInMillis: () => 60_000 }) as unknown as Context;

test('events counted once through the transformer; the scheduled summary is queued once and posted once from the same queue', async () => {
  const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'notifier', Attributes: { VisibilityTimeout: '0' } }))).QueueUrl!;
  const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'notifier-dlq' }))).QueueUrl!;
  const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: SLACK_SECRET_ARN, transformation: { kind: 'builtin', options: {} } }];
  const transformer = createTransformerHandler({
    env: {
      [TransformerEnv.Routes]: JSON.stringify(routes),
      [TransformerEnv.QueueUrl]: queueUrl,
      [TransformerEnv.DeadLetterQueueUrl]: dlqUrl,
      [TransformerEnv.DeliveryRatePerSecond]: '1000',
      [TransformerEnv.DeliveryBurst]: '100',
      [TransformerEnv.SummaryTableName]: TABLE,
    },
    sqs,
    dynamodb: db.client,
    persistenceStore: new MemoryPersistenceLayer(),
    allowInsecureLocalhostSlack: true,
  });
  const drain = async () => {
    for (;;) {
      const { Messages: messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
      if (messages.length === 0) return;
      const response = await transformer(toLambdaEvent(messages), context());
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const message of messages) if (!failed.has(message.MessageId!)) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  };
  const events = [...DAY_MIX, ...PREVIOUS_DAY].map(({ id, envelope }) => ({ webhookId: id, webhookTimestamp: '1764547200', eventType: envelope.type, body: JSON.stringify(envelope) }));
  // Every event twice, as Dodo's retries and a redrive would queue it.
  for (const event of [...events, ...events]) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSqsMessage(event) }));
  await drain();
  expect(slack.requests).toHaveLength(events.length); // posted once each
  const totals = await dynamoSummaryStore(db.client, TABLE).totals(Date.parse('2026-12-01T00:00:00Z'), Date.parse('2026-12-02T00:00:00Z'));
  expect(totals).toMatchObject({ events: 12, 'pay.gross|JPY': 1500, 'pay.gross|KWD': 12345, 'pay.gross|EUR': 124456, 'pay.gross|USD': 2999 });

  slack.requests.length = 0;
  const summary = createSummaryHandler({ env: { [SummariesEnv.SummaryTableName]: TABLE, [SummariesEnv.QueueUrl]: queueUrl }, dynamodb: db.client, sqs, now: () => Date.parse('2026-12-02T08:00:02Z') });
  const scheduled = { kind: 'day', timeZone: 'Europe/Berlin', routeId: 'default', scheduledTime: '2026-12-02T08:00:00Z' };
  expect(await summary(scheduled, context())).toMatchObject({ outcome: 'queued', period: '2026-12-01' });
  expect(await summary(scheduled, context())).toMatchObject({ outcome: 'already-queued' }); // Scheduler retried
  await drain();
  expect(slack.requests).toHaveLength(1);
  // Berlin's Dec 1: the USD payment at 23:59:59Z is Dec 2 there.
  expect(slack.requests[0].json.text).toBe('Daily summary · Tue 1 Dec 2026: 5 payments · net €1,234.56, ¥1,500, KWD 12.345');
  expect(slack.requests[0].body).toContain('Window 2026-12-01 00:00 – 2026-12-02 00:00 Europe/Berlin (UTC+01:00)');
  // A summary is not an event: it added nothing to the aggregates.
  expect((await dynamoSummaryStore(db.client, TABLE).totals(Date.parse('2026-12-02T00:00:00Z'), Date.parse('2026-12-03T00:00:00Z'))).events).toBeUndefined();
  await expect(summary({ kind: 'month' }, context())).rejects.toThrow('summary event: kind must be "day" or "week"');
});

test("with the Dodo API key's secret, the summary function names the top products (the API asked once per product)", async () => {
  const KEY_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo-api-AbCdEf';
  const api = new FakeDodoApi().product('pdt_tea', 'Sencha').product('pdt_pro', 'Pro plan');
  const apiUrl = await api.start();
  secretsManager.on(GetSecretValueCommand, { SecretId: KEY_ARN }).resolves({ SecretString: 'dodo_sk_summary_key' });
  try {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'notifier-names' }))).QueueUrl!;
    const summary = createSummaryHandler({
      env: { [SummariesEnv.SummaryTableName]: TABLE, [SummariesEnv.QueueUrl]: queueUrl, [SummariesEnv.DodoApiKeySecretArn]: KEY_ARN, [SummariesEnv.DodoApiUrl]: apiUrl },
      dynamodb: db.client,
      sqs,
      now: () => Date.parse('2026-12-02T08:00:02Z'),
    });
    // UTC's Dec 1 (the Berlin summary of the test before is another spec); the events are counted already.
    expect(await summary({ kind: 'day', timeZone: 'UTC', routeId: 'default', scheduledTime: '2026-12-02T08:00:00Z' }, context())).toMatchObject({ outcome: 'queued' });
    const { Messages: messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    expect(messages).toHaveLength(1);
    expect(messages[0].Body).toContain('Sencha (`pdt_tea`)');
    expect(messages[0].Body).toContain('Pro plan (`pdt_pro`)');
    expect(api.requestsFor('/products/pdt_tea')).toEqual([{ method: 'GET', path: '/products/pdt_tea', authorization: 'Bearer dodo_sk_summary_key' }]);
    expect(output.join('')).not.toContain('dodo_sk_summary_key');
  } finally {
    await api.stop();
  }
});
