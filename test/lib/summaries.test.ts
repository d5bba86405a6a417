/** The `summaries` prop: the schedules with their time zone, the retained table, the wiring, validation, cdk-nag. */
import { Match } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Stack } from 'aws-cdk-lib';
import { Defaults } from '../../lambda/shared/defaults';
import { parseServeOptions } from '../../bin/dodo-slack';
import { parseSummariesContext } from '../../lib/app-config';
import { actionsOn, functionEnv, onlyResource, resourcesOf, roleStatements, synthNotifier, unacknowledgedNagFindings } from './helpers';

/** The properties of an AWS::Scheduler::Schedule that these tests read. */
interface ScheduleProperties {
  readonly ScheduleExpression: string;
  readonly ScheduleExpressionTimezone: string;
  readonly Target: { readonly Input: string; readonly RetryPolicy: unknown; readonly Arn: unknown };
}

const berlin = { timeZone: 'Europe/Berlin', daily: { hour: 9 }, weekly: { weekday: 'mon' as const, hour: 9, minute: 30 } };

test('daily and weekly schedules in the IANA time zone invoke the summary function with their period and the scheduled time', () => {
  const { template } = synthNotifier({ summaries: berlin });
  template.resourceCountIs('AWS::Scheduler::Schedule', 2);
  const schedules = Object.values(resourcesOf<ScheduleProperties>(template, 'AWS::Scheduler::Schedule')).map((resource) => resource.Properties);
  const byExpression = new Map(schedules.map((schedule) => [schedule.ScheduleExpression, schedule]));
  const daily = byExpression.get('cron(0 9 * * ? *)');
  const weekly = byExpression.get('cron(30 9 ? * MON *)');
  expect(daily?.ScheduleExpressionTimezone).toBe('Europe/Berlin');
  expect(weekly?.ScheduleExpressionTimezone).toBe('Europe/Berlin');
  expect(JSON.parse(daily!.Target.Input)).toEqual({ kind: 'day', timeZone: 'Europe/Berlin', routeId: 'default', scheduledTime: '<aws.scheduler.scheduled-time>' });
  expect(JSON.parse(weekly!.Target.Input)).toMatchObject({ kind: 'week' });
  expect(daily!.Target.RetryPolicy).toEqual({ MaximumRetryAttempts: 20, MaximumEventAgeInSeconds: 21600 });
  expect(daily!.Target.Arn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^NotifierSummaryFunction/), 'Arn'] });
});

test('the aggregate table is retained with the stack, with point-in-time recovery', () => {
  const { template } = synthNotifier({ summaries: { daily: { hour: 8 } } });
  template.hasResource('AWS::DynamoDB::Table', {
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: Match.objectLike({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  });
  // The default is Defaults.summaryTimeZone (UTC), the same as serve's and dodo-slack summary's --tz.
  expect(onlyResource(template, 'AWS::Scheduler::Schedule').Properties.ScheduleExpressionTimezone).toBe(Defaults.summaryTimeZone);
  const serve = parseServeOptions(['--summary', 'daily@08:00'], { stdout: () => {}, stderr: () => {}, env: { DODO_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } });
  expect(serve.help === false && serve.options.summaries).toEqual({ schedules: [{ kind: 'day', hour: 8, minute: 0 }], timeZone: Defaults.summaryTimeZone });
});

test('the transformer may only UpdateItem on it (one write per event); the summary function reads, records and queues', () => {
  const { template } = synthNotifier({ summaries: { daily: { hour: 8 } } });
  const tableId = Object.keys(template.findResources('AWS::DynamoDB::Table')).find((id) => id.startsWith('NotifierSummariesTable'))!;
  const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
  expect(functionEnv(template, 'NotifierTransformerFunction').SUMMARY_TABLE_NAME).toEqual({ Ref: tableId });
  expect(actionsOn(roleStatements(template, 'NotifierTransformerRole'), tableArn)).toEqual(['dynamodb:UpdateItem']);
  expect(actionsOn(roleStatements(template, 'NotifierSummaryRole'), tableArn)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem']);
  const summaryEnv = onlyResource<{ Environment: { Variables: Record<string, unknown> } }>(template, 'AWS::Lambda::Function', 'NotifierSummaryFunction').Properties.Environment.Variables;
  expect(summaryEnv).toMatchObject({ SUMMARY_TABLE_NAME: { Ref: tableId }, POWERTOOLS_SERVICE_NAME: 'dodo-slack-summaries' });
  expect(summaryEnv.QUEUE_URL).toEqual(functionEnv(template, 'NotifierTransformerFunction').QUEUE_URL);
  // Its failures alarm on the notifier's topic, like every other alarm.
  const alarm = Object.entries(resourcesOf<{ AlarmActions: unknown }>(template, 'AWS::CloudWatch::Alarm')).find(([id]) => id.startsWith('NotifierSummariesErrorsAlarm'))![1];
  expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^NotifierAlarmTopic/) as unknown }]);
});

