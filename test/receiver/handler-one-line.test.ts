/**
 * The receiver at Powertools' default log level (INFO), as deployed, read from what Powertools
 * Logger and Metrics really write to stdout: an accepted webhook costs one line of output, its EMF
 * metrics document, which also carries the request's id, type and outcome (EMF metadata) so it can
 * be found in the logs; a refused one is a WARN log line besides; the instance's first invocation
 * also writes the ColdStart document. (test/receiver/handler.test.ts runs at DEBUG, where the
 * accepted webhook's own line shows too.)
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { signWebhook } from '../../lambda/receiver/signature';
import { ReceiverEnv } from '../../lambda/shared/function-env';
import { MetricName } from '../../lambda/shared/metrics';
import { fakeLambdaContext } from '../../scripts/bench/lambda-context';
import { captureOutput } from '../support/capture-output';

const written: string[] = [];
const restore = captureOutput(written);
delete process.env.POWERTOOLS_LOG_LEVEL;
delete process.env.AWS_LAMBDA_LOG_LEVEL;
process.env.AWS_REGION = 'eu-west-1';
// What Lambda sets on an on-demand instance; without it Powertools reports no cold start at all.
process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the environment above is set: Powertools reads it when the module creates its logger
const { createReceiverHandler, receiverConfigFromEnv } = require('../../lambda/receiver/handler') as typeof import('../../lambda/receiver/handler');

const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dodo-signing-AbCdEf';
const key = randomBytes(32);
const body = readFileSync(join(__dirname, '../fixtures/dodo/payment.succeeded.json'), 'utf8');
const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);
secretsManager.on(GetSecretValueCommand).resolves({ SecretString: `whsec_${key.toString('base64')}` });
sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });

afterAll(() => {
  restore();
  secretsManager.restore();
  sqs.restore();
});

function event(webhookId: string, signingKey: Buffer): APIGatewayProxyEvent {
  const timestamp = Math.floor(Date.now() / 1000);
  const headers = { 'webhook-id': webhookId, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(signingKey, webhookId, timestamp, body) };
  return {
    resource: '/webhooks/dodo', path: '/webhooks/dodo', httpMethod: 'POST', headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null, multiValueQueryStringParameters: null, pathParameters: null, stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'], body, isBase64Encoded: false,
  };
}

/** String.prototype.isWellFormed (ES2024, Node 20+; the project compiles against ES2022's lib). */
const wellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

const linesOf = (chunks: string[]) => chunks.join('').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>);

const config = () => receiverConfigFromEnv({ [ReceiverEnv.SigningSecretArn]: SECRET_ARN, [ReceiverEnv.QueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q' });
const metricNames = (document: Record<string, unknown>): string[] =>
  (document._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] }).CloudWatchMetrics.flatMap((entry) => entry.Metrics.map((metric) => metric.Name)).sort();

// First in this file: the module's telemetry is the Lambda instance's, and this is its first invocation.
test('the cold invocation: the ColdStart document once, the request\'s own document, and cold_start on its log line', async () => {
  const handle = createReceiverHandler(config());
  const context = fakeLambdaContext('dodo-slack-receiver');
  expect((await handle(event('msg_cold', randomBytes(32)), context)).statusCode).toBe(401);

  const lines = linesOf(written);
  expect(lines).toHaveLength(3);
  const [coldStart, ...rest] = lines.filter((line) => line._aws);
  expect(coldStart).toMatchObject({ ColdStart: 1, service: 'dodo-slack-receiver', function_name: 'dodo-slack-receiver' });
  expect(coldStart._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'DodoSlackNotifier', Dimensions: [['service', 'function_name']] }] });
  expect(rest).toHaveLength(1);
  expect(rest[0]).toMatchObject({ webhookId: 'msg_cold', outcome: 'unauthorized', statusCode: 401, [MetricName.SignatureFailure]: 1 });
  expect(metricNames(rest[0])).toEqual([MetricName.SignatureFailure, MetricName.WebhookReceived].sort());
  expect(lines.find((line) => !line._aws)).toMatchObject({ level: 'WARN', message: 'Webhook answered', cold_start: true, correlation_id: 'msg_cold', function_name: 'dodo-slack-receiver' });

  // Another handler in the same instance: no second ColdStart.
  const mark = written.length;
  expect((await createReceiverHandler(config())(event('msg_warm', randomBytes(32)), context)).statusCode).toBe(401);
  expect(linesOf(written.slice(mark)).filter((line) => 'ColdStart' in line)).toEqual([]);
});

