/** Each prop of DodoSlackNotifier changes what it should, and only that. */
import { CONFIG_ROUTE_FIELDS } from '../../lambda/shared/config-file';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ReceiverEnv, RouteConfig, TransformerEnv } from '../../lambda/shared/function-env';
import { Transformation } from '../../lib/transformation';
import { actionsOn, functionEnv, renderCfnString, resourcesOf, roleStatements, synthNotifier } from './helpers';

const routesOf = (template: Template): RouteConfig[] =>
  JSON.parse(renderCfnString(functionEnv(template, 'NotifierTransformerFunction')[TransformerEnv.Routes])) as RouteConfig[];

describe('secrets passed in', () => {
  const { stack, notifier, template } = synthNotifier((scope: Stack) => ({
    slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(scope, 'Slack', 'dodo/slack'),
    signingSecret: secretsmanager.Secret.fromSecretCompleteArn(
      scope,
      'Signing',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:dodo/signing-AbCdEf',
    ),
  }));

  test('no secret is created', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
  });

  test('slackWebhookSecret: the transformer reads that secret, by ARN in ROUTES', () => {
    expect(notifier.slackWebhookSecret).toBe(stack.node.findChild('Slack'));
    const slackArn: unknown = stack.resolve(notifier.slackWebhookSecret!.secretArn);
    const statements = roleStatements(template, 'NotifierTransformerRole');
    expect(statements.some((s) => JSON.stringify(s.Resource).includes('dodo/slack') && [s.Action].flat().includes('secretsmanager:GetSecretValue'))).toBe(true);
    expect(routesOf(template)[0].slackSecretId).toBe(renderCfnString(slackArn));
  });

  test('signingSecret: the receiver gets its ARN and may read it', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:dodo/signing-AbCdEf';
    expect(functionEnv(template, 'NotifierReceiverFunction')[ReceiverEnv.SigningSecretArn]).toBe(arn);
    expect(actionsOn(roleStatements(template, 'NotifierReceiverRole'), arn)).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
    ]);
  });
});

test('events: become the default route and the receiver filter', () => {
  const { template } = synthNotifier({ events: ['payment.*', 'dispute.opened'] });
  expect(functionEnv(template, 'NotifierReceiverFunction')[ReceiverEnv.EventFilter]).toBe('["payment.*","dispute.opened"]');
  expect(routesOf(template)[0].events).toEqual(['payment.*', 'dispute.opened']);
});

test('transformation: builtin options reach the default route', () => {
  const { template } = synthNotifier({ transformation: Transformation.builtin({ maskCustomerEmails: true }) });
  expect(routesOf(template)[0].transformation).toEqual({ kind: 'builtin', options: { maskCustomerEmails: true } });
});

test('transformation: user code becomes a code spec keyed by the route id', () => {
  const { template } = synthNotifier({
    transformation: Transformation.fromInline('function handler(webhook) { return webhook; }'),
  });
  expect(routesOf(template)[0].transformation).toEqual({ kind: 'code', codeId: 'default', timeoutMs: expect.any(Number) as unknown });
});

test('timestampTolerance and secretCacheTtl: seconds in the environment', () => {
  const { template } = synthNotifier({ timestampTolerance: Duration.minutes(2), secretCacheTtl: Duration.seconds(30) });
  expect(functionEnv(template, 'NotifierReceiverFunction')).toMatchObject({
    [ReceiverEnv.TimestampToleranceSeconds]: '120',
    [ReceiverEnv.SecretCacheTtlSeconds]: '30',
  });
  expect(functionEnv(template, 'NotifierTransformerFunction')[TransformerEnv.SecretCacheTtlSeconds]).toBe('30');
});

test('maxReceiveCount: redrive policy and transformer environment', () => {
  const { template } = synthNotifier({ maxReceiveCount: 3 });
  template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }) });
  expect(functionEnv(template, 'NotifierTransformerFunction')[TransformerEnv.MaxReceiveCount]).toBe('3');
});

test('deduplicationWindow, slackTimeout, deliveryRatePerSecond: transformer environment', () => {
  const { template } = synthNotifier({
    deduplicationWindow: Duration.days(3),
    slackTimeout: Duration.millis(2500),
    deliveryRatePerSecond: 3,
  });
  expect(functionEnv(template, 'NotifierTransformerFunction')).toMatchObject({
    [TransformerEnv.DeduplicationWindowSeconds]: String(3 * 24 * 3600),
    [TransformerEnv.SlackTimeoutMs]: '2500',
    [TransformerEnv.DeliveryRatePerSecond]: '1.5',
  });
});

test('rollupAfter and rollupNeverFold: transformer environment (default 30 s, 0 turns roll-ups off)', () => {
  expect(functionEnv(synthNotifier().template, 'NotifierTransformerFunction')[TransformerEnv.RollupAfterSeconds]).toBe('30');
  const { template } = synthNotifier({ rollupAfter: Duration.minutes(2), rollupNeverFold: ['refund.*', 'subscription.on_hold'] });
  expect(functionEnv(template, 'NotifierTransformerFunction')).toMatchObject({
    [TransformerEnv.RollupAfterSeconds]: '120',
    [TransformerEnv.RollupNeverFold]: 'refund.*,subscription.on_hold',
  });
  expect(functionEnv(synthNotifier({ rollupAfter: Duration.seconds(0) }).template, 'NotifierTransformerFunction')[TransformerEnv.RollupAfterSeconds]).toBe('0');
});