test('without summaries there is no schedule, no table and no SUMMARY_TABLE_NAME', () => {
  const { template, notifier } = synthNotifier();
  template.resourceCountIs('AWS::Scheduler::Schedule', 0);
  template.resourceCountIs('AWS::DynamoDB::Table', 1);
  expect(functionEnv(template, 'NotifierTransformerFunction').SUMMARY_TABLE_NAME).toBeUndefined();
  expect(notifier.summaries).toBeUndefined();
});

test('summaries to a given route', () => {
  const { template } = synthNotifier((stack: Stack) => ({
    routes: [{ id: 'Finance', events: ['payment.*'], slackWebhookSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Fin', 'slack/finance') }],
    summaries: { daily: { hour: 7 }, route: 'Finance', timeZone: 'America/New_York' },
  }));
  const schedule = onlyResource<ScheduleProperties>(template, 'AWS::Scheduler::Schedule').Properties;
  expect(JSON.parse(schedule.Target.Input)).toMatchObject({ routeId: 'Finance', timeZone: 'America/New_York' });
});

test('fails with every problem of the summaries prop', () => {
  expect(() => synthNotifier({ summaries: {} })).toThrow('summaries needs daily and/or weekly');
  expect(() =>
    synthNotifier({ summaries: { timeZone: 'Mars/Olympus', daily: { hour: 24, minute: 60 }, weekly: { hour: 9, weekday: 'monday' as never }, route: 'Nope' } }),
  ).toThrow(
    /summaries\.daily\.hour must be a whole number 0\.\.23, got 24[\s\S]*summaries\.daily\.minute must be a whole number 0\.\.59, got 60[\s\S]*weekday must be one of mon, tue[\s\S]*unknown time zone "Mars\/Olympus"[\s\S]*summaries\.route "Nope" is not a route/,
  );
});

test('cdk-nag reports nothing unacknowledged with summaries', () => {
  const { app } = synthNotifier({ summaries: berlin });
  expect(unacknowledgedNagFindings(app)).toEqual([]);
});

test('the deployable app takes summaries from context: -c summaries=daily@09:00,weekly@mon-09:00 -c summaryTimeZone=Europe/Berlin', () => {
  expect(parseSummariesContext('daily@09:00, weekly@fri-17:30', 'Europe/Berlin')).toEqual({
    timeZone: 'Europe/Berlin',
    daily: { hour: 9, minute: 0 },
    weekly: { hour: 17, minute: 30, weekday: 'fri' },
  });
  expect(parseSummariesContext(undefined, undefined)).toBeUndefined();
  expect(() => parseSummariesContext('hourly', undefined)).toThrow(/context summaries: a summary schedule is daily@HH:MM/);
  expect(() => parseSummariesContext('daily@09:00,daily@10:00', undefined)).toThrow(/context summaries takes one daily and one weekly schedule at most/);
  expect(() => parseSummariesContext(undefined, 'UTC')).toThrow(/summaryTimeZone applies to summaries/);
});