test('an accepted webhook is one line: its metrics document, carrying id, type and outcome', async () => {
  const handle = createReceiverHandler(config());
  const context = fakeLambdaContext('dodo-slack-receiver');
  const mark = written.length;

  expect((await handle(event('msg_one_line', key), context)).statusCode).toBe(200);

  const lines = linesOf(written.slice(mark));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatchObject({ webhookId: 'msg_one_line', eventType: 'payment.succeeded', outcome: 'queued', statusCode: 200, service: 'dodo-slack-receiver' });
  expect(lines[0]._aws).toMatchObject({ Timestamp: expect.any(Number) as unknown, CloudWatchMetrics: [{ Namespace: 'DodoSlackNotifier', Dimensions: [['service']] }] });
  expect(lines[0]).toMatchObject({ [MetricName.WebhookReceived]: 1, [MetricName.WebhookQueued]: 1, bodyBytes: Buffer.byteLength(body) });
  expect(metricNames(lines[0])).toEqual([MetricName.WebhookQueued, MetricName.WebhookReceived].sort());

  const refusedMark = written.length;
  expect((await handle(event('msg_forged', randomBytes(32)), context)).statusCode).toBe(401);
  const refused = linesOf(written.slice(refusedMark));
  expect(refused.map((line) => (line._aws ? 'metrics' : `${String(line.level)} ${String(line.message)}`)).sort()).toEqual(['WARN Webhook answered', 'metrics']);
  expect(refused.find((line) => line._aws)).toMatchObject({ webhookId: 'msg_forged', outcome: 'unauthorized', reason: 'no-matching-signature' });
  expect(refused.find((line) => !line._aws)).toMatchObject({ cold_start: false, correlation_id: 'msg_forged', function_name: 'dodo-slack-receiver' });
  // Nothing of one request's document carries over into the next one's.
  expect(refused.find((line) => line._aws)).not.toHaveProperty('eventType');
  expect(refused.find((line) => line._aws)).not.toHaveProperty(MetricName.WebhookQueued);
});

test('a text body with a lone surrogate is queued with U+FFFD, the bytes its signature covers (SQS refuses lone surrogates)', async () => {
  const handle = createReceiverHandler(config());
  // Written into the text raw (JSON.stringify would escape it as \ud800).
  const withSurrogate = body.replace('{', '{"note":"a\ud800b",');
  expect(wellFormed(withSurrogate)).toBe(false);
  const request = event('msg_surrogate', key);
  const timestamp = Math.floor(Date.now() / 1000);
  request.body = withSurrogate;
  request.headers['webhook-signature'] = signWebhook(key, 'msg_surrogate', timestamp, withSurrogate);
  request.multiValueHeaders['webhook-signature'] = [request.headers['webhook-signature']];
  request.headers['webhook-timestamp'] = String(timestamp);
  request.multiValueHeaders['webhook-timestamp'] = [String(timestamp)];
  sqs.resetHistory();

  expect((await handle(request, fakeLambdaContext('dodo-slack-receiver'))).statusCode).toBe(200);
  const queued = sqs.commandCalls(SendMessageCommand)[0].args[0].input.MessageBody!;
  expect(queued).toBe(Buffer.from(withSurrogate, 'utf8').toString('utf8'));
  expect(wellFormed(queued)).toBe(true);
  expect(JSON.parse(queued)).toMatchObject({ note: 'a\ufffdb' });
});