test('a rollupNeverFold glob that matches no known type synthesizes with a warning naming the closest type', () => {
  const { stack } = synthNotifier({ rollupNeverFold: ['refnd.*'] });
  const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('rollupNeverFold'));
  expect(warnings.map((warning) => warning.entry.data)).toEqual([expect.stringContaining('rollupNeverFold: event glob "refnd.*" matches no Dodo event type this version knows (closest: "refund.*")')]);
});

test('throttlingRateLimit and throttlingBurstLimit: stage throttling', () => {
  const { template } = synthNotifier({ throttlingRateLimit: 5, throttlingBurstLimit: 10 });
  template.hasResourceProperties('AWS::ApiGateway::Stage', {
    MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 })]),
  });
});

test.each([
  [{ throttlingRateLimit: 5 }, { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 100 }],
  [{ throttlingBurstLimit: 10 }, { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 10 }],
])('one throttling prop alone leaves the other at its default: %j', (props, expected) => {
  const { template } = synthNotifier(props);
  template.hasResourceProperties('AWS::ApiGateway::Stage', {
    MethodSettings: Match.arrayWith([Match.objectLike(expected)]),
  });
});

test('alarmTopic: alarms notify the given topic and no topic is created', () => {
  const { notifier, template } = synthNotifier((scope: Stack) => ({
    alarmTopic: sns.Topic.fromTopicArn(scope, 'Ops', 'arn:aws:sns:eu-west-1:111122223333:ops'),
  }));
  template.resourceCountIs('AWS::SNS::Topic', 0);
  expect(notifier.alarmTopic.topicArn).toBe('arn:aws:sns:eu-west-1:111122223333:ops');
  for (const alarm of Object.values(resourcesOf<{ AlarmActions: unknown }>(template, 'AWS::CloudWatch::Alarm'))) {
    expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:111122223333:ops']);
  }
});

test('alarmEmail: an email subscription on the alarm topic', () => {
  const { stack, notifier, template } = synthNotifier({ alarmEmail: 'ops@example.com' });
  template.hasResourceProperties('AWS::SNS::Subscription', {
    Protocol: 'email',
    Endpoint: 'ops@example.com',
    TopicArn: stack.resolve(notifier.alarmTopic.topicArn) as unknown,
  });
});

test('logRetention: every log group', () => {
  const { template } = synthNotifier({ logRetention: logs.RetentionDays.ONE_WEEK });
  const groups = Object.values(resourcesOf<{ RetentionInDays?: number }>(template, 'AWS::Logs::LogGroup'));
  expect(groups).toHaveLength(3);
  for (const group of groups) expect(group.Properties.RetentionInDays).toBe(7);
});

test('createApiGatewayCloudWatchRole: false leaves the account setting alone', () => {
  const { template } = synthNotifier({ createApiGatewayCloudWatchRole: false });
  template.resourceCountIs('AWS::ApiGateway::Account', 0);
  template.resourceCountIs('AWS::IAM::Role', 2);
});

test('tracing: active X-Ray on the stage and both functions by default, none with false', () => {
  const on = synthNotifier().template;
  on.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
  expect(Object.values(resourcesOf<{ TracingConfig?: { Mode: string } }>(on, 'AWS::Lambda::Function')).map((fn) => fn.Properties.TracingConfig)).toEqual([
    { Mode: 'Active' },
    { Mode: 'Active' },
  ]);
  const off = synthNotifier({ tracing: false }).template;
  expect(Object.values(resourcesOf<{ TracingEnabled?: boolean }>(off, 'AWS::ApiGateway::Stage')).map((stage) => stage.Properties.TracingEnabled ?? false)).toEqual([false]);
  expect(Object.values(resourcesOf<{ TracingConfig?: { Mode: string } }>(off, 'AWS::Lambda::Function')).map((fn) => fn.Properties.TracingConfig?.Mode ?? 'PassThrough')).toEqual([
    'PassThrough',
    'PassThrough',
  ]);
});

test('the README props table has a row for every prop, and no row for a prop that does not exist', () => {
  const root = path.join(__dirname, '..', '..');
  const source = fs.readFileSync(path.join(root, 'lib', 'props.ts'), 'utf8');
  const body = source.slice(source.indexOf('export interface DodoSlackNotifierProps'));
  const props = [...body.slice(0, body.indexOf('\n}\n')).matchAll(/^ {2}readonly (\w+)\?:/gm)].map((match) => match[1]).sort();
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('### Props'), readme.indexOf('Members:'));
  const rows = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((match) => match[1]).sort();
  expect(props.length).toBeGreaterThan(20);
  expect(rows).toEqual(props);
});

test("a DodoSlackRoute has the configuration file's route fields (secrets as ISecret there, by name in the file), and the README's routes row names them all", () => {
  const root = path.join(__dirname, '..', '..');
  const source = fs.readFileSync(path.join(root, 'lib', 'props.ts'), 'utf8');
  const body = source.slice(source.indexOf('export interface DodoSlackRoute'));
  const fields = [...body.slice(0, body.indexOf('\n}\n')).matchAll(/^ {2}readonly (\w+)\??:/gm)].map((match) => match[1]);
  // The environment variables are serve's alone; everything else is the same field on both.
  const fileFields = CONFIG_ROUTE_FIELDS.filter((field) => !field.endsWith('Env'));
  expect([...fields].sort()).toEqual([...fileFields].sort());
  const schema = JSON.parse(fs.readFileSync(path.join(root, 'schema', 'dodo-slack.config.schema.json'), 'utf8')) as { definitions: { route: { properties: Record<string, unknown> } } };
  expect(Object.keys(schema.definitions.route.properties).filter((field) => !field.endsWith('Env')).sort()).toEqual([...fields].sort());
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const routesRow = /^\| `routes` \|.*$/m.exec(readme)![0];
  for (const field of fields) expect(routesRow).toContain(field);
});
