/**
 * Names on the Lambda path: the transformer handler with the Dodo API key's secret (Secrets Manager
 * mocked, as the construct wires it) and a Dodo API stand-in on 127.0.0.1 reached through the real
 * SDK, the queue on the fauxqs SQS emulator and deduplication on dynalite. A payment's message names
 * its product, with one request per product; when the API answers 500 or not at all a burst of 5 is
 * delivered with IDs, within 3 s, with nothing retried or dead-lettered; a 401 reads the key again.
 * The key never reaches the logs.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import { FakeSlack, ok } from '../support/fake-slack';
import { toLambdaEvent } from '../support/delivery';
import { lambdaContext } from '../support/lambda-context';
import { captureOutput } from '../support/capture-output';
import { useAwsEmulators } from '../support/aws-emulators';
import { FakeDodoApi } from '../support/fake-dodo-api';

jest.setTimeout(120_000);

const SLACK_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-AbCdEf';
const KEY_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo-api-AbCdEf';
const SLACK_PATH = '/services/T123/B456/names-token';
const API_KEY = 'dodo_sk_live_first_9f8e7d6c5b4a';
const ROTATED_KEY = 'dodo_sk_live_second_1a2b3c4d5e6f';
const PRODUCT = 'pdt_X';
const PRODUCT_NAME = 'Pro plan (yearly)';

function payment(n: number): QueuedWebhook {
  const envelope = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'dodo', 'payment.succeeded.json'), 'utf8')) as { data: Record<string, unknown> };
  envelope.data = { ...envelope.data, payment_id: `pay_names_${n}`, product_cart: [{ product_id: PRODUCT, quantity: 1 }] };
  return { webhookId: `msg_names_${n}`, webhookTimestamp: String(Math.floor(Date.now() / 1000)), eventType: 'payment.succeeded', body: JSON.stringify(envelope) };
}

describe('names through the transformer handler over SQS (fauxqs)', () => {
  const slack = new FakeSlack();
  const api = new FakeDodoApi().product(PRODUCT, PRODUCT_NAME);
  const secretsManager = mockClient(SecretsManagerClient);
  const emulators = useAwsEmulators();
  let apiUrl: string;
  let currentKey: string;
  let restoreOutput: () => void;
  let logged: string[];
  let queueCount = 0;

  beforeAll(async () => {
    await slack.start();
    apiUrl = await api.start();
  });
  afterAll(async () => {
    await slack.stop();
    await api.stop();
  });
  beforeEach(() => {
    slack.requests.length = 0;
    slack.respond = () => ok;
    api.requests.length = 0;
    api.behaviour = 'ok';
    api.acceptedKey = undefined;
    currentKey = API_KEY;
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET }).callsFake(() => Promise.resolve({ SecretString: slack.url(SLACK_PATH) }));
    secretsManager.on(GetSecretValueCommand, { SecretId: KEY_SECRET }).callsFake(() => Promise.resolve({ SecretString: currentKey }));
    logged = [];
    restoreOutput = captureOutput(logged);
  });
  afterEach(() => {
    restoreOutput();
    const output = logged.join('');
    expect(output).not.toContain(API_KEY);
    expect(output).not.toContain(ROTATED_KEY);
  });

  async function setUp() {
    queueCount += 1;
    const dlqUrl = (await emulators.sqs.send(new CreateQueueCommand({ QueueName: `names-dlq-${queueCount}` }))).QueueUrl!;
    const queueUrl = (await emulators.sqs.send(new CreateQueueCommand({ QueueName: `names-${queueCount}`, Attributes: { VisibilityTimeout: '360' } }))).QueueUrl!;
    const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: SLACK_SECRET, transformation: { kind: 'builtin', options: {} } }];
    const handler = createTransformerHandler({
      env: {
        [TransformerEnv.Routes]: JSON.stringify(routes),
        [TransformerEnv.QueueUrl]: queueUrl,
        [TransformerEnv.DeadLetterQueueUrl]: dlqUrl,
        [TransformerEnv.MaxReceiveCount]: '10',
        [TransformerEnv.SlackTimeoutMs]: '1000',
        [TransformerEnv.DeliveryRatePerSecond]: '50',
        [TransformerEnv.DeliveryBurst]: '50',
        [TransformerEnv.RollupAfterSeconds]: '0',
        [TransformerEnv.IdempotencyTableName]: await emulators.db.createDeduplicationTable(),
        [TransformerEnv.DodoApiKeySecretArn]: KEY_SECRET,
        [TransformerEnv.DodoApiUrl]: apiUrl,
      },
      sqs: emulators.sqs,
      allowInsecureLocalhostSlack: true,
      secretMinRefreshIntervalMs: 0,
    });
    const send = async (webhooks: readonly QueuedWebhook[]) => {
      const result = await emulators.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: webhooks.map((webhook, j) => ({ Id: String(j), ...toSqsMessage(webhook) })) }));
      expect(result.Failed ?? []).toEqual([]);
    };
    /** One invocation with what the queue holds (up to 10). */
    const invoke = async () => {
      const received = await emulators.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
      return handler(toLambdaEvent(received.Messages ?? []), lambdaContext());
    };
    const depth = async (url: string) => {
      const attributes = (await emulators.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes ?? {};
      return Number(attributes.ApproximateNumberOfMessages ?? 0) + Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    };
    return { send, invoke, dlqDepth: () => depth(dlqUrl) };
  }

  test("a payment's message names its product; one GET per product however many events name it", async () => {
    const { send, invoke } = await setUp();
    await send([payment(1)]);
    expect((await invoke()).batchItemFailures).toEqual([]);
    await send([payment(2), payment(3), payment(4)]);
    expect((await invoke()).batchItemFailures).toEqual([]);
    expect(slack.requests).toHaveLength(4);
    for (const posted of slack.requests) expect(posted.body).toContain(`${PRODUCT_NAME} (\`${PRODUCT}\`)`);
    expect(api.requests).toEqual([{ method: 'GET', path: `/products/${PRODUCT}`, authorization: `Bearer ${API_KEY}` }]);
  });

  test.each([['answers 500', 'error-500'], ['does not answer', 'hang']] as const)('when the API %s, a burst of 5 goes out with IDs within 3 s, nothing retried or dead-lettered', async (_name, behaviour) => {
    api.behaviour = behaviour;
    const { send, invoke, dlqDepth } = await setUp();
    await send([1, 2, 3, 4, 5].map((n) => payment(100 + n)));
    const startedAt = Date.now();
    const response = await invoke();
    expect(Date.now() - startedAt).toBeLessThanOrEqual(3000);
    expect(response.batchItemFailures).toEqual([]);
    expect(slack.requests).toHaveLength(5);
    for (const posted of slack.requests) {
      expect(posted.body).toContain(`\`${PRODUCT}\``);
      expect(posted.body).not.toContain(PRODUCT_NAME);
    }
    // The circuit opened on the first: the API was asked once, not once per message.
    expect(api.requests).toHaveLength(1);
    expect(await dlqDepth()).toBe(0);
  });

  test('a 401 reads the key again from Secrets Manager (a rotated key applies without a redeploy)', async () => {
    api.acceptedKey = ROTATED_KEY;
    const { send, invoke } = await setUp();
    await send([payment(201)]);
    expect((await invoke()).batchItemFailures).toEqual([]);
    expect(slack.requests[0].body).not.toContain(PRODUCT_NAME);
    currentKey = ROTATED_KEY;
    const keyReads = () => secretsManager.commandCalls(GetSecretValueCommand, { SecretId: KEY_SECRET }).length;
    // The 401 asked for the key again (at once: no minimum interval in this test).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(keyReads()).toBe(2);
  });
});
