/** The construct in Slack app mode: synth-time checks, the thread table, grants and the transformer's ROUTES. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CfnWaitConditionHandle, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';
import { DodoSlackNotifierStack } from '../../lib/dodo-slack-notifier-stack';
import type { DodoSlackNotifierProps } from '../../lib/props';
import { Defaults } from '../../lambda/shared/defaults';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { Template } from 'aws-cdk-lib/assertions';
import { actionsOn, functionEnv, onlyResource, renderCfnString, roleStatements, synthNotifier, testApp, unacknowledgedNagFindings } from './helpers';

const secret = (stack: Stack, name: string) => secretsmanager.Secret.fromSecretNameV2(stack, name, name);
function construct(props: (stack: Stack) => DodoSlackNotifierProps): () => void {
  return () => new DodoSlackNotifier(new Stack(testApp(), 'S'), 'Notifier', props(new Stack(testApp(), 'Secrets')));
}

describe('synth-time checks: exactly one of webhook secret or bot token per route', () => {
  test.each<[string, (s: Stack) => DodoSlackNotifierProps, RegExp]>([
    ['both on the default route', (s) => ({ slackWebhookSecret: secret(s, 'a'), slackBotTokenSecret: secret(s, 'b'), slackChannelId: 'C0123456789' }), /set exactly one of slackWebhookSecret \(incoming webhook\) and slackBotTokenSecret \(Slack app: threads and live cards\) for the default route, not both/],
    ['both on a route', (s) => ({ routes: [{ id: 'Risk', events: ['*'], slackWebhookSecret: secret(s, 'a'), slackBotTokenSecret: secret(s, 'b'), slackChannelId: 'C0123456789' }] }), /routes\[0\] \("Risk"\): set exactly one of slackWebhookSecret .* not both/],
    ['neither on a route', () => ({ routes: [{ id: 'Risk', events: ['*'] }] }), /routes\[0\] \("Risk"\): set exactly one of slackWebhookSecret \(incoming webhook\) and slackBotTokenSecret with slackChannelId/],
    ['a bot token without a channel', (s) => ({ slackBotTokenSecret: secret(s, 'b') }), /slackBotTokenSecret needs slackChannelId: the ID of the channel/],
    ['a channel without a bot token', () => ({ slackChannelId: 'C0123456789' }), /slackChannelId applies only with slackBotTokenSecret/],
    ['a channel name instead of an ID', (s) => ({ slackBotTokenSecret: secret(s, 'b'), slackChannelId: '#payments' }), /slackChannelId must be a channel ID such as C0123456789 \(not a name like #payments\), got "#payments"/],
    ['replyBroadcast on a webhook route', (s) => ({ slackWebhookSecret: secret(s, 'a'), replyBroadcast: ['dispute.*'] }), /replyBroadcast applies only with slackBotTokenSecret/],
    ['a bad replyBroadcast glob', (s) => ({ slackBotTokenSecret: secret(s, 'b'), slackChannelId: 'C0123456789', replyBroadcast: ['dispute opened'] }), /replyBroadcast: event glob "dispute opened" may only contain/],
    ['threadTtl of hours', (s) => ({ slackBotTokenSecret: secret(s, 'b'), slackChannelId: 'C0123456789', threadTtl: Duration.hours(5) }), /threadTtl must be whole days from 1 to 3650, got 5 hours/],
    ['threadTtl without a bot token', () => ({ threadTtl: Duration.days(30) }), /threadTtl applies only when a route posts with slackBotTokenSecret/],
  ])('%s', (_name, props, message) => {
    expect(construct(props)).toThrow(message);
  });
});

describe('a default route with a bot token and a webhook route beside it', () => {
  const { notifier, template, stack, app } = synthNotifier((s) => ({
    slackBotTokenSecret: secret(s, 'slack/bot'),
    slackChannelId: 'C0PAYMENTS1',
    replyBroadcast: ['dispute.*'],
    threadTtl: Duration.days(30),
    routes: [{ id: 'Risk', events: ['dispute.*'], slackWebhookSecret: secret(s, 'slack/risk') }],
  }));
  const env = functionEnv(template, 'NotifierTransformerFunction');

  test('no placeholder webhook secret is created; the token secret is the default route secret', () => {
    expect(notifier.slackWebhookSecret).toBeUndefined();
    expect(notifier.slackBotTokenSecret).toBe(stack.node.findChild('slack/bot'));
    expect(Object.keys(template.findResources('AWS::SecretsManager::Secret')).filter((id) => id.includes('Slack'))).toEqual([]);
  });

  test('ROUTES: the app route carries its channel and broadcast globs, the webhook route neither', () => {
    const routes = JSON.parse(renderCfnString(env[TransformerEnv.Routes])) as RouteConfig[];
    expect(routes.map((r) => [r.id, r.slackChannelId, r.replyBroadcast])).toEqual([
      ['default', 'C0PAYMENTS1', ['dispute.*']],
      ['Risk', undefined, undefined],
    ]);
  });

  test('the thread table keeps its logical ID (a refactor that would replace it, losing every thread, fails here)', () => {
    expect(Object.keys(template.findResources('AWS::DynamoDB::Table')).sort()).toEqual(['NotifierDeduplicationTableA8BA8E02', 'NotifierSlackThreadsTableDAFCFAE8']);
  });

  test('the thread table: key pk, TTL on expiration, point-in-time recovery, retained with the stack', () => {
    const table = onlyResource(template, 'AWS::DynamoDB::Table', 'NotifierSlackThreads');
    expect(table.Properties.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'expiration', Enabled: true });
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    // On the notifier's customer-managed key, like its other tables.
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^NotifierEncryptionKey/), 'Arn'] } });
  });

  test('removalPolicy: DESTROY applies to the thread table too', () => {
    const destroyed = synthNotifier((s) => ({ slackBotTokenSecret: secret(s, 'bot'), slackChannelId: 'C0PAYMENTS1', removalPolicy: RemovalPolicy.DESTROY }));
    expect(onlyResource(destroyed.template, 'AWS::DynamoDB::Table', 'NotifierSlackThreads').DeletionPolicy).toBe('Delete');
  });

  test('the transformer gets the table, the TTL, its share of Tier 3 calls, and GetItem/PutItem on the table only', () => {
    expect(env[TransformerEnv.ThreadTableName]).toEqual({ Ref: expect.stringMatching(/^NotifierSlackThreadsTable/) as unknown });
    expect(Number(env[TransformerEnv.ThreadTtlSeconds])).toBe(30 * 86400);
    const instances = onlyResource<{ ScalingConfig: { MaximumConcurrency: number } }>(template, 'AWS::Lambda::EventSourceMapping').Properties.ScalingConfig.MaximumConcurrency;
    expect(Number(env[TransformerEnv.SlackTier3CallsPerMinute]) * instances).toBeCloseTo(Defaults.slackTier3CallsPerMinute, 10);
    const tableArn = { 'Fn::GetAtt': [(env[TransformerEnv.ThreadTableName] as { Ref: string }).Ref, 'Arn'] };
    expect(actionsOn(roleStatements(template, 'NotifierTransformerRole'), tableArn)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
  });

  test('cdk-nag: no unacknowledged findings', () => {
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  });
});

test('without a bot token anywhere there is no thread table and no app-mode environment (incoming webhooks as before)', () => {
  const { template, notifier } = synthNotifier();
  expect(notifier.threadTable).toBeUndefined();
  expect(Object.keys(template.findResources('AWS::DynamoDB::Table'))).toHaveLength(1);
  const env = functionEnv(template, 'NotifierTransformerFunction');
  expect(env[TransformerEnv.ThreadTableName]).toBeUndefined();
});

test('the thread TTL defaults to 90 days', () => {
  const { template } = synthNotifier((s) => ({ routes: [{ id: 'Payments', events: ['payment.*'], slackBotTokenSecret: secret(s, 'bot'), slackChannelId: 'C0PAYMENTS1' }] }));
  expect(Number(functionEnv(template, 'NotifierTransformerFunction')[TransformerEnv.ThreadTtlSeconds])).toBe(90 * 86400);
});

test('the stack prints where to set each bot token', () => {
  const app = testApp();
  const holder = new Stack(app, 'Holder');
  // The secrets' stack needs a resource of its own to be a valid template.
  new CfnWaitConditionHandle(holder, 'Keep');
  const stack = new DodoSlackNotifierStack(app, 'Deployed', {
    slackBotTokenSecret: secret(holder, 'bot'),
    slackChannelId: 'C0PAYMENTS1',
    routes: [{ id: 'Risk', events: ['dispute.*'], slackBotTokenSecret: secret(holder, 'riskbot'), slackChannelId: 'C0RISK0001' }],
  });
  const outputs = Template.fromStack(stack).toJSON().Outputs as Record<string, unknown>;
  expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['SlackBotTokenSecretConsoleUrl', 'RouteRiskSlackBotTokenSecretConsoleUrl']));
  expect(Object.keys(outputs)).not.toContain('SlackWebhookSecretConsoleUrl');
});

test('the README "Threads and live cards" example synthesizes a notifier whose default route posts with the bot token', () => {
  const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Threads and live cards'));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  expect(match).not.toBeNull();
  const source = `const { DodoSlackNotifier } = require(${JSON.stringify(path.join(__dirname, '../../lib'))});\nconst secretsmanager = require('aws-cdk-lib/aws-secretsmanager');\n${match![1]}`;
  const stack = new Stack(testApp(), 'UserStack');
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- running the README's example code is what this test checks
  new Function('require', source).call(stack, require);
  const routes = JSON.parse(renderCfnString(functionEnv(Template.fromStack(stack), 'NotifierTransformerFunction')[TransformerEnv.Routes])) as RouteConfig[];
  expect(routes.map((r) => [r.id, r.slackChannelId])).toEqual([['default', 'C0123456789']]);
});
