/** The `alerts` prop: the schedule, the function's settings and grants, the silence alarm, validation, cdk-nag. */
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { actionsOn, functionEnv, onlyResource, resourcesOf, roleStatements, synthNotifier, testApp, unacknowledgedNagFindings } from './helpers';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../lib/app-config';
import { parseAlertsContext } from '../../lib/alerts';

interface AlarmProperties {
  readonly MetricName?: string;
  readonly Period?: number;
  readonly EvaluationPeriods: number;
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly TreatMissingData: string;
  readonly AlarmActions: unknown[];
  readonly OKActions?: unknown[];
}

test('alerts: {} adds a rate schedule of the alerts function, every rule on, and the silence alarm on the alarm topic', () => {
  const { template } = synthNotifier({ alerts: {} });
  const schedule = onlyResource<{ ScheduleExpression: string; Target: { Arn: unknown } }>(template, 'AWS::Scheduler::Schedule');
  expect(schedule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
  expect(schedule.Properties.Target.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^NotifierAlertsFunction/), 'Arn'] });
  const env = functionEnv(template, 'NotifierAlertsFunction');
  expect(JSON.parse(env.ALERT_SETTINGS as string)).toEqual({ silence: {}, failures: {}, refunds: {}, disputes: {} });
  expect(env).toMatchObject({ ALERT_ROUTE_ID: 'default', POWERTOOLS_SERVICE_NAME: 'dodo-slack-alerts' });
  // The counters come without a summary schedule.
  const tableId = Object.keys(template.findResources('AWS::DynamoDB::Table')).find((id) => id.startsWith('NotifierSummariesTable'))!;
  expect(env.SUMMARY_TABLE_NAME).toEqual({ Ref: tableId });
  expect(actionsOn(roleStatements(template, 'NotifierAlertsRole'), { 'Fn::GetAtt': [tableId, 'Arn'] })).toEqual([
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:UpdateItem',
  ]);
  const silence = Object.entries(resourcesOf<AlarmProperties>(template, 'AWS::CloudWatch::Alarm')).find(([id]) => id.includes('SilenceAlarm'))![1].Properties;
  expect(silence).toMatchObject({ MetricName: 'WebhookQueued', Period: 3600, EvaluationPeriods: 24, Threshold: 1, ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
  expect(silence.AlarmActions).toHaveLength(1);
  expect(silence.OKActions).toEqual(silence.AlarmActions);
});

test('rules switch off one by one; a fixed silence threshold sizes the alarm; the route and the rate are the user\'s', () => {
  const { template } = synthNotifier((stack: Stack) => ({
    slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Ops', 'slack/ops'),
    routes: [{ id: 'Risk', events: ['dispute.*'], slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Risk', 'slack/risk') }],
    alerts: { refunds: false, failures: { minFailures: 10 }, silence: { afterSeconds: 1800 }, route: 'Risk', everyMinutes: 1 },
  }));
  const env = functionEnv(template, 'NotifierAlertsFunction');
  expect(JSON.parse(env.ALERT_SETTINGS as string)).toEqual({ silence: { afterSeconds: 1800 }, failures: { minFailures: 10 }, refunds: false, disputes: {} });
  expect(env.ALERT_ROUTE_ID).toBe('Risk');
  expect(onlyResource<{ ScheduleExpression: string }>(template, 'AWS::Scheduler::Schedule').Properties.ScheduleExpression).toBe('rate(1 minute)');
  const silence = Object.entries(resourcesOf<AlarmProperties>(template, 'AWS::CloudWatch::Alarm')).find(([id]) => id.includes('SilenceAlarm'))![1].Properties;
  expect(silence).toMatchObject({ Period: 300, EvaluationPeriods: 6 });
});

test('silence off: no silence alarm', () => {
  const { template } = synthNotifier({ alerts: { silence: false } });
  expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm')).filter((id) => id.includes('SilenceAlarm'))).toEqual([]);
});

test('invalid alerts props are named', () => {
  const stack = new Stack();
  expect(() => new DodoSlackNotifier(stack, 'Notifier', { alerts: { route: 'nope', failures: { minFailures: 0 }, disputes: { ratio: -1 } } })).toThrow(
    /alerts\.failures\.minFailures must be a positive whole number, got 0[\s\S]*alerts\.disputes\.ratio must be a positive number, got -1[\s\S]*alerts\.route "nope" is not a route/,
  );
});

test('cdk-nag: alerts add no unacknowledged finding', () => {
  const { app } = synthNotifier({ alerts: {}, summaries: { daily: { hour: 9 } } });
  expect(unacknowledgedNagFindings(app)).toEqual([]);
});

test('the app\'s context: -c alerts=on turns every rule on, a list only those, -c silenceAfter fixes the threshold', () => {
  const settingsOf = (context: Record<string, string>) => {
    const template = Template.fromStack(buildApp(testApp(context)));
    return JSON.parse(functionEnv(template, 'NotifierAlertsFunction').ALERT_SETTINGS as string) as unknown;
  };
  expect(settingsOf({ alerts: 'on' })).toEqual({ silence: {}, failures: {}, refunds: {}, disputes: {} });
  expect(settingsOf({ alerts: 'failures,disputes', silenceAfter: '7200' })).toEqual({ silence: { afterSeconds: 7200 }, failures: {}, refunds: false, disputes: {} });
  expect(parseAlertsContext(undefined, undefined)).toBeUndefined();
  expect(() => parseAlertsContext('failure', undefined)).toThrow('context alerts must be "on" or comma-separated rules of silence, failures, refunds, disputes; got "failure"');
  // -c alertThresholds sets the rules' thresholds, checked as serve's --alert-thresholds is.
  expect(settingsOf({ alerts: 'on', alertThresholds: 'failures.minFailures=10,disputes.ratio=0.01' })).toEqual({ silence: {}, failures: { minFailures: 10 }, refunds: {}, disputes: { ratio: 0.01 } });
  expect(() => parseAlertsContext('failures', undefined, 'refunds.factor=2')).toThrow('context alertThresholds: refunds.factor applies to the refunds rule, which is off');
  expect(() => parseAlertsContext(undefined, undefined, 'failures.minFailures=10')).toThrow('context alertThresholds applies to alerts; add -c alerts=on');
});
