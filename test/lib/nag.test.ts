/** cdk-nag AwsSolutions: nothing unacknowledged, for a bare construct, for routes, and for the deployable stack. */
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../lib/app-config';
import { Transformation } from '../../lib/transformation';
import { synthNotifier, testApp, unacknowledgedNagFindings } from './helpers';

test('a bare new DodoSlackNotifier(stack, "Notifier") has no unacknowledged findings', () => {
  const { app } = synthNotifier();
  expect(unacknowledgedNagFindings(app)).toEqual([]);
});

test('the findings it acknowledges are real: without the acknowledgements, cdk-nag reports them', () => {
  const acknowledge = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation(() => undefined);
  let app: App;
  try {
    app = synthNotifier().app;
  } finally {
    acknowledge.mockRestore();
  }
  const rules = new Set(unacknowledgedNagFindings(app).map((finding) => finding.split(' ')[0]));
  expect([...rules].sort()).toEqual([
    'AwsSolutions-APIG2',
    'AwsSolutions-APIG3',
    'AwsSolutions-APIG4',
    'AwsSolutions-COG4',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    'AwsSolutions-IAM5[Resource::*]',
    'AwsSolutions-L1',
    'AwsSolutions-SMG4',
  ]);
});

test('routes, imported secrets, a passed topic and an email subscription add no findings', () => {
  const { app } = synthNotifier((stack: Stack) => ({
    slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Ops', 'slack/ops'),
    signingSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'Sig', 'arn:aws:secretsmanager:us-east-1:111122223333:secret:sig-AbCdEf'),
    routes: [
      {
        id: 'Risk',
        events: ['dispute.*'],
        slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Risk', 'slack/risk'),
        transformation: Transformation.fromInline('function handler(webhook) { return webhook; }'),
      },
    ],
    alarmTopic: sns.Topic.fromTopicArn(stack, 'Topic', 'arn:aws:sns:us-east-1:111122223333:ops'),
    alarmEmail: 'ops@example.com',
    createApiGatewayCloudWatchRole: false,
  }));
  expect(unacknowledgedNagFindings(app)).toEqual([]);
});

test('the deployable stack (bin/app.ts with and without context) has no unacknowledged findings', () => {
  for (const context of [{}, { slackWebhookSecretName: 'dodo/slack', signingSecretName: 'dodo/signing', events: 'payment.*', alarmEmail: 'ops@example.com' }]) {
    const app = testApp(context);
    const stack = buildApp(app);
    Template.fromStack(stack);
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  }
});

test('synthesis with the AwsSolutions plugin registered, as bin/app.ts does, succeeds', () => {
  const app = testApp();
  buildApp(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  expect(() => app.synth()).not.toThrow();
});

test('synthesis with the plugin fails on an unacknowledged finding (the check is live)', () => {
  const app = testApp();
  const stack = buildApp(app);
  new secretsmanager.Secret(stack, 'UnrotatedSecret');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  const quietLog = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  try {
    expect(() => app.synth()).toThrow();
  } finally {
    quiet.mockRestore();
    quietLog.mockRestore();
  }
});
