/**
 * Test mode on the Lambda path, against the fauxqs SQS emulator and dynalite: a record whose
 * `webhook-mode` attribute says `test` (what the receiver sets when a `test:` key verified the
 * webhook) is posted marked TEST and counted on the summaries' DynamoDB counters as left out, not
 * as revenue; a live record beside it is posted and counted as before. A test-mode record that is
 * dead-lettered keeps the attribute, so its redrive is still posted marked.
 */
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import { dynamoSummaryStore } from '../../lambda/summaries/dynamodb-aggregates';
import { TEST_LEFT_OUT } from '../../lambda/summaries/facts';
import { TEST_MODE_BLOCK_ID } from '../../lambda/messages/test-mode';
import { answer, FakeSlack, ok } from '../support/fake-slack';
import { toLambdaEvent } from '../support/delivery';
import { lambdaContext } from '../support/lambda-context';
import { captureOutput } from '../support/capture-output';
import { useAwsEmulators } from '../support/aws-emulators';
import { dodoEvent } from '../support/summary-events';

jest.setTimeout(60_000);

const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-url-AbCdEf';
const SLACK_PATH = '/services/T123/B456/modes-secret-token';
const DAY = [Date.parse('2026-12-01T00:00:00Z'), Date.parse('2026-12-02T00:00:00Z')] as const;

function payment(id: string, amount: number, mode?: 'test'): QueuedWebhook {
  const body = JSON.stringify(dodoEvent('payment.succeeded', { timestamp: '2026-12-01T10:00:00.000Z', currency: 'EUR', amount }));
  return { webhookId: id, webhookTimestamp: String(Math.floor(Date.now() / 1000)), eventType: 'payment.succeeded', body, ...(mode ? { mode } : {}) };
}

describe('test mode through the transformer handler over SQS (fauxqs)', () => {
  const slack = new FakeSlack();
  const secretsManager = mockClient(SecretsManagerClient);
  const emulators = useAwsEmulators();
  let restoreOutput: () => void;

  beforeAll(() => slack.start());
  afterAll(() => slack.stop());
  beforeEach(() => {
    slack.requests.length = 0;
    slack.respond = () => ok;
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET_ARN }).callsFake(() => Promise.resolve({ SecretString: JSON.stringify({ url: slack.url(SLACK_PATH) }) }));
    restoreOutput = captureOutput([]);
  });
  afterEach(() => restoreOutput());

  let made = 0;
  async function setup() {
    const { sqs, db } = emulators;
    const n = ++made;
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `modes-${n}`, Attributes: { VisibilityTimeout: '1' } }))).QueueUrl!;
    const deadLetterQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `modes-dlq-${n}` }))).QueueUrl!;
    const summaryTable = `modes-summaries-${n}`;
    await db.createSummaryTable(summaryTable);
    const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: SLACK_SECRET_ARN, transformation: { kind: 'builtin', options: {} } }];
    const handler = createTransformerHandler({
      env: {
        [TransformerEnv.Routes]: JSON.stringify(routes),
        [TransformerEnv.QueueUrl]: queueUrl,
        [TransformerEnv.DeadLetterQueueUrl]: deadLetterQueueUrl,
        [TransformerEnv.MaxReceiveCount]: '3',
        [TransformerEnv.SlackTimeoutMs]: '1000',
        [TransformerEnv.DeliveryRatePerSecond]: '100',
        [TransformerEnv.DeliveryBurst]: '10',
        [TransformerEnv.SecretCacheTtlSeconds]: '300',
        [TransformerEnv.IdempotencyTableName]: await db.createDeduplicationTable(),
        [TransformerEnv.SummaryTableName]: summaryTable,
      },
      sqs,
      allowInsecureLocalhostSlack: true,
      // A 404 may then be settled at once (the Slack secret re-read and found unchanged): dead-lettered.
      secretMinRefreshIntervalMs: 0,
    });
    const receive = async (url: string): Promise<Message[]> =>
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }))).Messages ?? [];
    /** What the event source does: receive a batch, invoke, delete what did not fail. */
    const invokeOnce = async () => {
      const messages = await receive(queueUrl);
      const response = await handler(toLambdaEvent(messages), lambdaContext());
      const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
      for (const message of messages) if (!failed.has(message.MessageId!)) await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      return { messages, response };
    };
    const send = (webhook: QueuedWebhook) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSqsMessage(webhook) }));
    const totals = () => dynamoSummaryStore(db.client, summaryTable).totals(...DAY);
    return { queueUrl, deadLetterQueueUrl, invokeOnce, send, receive, totals };
  }

  it('a test-mode record is posted marked TEST and counted as left out; a live one beside it as before', async () => {
    const q = await setup();
    await q.send(payment('msg_lambda_test', 99_999, 'test'));
    await q.send(payment('msg_lambda_live', 1000));
    const { messages, response } = await q.invokeOnce();
    expect(messages.map((message) => message.MessageAttributes?.[MessageAttribute.WebhookMode]?.StringValue)).toEqual(['test', undefined]);
    expect(response.batchItemFailures).toEqual([]);

    const posts = slack.delivered(SLACK_PATH).map((request) => request.json as { text: string; attachments: { blocks: { block_id?: string }[] }[] });
    expect(posts).toHaveLength(2);
    const testPost = posts.find((post) => post.text.includes('€999.99'))!;
    const livePost = posts.find((post) => post.text.includes('€10.00'))!;
    expect(testPost.text).toMatch(/^\[TEST\] /);
    expect(testPost.attachments[0].blocks[0].block_id).toBe(TEST_MODE_BLOCK_ID);
    expect(livePost.text).not.toContain('TEST');
    expect(livePost.attachments[0].blocks[0].block_id).not.toBe(TEST_MODE_BLOCK_ID);

    // The live payment's figures only; the test payment of €999.99 adds one to the left-out count.
    expect(await q.totals()).toEqual({ events: 1, 'pay.n|EUR': 1, 'pay.gross|EUR': 1000, 'product|EUR|pdt_R8AWMPiV8RyJElcCKvAID': 1000, [TEST_LEFT_OUT]: 1 });
  });

  it('a dead-lettered test-mode record keeps webhook-mode: redriven, it is still posted marked and counted once', async () => {
    const q = await setup();
    await q.send(payment('msg_lambda_dead', 4200, 'test'));
    slack.respond = () => answer(404, 'channel_not_found');
    await q.invokeOnce();
    const [dead] = await q.receive(q.deadLetterQueueUrl);
    expect(dead.MessageAttributes?.[MessageAttribute.WebhookMode]?.StringValue).toBe('test');
    expect(dead.MessageAttributes?.[MessageAttribute.DeadLetterReason]?.StringValue).toContain('404');

    // The console's "redrive to source queue": the same body and attributes, back on the main queue.
    slack.respond = () => ok;
    slack.requests.length = 0;
    await emulators.sqs.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: dead.Body!, MessageAttributes: dead.MessageAttributes }));
    expect((await q.invokeOnce()).response.batchItemFailures).toEqual([]);
    const [post] = slack.delivered(SLACK_PATH).map((request) => request.json as { text: string });
    expect(post.text).toMatch(/^\[TEST\] .*€42\.00/);
    expect(await q.totals()).toEqual({ [TEST_LEFT_OUT]: 1 });
  });
});
