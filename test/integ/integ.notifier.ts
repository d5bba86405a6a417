/**
 * The notifier on a real AWS account, end to end: `@aws-cdk/integ-tests-alpha` deploys this stack
 * (the notifier plus a Slack stand-in and a signing client inside the stack), sets both secrets,
 * sends a signed webhook through the real API Gateway endpoint and asserts one delivery, a forged
 * one answered 401, and a stand-in 404 landing in the dead-letter queue with its reason; then it
 * deletes everything. Run it for real with `scripts/integ.sh` (README: "Prove it on a real
 * account"); offline, CI checks that the committed snapshot (integ.notifier.snapshot/) is what
 * this file synthesizes (test/integ/snapshot.test.ts).
 *
 * integ-runner is not used: its latest release (2.197.10) reads cloud assemblies up to schema 53
 * and aws-cdk-lib 2.276 writes 55. scripts/integ.sh does what it would (deploy the test stack and
 * the assertion stack, whose custom resources fail the deploy when an assertion fails; destroy).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExpectedResult, IntegTest, Match } from '@aws-cdk/integ-tests-alpha';
import { App, Duration, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';

/** Answers like a Slack incoming webhook: 200 `ok` (each post recorded in a table), or 404 `channel_not_found` under /gone. */
const SLACK_STAND_IN = `
const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');
const db = new DynamoDBClient({});
exports.handler = async (event) => {
  if (event.rawPath.endsWith('/gone')) return { statusCode: 404, headers: { 'content-type': 'text/plain' }, body: 'channel_not_found' };
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  await db.send(new PutItemCommand({ TableName: process.env.POSTS_TABLE, Item: { id: { S: event.requestContext.requestId }, body: { S: body } } }));
  return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok' };
};
`;

/**
 * What Dodo and an operator do: \`setup\` puts a fresh signing key into the signing secret (as an
 * operator pastes Dodo's); \`send\` posts a body to the webhook URL signed per Standard Webhooks
 * with that key, or with a forged signature, and returns the HTTP status.
 */
const DODO_CLIENT = `
const crypto = require('node:crypto');
const { GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient } = require('@aws-sdk/client-secrets-manager');
const sm = new SecretsManagerClient({});
exports.handler = async (input) => {
  if (input.action === 'setup') {
    await sm.send(new PutSecretValueCommand({ SecretId: process.env.SIGNING_SECRET_ARN, SecretString: 'whsec_' + crypto.randomBytes(24).toString('base64') }));
    return 0;
  }
  const secret = (await sm.send(new GetSecretValueCommand({ SecretId: process.env.SIGNING_SECRET_ARN }))).SecretString;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const id = 'msg_integ_' + crypto.randomBytes(8).toString('hex');
  const timestamp = String(Math.floor(Date.now() / 1000));
  const body = JSON.stringify(input.body);
  const signature = input.forge
    ? crypto.randomBytes(32).toString('base64')
    : crypto.createHmac('sha256', key).update(id + '.' + timestamp + '.' + body).digest('base64');
  const response = await fetch(process.env.WEBHOOK_URL, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': 'v1,' + signature },
    body,
  });
  return response.status;
};
`;

const fixture = (type: string): unknown =>
  JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'dodo', `${type}.json`), 'utf8'));

