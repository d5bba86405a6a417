/**
 * What the Powertools middlewares (middy, see withTelemetry) add around each transformer
 * invocation: the Lambda context on every log line, the ColdStart metric on the first invocation
 * of an instance only, no log key carried from one invocation into the next, and a batch whose
 * records all failed still answered with batchItemFailures rather than turned into a function error.
 * Slack is a stand-in on 127.0.0.1, Secrets Manager is mocked, SQS is a stub.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { MemoryPersistenceLayer } from '../support/memory-persistence';
import { MetricName, ServiceName } from '../../lambda/shared/metrics';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import { answer, ok, useFakeSlack } from '../support/fake-slack';
import { toLambdaEvent, webhook } from '../support/delivery';
import { lambdaContext } from '../support/lambda-context';
import { captureOutput } from '../support/capture-output';

const invocation = (awsRequestId: string) => lambdaContext({ functionName: 'dodo-slack-transformer-fn', awsRequestId });

// What Lambda sets on an on-demand instance; without it Powertools never reports a cold start.
// Read when a handler creates its Metrics, so before any handler below is created.
process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';

const slack = useFakeSlack();
const secretsManager = mockClient(SecretsManagerClient);
let output: string[];
let restoreOutput: () => void;

beforeEach(() => {
  secretsManager.reset();
  secretsManager.on(GetSecretValueCommand).resolves({ SecretString: slack.url('/services/T1/B1/telemetry-token') });
  slack.respond = () => ok;
  output = [];
  restoreOutput = captureOutput(output);
});
afterEach(() => restoreOutput());

/** SQS calls made by the handler; each one fails when `sqsDown` is set. */
let sqsCalls: string[];
let sqsDown: boolean;
const sqs = {
  send: (command: { constructor: { name: string } }) => {
    sqsCalls.push(command.constructor.name);
    if (sqsDown) return Promise.reject(new Error('SQS is down'));
    return Promise.resolve({});
  },
} as unknown as SQSClient;
beforeEach(() => {
  sqsCalls = [];
  sqsDown = false;
});

function newHandler() {
  const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: 'arn:slack', transformation: { kind: 'builtin', options: {} } }];
  return createTransformerHandler({
    env: {
      [TransformerEnv.Routes]: JSON.stringify(routes),
      [TransformerEnv.QueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/queue',
      [TransformerEnv.DeadLetterQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq',
      [TransformerEnv.SlackTimeoutMs]: '1000',
      [TransformerEnv.DeliveryRatePerSecond]: '100',
      [TransformerEnv.DeliveryBurst]: '10',
    },
    sqs,
    persistenceStore: new MemoryPersistenceLayer(),
    allowInsecureLocalhostSlack: true,
  });
}

function batch(...webhooks: ReturnType<typeof webhook>[]): SQSEvent {
  return toLambdaEvent(
    webhooks.map((event, index) => {
      const message = toSqsMessage(event);
      return { MessageId: `m${index + 1}`, ReceiptHandle: `rh${index + 1}`, Body: message.MessageBody, MessageAttributes: message.MessageAttributes, Attributes: { ApproximateReceiveCount: '1' } };
    }),
  );
}

/** A record the receiver did not write (no webhook attributes): dead-lettered without any line about a webhook. */
function foreignRecord(): SQSEvent {
  return toLambdaEvent([{ MessageId: 'foreign', ReceiptHandle: 'rh-foreign', Body: '{"type":"payment.succeeded"}', Attributes: { ApproximateReceiveCount: '1' } }]);
}


const jsonLines = (from = 0, until?: number): Array<Record<string, unknown>> =>
  output
    .slice(from, until)
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const emfDocuments = (from = 0, until?: number) => jsonLines(from, until).filter((line) => '_aws' in line);
const logLines = (from = 0, until?: number) => jsonLines(from, until).filter((line) => !('_aws' in line));

test('the ColdStart metric is in the EMF output of the first invocation only', async () => {
  const handler = newHandler();
  const first = webhook();
  const second = webhook();

  expect((await handler(batch(first), invocation('req-1'))).batchItemFailures).toEqual([]);
  const afterFirst = output.length;
  expect((await handler(batch(second), invocation('req-2'))).batchItemFailures).toEqual([]);

  const coldStarts = (from: number, until?: number) => emfDocuments(from, until).filter((document) => 'ColdStart' in document);
  expect(coldStarts(0, afterFirst)).toEqual([
    expect.objectContaining({ ColdStart: 1, service: ServiceName.Transformer, function_name: 'dodo-slack-transformer-fn' }),
  ]);
  expect(coldStarts(afterFirst)).toEqual([]);
  // Both invocations still flush their own metrics.
  for (const [from, until] of [[0, afterFirst], [afterFirst, undefined]] as const) {
    expect(emfDocuments(from, until).filter((document) => MetricName.MessageDelivered in document)).toHaveLength(1);
  }
  expect(slack.requests).toHaveLength(2);
});

test('log keys set during one invocation do not leak into the next (resetKeys), and each line carries its own invocation\'s context', async () => {
  const handler = newHandler();
  const delivered = webhook();
  await handler(batch(delivered), invocation('req-delivered'));
  const afterFirst = output.length;
  // The next invocation's only line comes from the handler itself (not from the core, which sets or
  // clears the correlation id on each of its lines): it must not name the webhook delivered before.
  sqsDown = true;
  expect((await handler(foreignRecord(), invocation('req-foreign'))).batchItemFailures).toEqual([{ itemIdentifier: 'foreign' }]);

  const deliveredLine = logLines(0, afterFirst).find((line) => line['message'] === 'Message delivered to Slack');
  expect(deliveredLine).toMatchObject({ correlation_id: delivered.webhookId, function_request_id: 'req-delivered', function_name: 'dodo-slack-transformer-fn' });
  const settleLine = logLines(afterFirst).find((line) => line['message'] === 'Could not settle the record with SQS; it returns to the queue');
  expect(settleLine).toMatchObject({ messageId: 'foreign', function_request_id: 'req-foreign' });
  expect(settleLine).not.toHaveProperty('correlation_id');
});

test('a batch whose records all failed is answered with every record in batchItemFailures, not a function error', async () => {
  const handler = newHandler();
  slack.respond = () => answer(503, 'service_unavailable');
  const response = await handler(batch(webhook(), webhook()), invocation('req-all-failed'));
  expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }, { itemIdentifier: 'm2' }]);
  // The Slack 503 was attempted once and the rest retried later (visibility set), not thrown.
  expect(sqsCalls).toEqual(['ChangeMessageVisibilityCommand', 'ChangeMessageVisibilityCommand']);
});
