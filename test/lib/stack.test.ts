/** DodoSlackNotifierStack and the app bin/app.ts builds from CDK context. */
import * as path from 'node:path';
import { type CfnElement, SecretValue, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import { ReceiverEnv } from '../../lambda/shared/function-env';
import { buildApp, DEFAULT_STACK_NAME, parseEvents } from '../../lib/app-config';
import { DodoSlackNotifierStack } from '../../lib/dodo-slack-notifier-stack';
import { functionEnv, renderCfnString, synthNotifier, testApp, testOutdir } from './helpers';

const outputsOf = (template: Template) => template.toJSON().Outputs as Record<string, { Value: unknown }>;
const outputValue = (template: Template, id: string): string => renderCfnString(outputsOf(template)[id].Value);

describe('stack with defaults', () => {
  const app = testApp();
  const stack = buildApp(app);
  const template = Template.fromStack(stack);
  const notifier = stack.notifier;
  const id = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);

  test('is named DodoSlackNotifier', () => {
    expect(stack.stackName).toBe(DEFAULT_STACK_NAME);
  });

  test('outputs the webhook URL ending in /webhooks/dodo', () => {
    expect(outputValue(template, 'WebhookUrl')).toMatch(/^https:\/\/<Ref:NotifierApi[A-F0-9]+>\.execute-api\.<Ref:AWS::Region>\.<Ref:AWS::URLSuffix>\/<Ref:NotifierApiDeploymentStageprod[A-F0-9]+>\/webhooks\/dodo$/);
  });

  test('the webhook URL is the only URL of the API in the outputs (no stage URL ending in /prod/ beside it)', () => {
    const outputs = outputsOf(template);
    const apiUrls = Object.entries(outputs).filter(([, output]) => /execute-api/.test(renderCfnString(output.Value)));
    expect(apiUrls.map(([name]) => name)).toEqual(['WebhookUrl']);
    expect(Object.keys(outputs).sort()).toEqual(['DeadLetterQueueConsoleUrl', 'MetricsUrl', 'SigningSecretConsoleUrl', 'SlackWebhookSecretConsoleUrl', 'WebhookUrl']);
  });

  test('outputs console links to set both secrets', () => {
    expect(outputValue(template, 'SigningSecretConsoleUrl')).toMatch(
      /^https:\/\/console\.aws\.amazon\.com\/secretsmanager\/secret\?name=.*&region=<Ref:AWS::Region>$/,
    );
    expect(JSON.stringify(outputsOf(template).SigningSecretConsoleUrl.Value)).toContain(id(notifier.signingSecret));
    expect(JSON.stringify(outputsOf(template).SlackWebhookSecretConsoleUrl.Value)).toContain(id(notifier.slackWebhookSecret!));
  });

  test('outputs the dead-letter queue and metrics console links (no dashboard by default)', () => {
    expect(outputValue(template, 'DeadLetterQueueConsoleUrl')).toBe(
      'https://console.aws.amazon.com/sqs/v3/home?region=<Ref:AWS::Region>#/queues/https%3A%2F%2Fsqs.<Ref:AWS::Region>.<Ref:AWS::URLSuffix>%2F<Ref:AWS::AccountId>%2F' +
        `<GetAtt:${id(notifier.deadLetterQueue)}.QueueName>`,
    );
    expect(outputValue(template, 'MetricsUrl')).toBe("https://console.aws.amazon.com/cloudwatch/home?region=<Ref:AWS::Region>#metricsV2?graph=~()&namespace=~'DodoSlackNotifier");
    expect(notifier.dashboard).toBeUndefined();
  });

  test('with dashboard: true, outputs the dashboard link instead', () => {
    const withDashboard = new DodoSlackNotifierStack(testApp(), 'WithDashboard', { dashboard: true });
    const outputs = Template.fromStack(withDashboard);
    expect(outputValue(outputs, 'DashboardUrl')).toBe(
      `https://console.aws.amazon.com/cloudwatch/home?region=<Ref:AWS::Region>#dashboards:name=<Ref:${withDashboard.getLogicalId(withDashboard.notifier.dashboard!.node.defaultChild as CfnElement)}>`,
    );
  });
});

