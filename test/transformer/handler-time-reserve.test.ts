/**
 * The transformer starts a record only when the invocation has time left for the worst case of its
 * routes: user code (a worker restart plus the event, see userCodeWorstCaseMs), one Slack request
 * and settling. A record started later could be cut off by the Lambda timeout, and a batch cut off
 * that way loses a receive on every record, ending in a dead letter without a reason.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { MemoryPersistenceLayer } from '../support/memory-persistence';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { type TransformationSpec } from '../../lambda/shared/transformation';
import { userCodeWorstCaseMs } from '../../lambda/sandbox/runner';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import { useFakeSlack } from '../support/fake-slack';
import { toLambdaEvent, webhook } from '../support/delivery';
import { captureOutput } from '../support/capture-output';

const SLACK_TIMEOUT_MS = 5_000;
const SETTLE_MARGIN_MS = 2_000;
const USER_CODE_TIMEOUT_MS = 3_000;

const slack = useFakeSlack();
const secretsManager = mockClient(SecretsManagerClient);
const sqsMock = mockClient(SQSClient);
let restoreOutput: () => void;

beforeEach(() => {
  secretsManager.reset();
  sqsMock.reset();
  secretsManager.on(GetSecretValueCommand).resolves({ SecretString: slack.url('/services/T1/B1/reserve-token') });
  sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
  sqsMock.on(SendMessageCommand).resolves({});
  restoreOutput = captureOutput();
});
afterEach(() => restoreOutput());

function handlerWith(transformation: TransformationSpec) {
  const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: 'arn:slack', transformation }];
  return createTransformerHandler({
    env: {
      [TransformerEnv.Routes]: JSON.stringify(routes),
      [TransformerEnv.QueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/queue',
      [TransformerEnv.DeadLetterQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq',
      [TransformerEnv.SlackTimeoutMs]: String(SLACK_TIMEOUT_MS),
      [TransformerEnv.DeliveryRatePerSecond]: '100',
      [TransformerEnv.DeliveryBurst]: '10',
    },
    sqs: new SQSClient({ region: 'us-east-1' }),
    persistenceStore: new MemoryPersistenceLayer(),
    allowInsecureLocalhostSlack: true,
  });
}

function oneRecord(): SQSEvent {
  const message = toSqsMessage(webhook('payment.succeeded'));
  return toLambdaEvent([
    { MessageId: 'm1', ReceiptHandle: 'rh1', Body: message.MessageBody, MessageAttributes: message.MessageAttributes, Attributes: { ApproximateReceiveCount: '1' } },
  ]);
}

function contextWithRemaining(remainingMs: number): Context {
  const deadline = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => deadline - Date.now(), awsRequestId: 'req', functionName: 'transformer' } as unknown as Context;
}

const builtinOnlyReserve = SLACK_TIMEOUT_MS + SETTLE_MARGIN_MS;
const userCodeReserve = userCodeWorstCaseMs(USER_CODE_TIMEOUT_MS) + builtinOnlyReserve;
const between = Math.round((builtinOnlyReserve + userCodeReserve) / 2);

test('with the built-in templates, a record starts when a Slack request and settling still fit', async () => {
  const response = await handlerWith({ kind: 'builtin', options: {} })(oneRecord(), contextWithRemaining(between));
  expect(response.batchItemFailures).toEqual([]);
  expect(slack.requests).toHaveLength(1);
});

test('with user code, the same time left is not enough: the record is deferred, not started', async () => {
  const response = await handlerWith({ kind: 'code', codeId: 'r0', timeoutMs: USER_CODE_TIMEOUT_MS })(oneRecord(), contextWithRemaining(between));
  expect(response.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
  expect(slack.requests).toHaveLength(0);
  // Deferred, not dead-lettered: back on the queue after a short delay.
  expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(0);
  const visibility = sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((call) => call.args[0].input.VisibilityTimeout);
  expect(visibility).toEqual([5]);
});