/** Builds the integration test into `app`: the stack under test and its assertions (the DeployAssert stack). */
export function buildIntegApp(app: App): IntegTest {
  const stack = new Stack(app, 'DodoSlackNotifierInteg');

  const posts = new dynamodb.Table(stack, 'SlackPosts', {
    partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const slackStandIn = new lambda.Function(stack, 'SlackStandIn', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(SLACK_STAND_IN),
    environment: { POSTS_TABLE: posts.tableName },
    timeout: Duration.seconds(10),
    logGroup: new logs.LogGroup(stack, 'SlackStandInLogs', { retention: logs.RetentionDays.ONE_DAY, removalPolicy: RemovalPolicy.DESTROY }),
  });
  posts.grantWriteData(slackStandIn);
  const slackUrl = slackStandIn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE }).url;

  // The second route's channel is gone: the stand-in answers 404 there.
  const goneChannel = new secretsmanager.Secret(stack, 'GoneChannelSecret', {
    secretStringValue: SecretValue.unsafePlainText(`${slackUrl}services/T000/B000/gone`),
    removalPolicy: RemovalPolicy.DESTROY,
  });

  // The default route's channel: created empty, set below as an operator would after the deploy.
  const defaultChannel = new secretsmanager.Secret(stack, 'DefaultChannelSecret', { removalPolicy: RemovalPolicy.DESTROY });

  const notifier = new DodoSlackNotifier(stack, 'Notifier', {
    slackWebhookSecret: defaultChannel,
    events: ['payment.*'],
    routes: [{ id: 'Gone', events: ['refund.*'], slackWebhookSecret: goneChannel }],
    // Everything goes with the test stack.
    removalPolicy: RemovalPolicy.DESTROY,
    secretCacheTtl: Duration.seconds(5),
  });

  const dodo = new lambda.Function(stack, 'DodoClient', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline(DODO_CLIENT),
    environment: { SIGNING_SECRET_ARN: notifier.signingSecret.secretArn, WEBHOOK_URL: notifier.endpointUrl },
    timeout: Duration.seconds(30),
    logGroup: new logs.LogGroup(stack, 'DodoClientLogs', { retention: logs.RetentionDays.ONE_DAY, removalPolicy: RemovalPolicy.DESTROY }),
  });
  notifier.signingSecret.grantRead(dodo);
  notifier.signingSecret.grantWrite(dodo);

  const integ = new IntegTest(app, 'DodoSlackNotifierIntegTest', {
    testCases: [stack],
    cdkCommandOptions: { destroy: { args: { force: true } } },
  });

  const setSlackSecret = integ.assertions.awsApiCall('SecretsManager', 'putSecretValue', {
    SecretId: defaultChannel.secretArn,
    SecretString: `${slackUrl}services/T000/B000/ok`,
  });
  const setSigningKey = integ.assertions.invokeFunction({
    functionName: dodo.functionName,
    payload: JSON.stringify({ action: 'setup' }),
    logRetention: logs.RetentionDays.ONE_DAY,
  });
  const signed = integ.assertions.invokeFunction({
    functionName: dodo.functionName,
    logRetention: logs.RetentionDays.ONE_DAY,
    payload: JSON.stringify({ action: 'send', body: fixture('payment.succeeded') }),
  });
  signed.expect(ExpectedResult.objectLike({ Payload: '200' }));
  const forged = integ.assertions.invokeFunction({
    functionName: dodo.functionName,
    logRetention: logs.RetentionDays.ONE_DAY,
    payload: JSON.stringify({ action: 'send', forge: true, body: fixture('payment.failed') }),
  });
  forged.expect(ExpectedResult.objectLike({ Payload: '401' }));
  const toGoneChannel = integ.assertions.invokeFunction({
    functionName: dodo.functionName,
    logRetention: logs.RetentionDays.ONE_DAY,
    payload: JSON.stringify({ action: 'send', body: fixture('refund.succeeded') }),
  });
  toGoneChannel.expect(ExpectedResult.objectLike({ Payload: '200' }));

  // Exactly one post reached the channel: the signed payment (not the forged one, not the refund).
  const delivered = integ.assertions
    .awsApiCall('DynamoDB', 'scan', { TableName: posts.tableName, Select: 'COUNT' })
    .expect(ExpectedResult.objectLike({ Count: 1 }))
    .waitForAssertions({ totalTimeout: Duration.minutes(5), interval: Duration.seconds(15) });

  // The refund's 404 ends in the dead-letter queue with the reason and the route.
  const deadLettered = integ.assertions
    .awsApiCall('SQS', 'receiveMessage', {
      QueueUrl: notifier.deadLetterQueue.queueUrl,
      MessageAttributeNames: ['All'],
      VisibilityTimeout: 0,
      WaitTimeSeconds: 10,
    })
    .expect(
      ExpectedResult.objectLike({
        Messages: Match.arrayWith([
          Match.objectLike({
            MessageAttributes: Match.objectLike({
              'dead-letter-route': Match.objectLike({ StringValue: 'Gone' }),
              'dead-letter-last-slack-response': Match.objectLike({ StringValue: Match.stringLikeRegexp('^404') }),
            }),
          }),
        ]),
      }),
    )
    .waitForAssertions({ totalTimeout: Duration.minutes(10), interval: Duration.seconds(30) });

  setSlackSecret.next(setSigningKey).next(signed).next(forged).next(toGoneChannel).next(delivered).next(deadLettered);
  return integ;
}

if (require.main === module) {
  const app = new App();
  buildIntegApp(app);
  app.synth();
}