describe('context', () => {
  test('stackName, events and alarmEmail', () => {
    const stack = buildApp(testApp({ stackName: 'Payments', events: 'payment.*, dispute.opened,', alarmEmail: 'ops@example.com' }));
    const template = Template.fromStack(stack);
    expect(stack.stackName).toBe('Payments');
    expect(functionEnv(template, 'NotifierReceiverFunction')[ReceiverEnv.EventFilter]).toBe('["payment.*","dispute.opened"]');
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  test('secret names import existing secrets instead of creating them', () => {
    const stack = buildApp(testApp({ slackWebhookSecretName: 'dodo/slack', signingSecretName: 'dodo/signing' }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(stack.resolve(stack.notifier.signingSecret.secretName)).toBe('dodo/signing');
    expect(stack.resolve(stack.notifier.slackWebhookSecret!.secretName)).toBe('dodo/slack');
    expect(outputValue(template, 'SlackWebhookSecretConsoleUrl')).toBe(
      'https://console.aws.amazon.com/secretsmanager/secret?name=dodo/slack&region=<Ref:AWS::Region>',
    );
  });

  test('secret ARNs import existing secrets', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:dodo/signing-AbCdEf';
    const stack = buildApp(testApp({ signingSecretArn: arn, slackWebhookSecretArn: arn.replace('signing', 'slack') }));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(functionEnv(template, 'NotifierReceiverFunction')[ReceiverEnv.SigningSecretArn]).toBe(arn);
  });

  test('fails if both the ARN and the name of one secret are given', () => {
    expect(() => buildApp(testApp({ signingSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x-AbCdEf', signingSecretName: 'x' }))).toThrow(
      /set only one of signingSecretArn, signingSecretName/,
    );
  });

  test('fails if a context value is not a string', () => {
    expect(() => buildApp(testApp({ events: ['payment.*'] }))).toThrow(/context events must be a string/);
  });

  test.each(['slackWebhookSecretArn', 'signingSecretArn'])(
    'an incomplete %s is refused naming the key, a valid example and the name alternative',
    (key) => {
      const nameKey = key.replace('Arn', 'Name');
      for (const bad of ['garbage', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:dodo/slack']) {
        const error = (() => {
          try {
            buildApp(testApp({ [key]: bad }));
          } catch (caught) {
            return (caught as Error).message;
          }
          return 'no error';
        })();
        expect(error).toContain(`context ${key} must be the complete ARN of a Secrets Manager secret`);
        expect(error).toMatch(new RegExp(`e\\.g\\. -c ${key}=arn:aws:secretsmanager:us-east-1:111122223333:secret:\\S+-AbCdEf;`));
        expect(error).toContain(JSON.stringify(bad));
        expect(error).toMatch(new RegExp(`Or give the secret's name: -c ${nameKey}=dodo/`));
      }
    },
  );

  test('an example in an error is itself accepted', () => {
    const stack = buildApp(
      testApp({
        slackWebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:dodo/slack-AbCdEf',
        signingSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:dodo/signing-AbCdEf',
      }),
    );
    expect(stack.notifier.signingSecret.secretArn).toBe('arn:aws:secretsmanager:us-east-1:111122223333:secret:dodo/signing-AbCdEf');
  });

  test('malformed events are refused naming the key, an example and the alternative', () => {
    expect(() => buildApp(testApp({ events: 'payment.*, dispute opened' }))).toThrow(
      `context events must be comma-separated event-type globs, e.g. -c events='payment.*,refund.*,dispute.*'; ` +
        'event glob "dispute opened" may only contain letters, digits, "_", "-", "." and "*". Leave it out to forward every event type',
    );
    expect(() => buildApp(testApp({ events: ' , ' }))).toThrow(/context events must be .*; it lists no glob\. Leave it out/);
  });

  test('a stack name CloudFormation would refuse is refused with an example', () => {
    expect(() => buildApp(testApp({ stackName: 'my notifier' }))).toThrow(
      'context stackName must start with a letter and hold only letters, digits and "-" (at most 128), e.g. -c stackName=DodoSlackNotifier; got "my notifier"',
    );
  });

  test('events that match no known type synthesize with a warning naming the glob and the closest type', () => {
    const stack = buildApp(testApp({ events: 'paymnt.*,refund.*' }));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('matches no Dodo event type'));
    expect(warnings.map((warning) => warning.entry.data)).toEqual([expect.stringContaining('event glob "paymnt.*" matches no Dodo event type this version knows (closest: "payment.*")')]);
    expect(functionEnv(Template.fromStack(stack), 'NotifierReceiverFunction')[ReceiverEnv.EventFilter]).toBe('["paymnt.*","refund.*"]');
  });

  test('a context key the app does not read is warned about (a typo would otherwise be ignored)', () => {
    const stack = buildApp(testApp({ event: 'payment.*', 'some:cdk/flag': true }));
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('is not read by this app'));
    expect(warnings.map((warning) => warning.entry.data)).toEqual([expect.stringMatching(/^context event is not read by this app; it reads slackWebhookSecretArn, .*stackName/)]);
  });

  test('parseEvents splits on commas and drops blanks', () => {
    expect(parseEvents(' payment.* ,,refund.succeeded ')).toEqual(['payment.*', 'refund.succeeded']);
    expect(parseEvents(undefined)).toBeUndefined();
  });
});

test('routes get their own console link outputs', () => {
  const app = testApp();
  const risk = new secretsmanager.Secret(new Stack(app, 'Secrets'), 'Risk');
  const stack = new DodoSlackNotifierStack(app, 'WithRoutes', {
    routes: [{ id: 'Risk', events: ['dispute.*'], slackWebhookSecret: risk }],
  });
  const outputs = outputsOf(Template.fromStack(stack));
  expect(outputs.SlackWebhookSecretConsoleUrl).toBeUndefined();
  const link = renderCfnString(outputs.RouteRiskSlackWebhookSecretConsoleUrl.Value);
  expect(link).toMatch(/^https:\/\/console\.aws\.amazon\.com\/secretsmanager\/secret\?name=.*Fn::ImportValue.*&region=<Ref:AWS::Region>$/);
});

test('no secret value or Slack URL reaches the template, even when the secrets hold real values', () => {
  const app = testApp();
  // The values live in another stack; the notifier gets the secrets by reference only.
  const secrets = new Stack(app, 'Secrets');
  const slack = new secretsmanager.Secret(secrets, 'Slack', {
    secretStringValue: SecretValue.unsafePlainText('https://hooks.slack.com/services/T000/B000/XXXXXXXX'),
  });
  const signing = new secretsmanager.Secret(secrets, 'Signing', {
    secretStringValue: SecretValue.unsafePlainText('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'),
  });
  const stack = new DodoSlackNotifierStack(app, 'Notifier', {
    slackWebhookSecret: slack,
    signingSecret: signing,
    routes: [{ id: 'Risk', events: ['dispute.*'], slackWebhookSecret: slack }],
  });
  const leaks = (template: Template) =>
    ['hooks.slack.com', 'whsec_', 'XXXXXXXX', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'].filter((value) =>
      JSON.stringify(template.toJSON()).includes(value),
    );
  expect(leaks(Template.fromStack(stack))).toEqual([]);
  // The secrets' own stack does hold them: the check above would have seen them.
  expect(leaks(Template.fromStack(secrets))).toEqual(['hooks.slack.com', 'whsec_', 'XXXXXXXX', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']);
});

test('test apps synthesize into this file\'s temporary folder, not a new cdk.out… folder per app', () => {
  const { app } = synthNotifier();
  expect(path.dirname(app.outdir)).toBe(path.dirname(testOutdir()));
  expect(path.basename(path.dirname(app.outdir))).toMatch(/^dodo-infra-test-/);
});
