/**
 * Daily and weekly summaries on AWS (the `summaries` prop): a DynamoDB table of atomic counters
 * the transformer adds each event to (one conditional UpdateItem per event, once per webhook-id),
 * a summary function, and one EventBridge Scheduler schedule per summary in the chosen IANA time
 * zone. The summary function puts the finished message on the notifier's queue, so the transformer
 * delivers it like an event: pacing, retries, the dead-letter queue, metrics and alarms.
 */
import { CfnElement, Duration, RemovalPolicy, Stack, TimeZone, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantTableKeyUse } from './encryption';
import { DEFAULT_ROUTE_ID, SummariesEnv, SummaryTableKey, TransformerEnv } from '../lambda/shared/function-env';
import { Defaults } from '../lambda/shared/defaults';
import { checkTimeZone } from '../lambda/summaries/period';
import { WEEKDAYS } from '../lambda/summaries/schedule';

/** Day of a weekly summary. */
export type SummaryWeekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

/** A local time of day. */
export interface SummaryTime {
  /** Local hour, 0..23. */
  readonly hour: number;
  /**
   * Local minute, 0..59.
   * @default 0
   */
  readonly minute?: number;
}

/** A weekly summary's day and local time. */
export interface WeeklySummaryTime extends SummaryTime {
  /**
   * The day it is posted (it reports on the week before, Monday to Sunday).
   * @default 'mon'
   */
  readonly weekday?: SummaryWeekday;
}

/** The `summaries` prop: what to post, when, in which time zone, to which route. */
export interface DodoSlackSummaries {
  /**
   * IANA time zone of the posting times and of the periods (`Europe/Berlin`): a day is local
   * midnight to local midnight, also across DST changes.
   * @default 'UTC'
   */
  readonly timeZone?: string;
  /**
   * Post a summary of the day before, every day at this local time.
   * @default - no daily summary
   */
  readonly daily?: SummaryTime;
  /**
   * Post a summary of the week before (Monday first), every week on this day and local time.
   * @default - no weekly summary
   */
  readonly weekly?: WeeklySummaryTime;
  /**
   * Id of the route whose Slack channel gets the summaries.
   * @default - the default route
   */
  readonly route?: string;
}

/** Every problem with the `summaries` prop (empty when it is fine or absent). */
export function summariesProblems(summaries: DodoSlackSummaries | undefined, routeIds: readonly string[]): string[] {
  if (summaries === undefined) return [];
  const problems: string[] = [];
  if (summaries.daily === undefined && summaries.weekly === undefined) {
    problems.push('summaries needs daily and/or weekly, e.g. { daily: { hour: 9 }, timeZone: "Europe/Berlin" }');
  }
  const checkTime = (name: string, time: SummaryTime | undefined) => {
    if (time === undefined) return;
    if (!Token.isUnresolved(time.hour) && !(Number.isInteger(time.hour) && time.hour >= 0 && time.hour <= 23)) {
      problems.push(`summaries.${name}.hour must be a whole number 0..23, got ${time.hour}`);
    }
    if (time.minute !== undefined && !Token.isUnresolved(time.minute) && !(Number.isInteger(time.minute) && time.minute >= 0 && time.minute <= 59)) {
      problems.push(`summaries.${name}.minute must be a whole number 0..59, got ${time.minute}`);
    }
  };
  checkTime('daily', summaries.daily);
  checkTime('weekly', summaries.weekly);
  const weekday = summaries.weekly?.weekday;
  if (weekday !== undefined && !WEEKDAYS.includes(weekday)) {
    problems.push(`summaries.weekly.weekday must be one of ${WEEKDAYS.join(', ')}, got ${JSON.stringify(weekday)}`);
  }
  if (summaries.timeZone !== undefined && !Token.isUnresolved(summaries.timeZone)) {
    try {
      checkTimeZone(summaries.timeZone);
    } catch (error) {
      problems.push(`summaries.timeZone: ${(error as Error).message}`);
    }
  }
  const route = summaries.route ?? DEFAULT_ROUTE_ID;
  if (!routeIds.includes(route)) {
    problems.push(
      summaries.route === undefined
        ? 'summaries go to the default route, which exists only with slackWebhookSecret; set summaries.route to one of the routes'
        : `summaries.route ${JSON.stringify(route)} is not a route of this notifier (routes: ${routeIds.join(', ') || 'none'})`,
    );
  }
  return problems;
}

export interface NotifierSummariesProps {
  readonly summaries: DodoSlackSummaries;
  /** The notifier's queue: the summary is delivered from there. */
  readonly queue: sqs.IQueue;
  readonly transformerFunction: nodejs.NodejsFunction;
  /** Creates the summary function the way the notifier creates its own (role, log group, bundling). */
  readonly createFunction: (environment: Record<string, string>) => nodejs.NodejsFunction;
  /** The notifier's key: the aggregates hold amounts and product names. */
  readonly encryptionKey: kms.IKey;
  /** The notifier's `removalPolicy` (retain by default: the history of the summaries). */
  readonly removalPolicy: RemovalPolicy;
}

/** The summaries' resources: the aggregate table, the function, the schedules and an alarm. */
export class NotifierSummaries extends Construct {
  /** Atomic counters per 15-minute slot and the posted summaries; retained when the stack is deleted. */
  public readonly table: dynamodb.Table;
  /** Composes, records and queues a summary when a schedule invokes it. */
  public readonly summaryFunction: nodejs.NodejsFunction;
  /** The daily and/or weekly schedule (EventBridge Scheduler, in the summaries' time zone). */
  public readonly schedules: scheduler.Schedule[] = [];
  /** Fires when the summary function fails (after Scheduler's retries the summary is missing). */
  public readonly errorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: NotifierSummariesProps) {
    super(scope, id);
    const { summaries } = props;
    const timeZone = summaries.timeZone === undefined || Token.isUnresolved(summaries.timeZone) ? (summaries.timeZone ?? Defaults.summaryTimeZone) : checkTimeZone(summaries.timeZone);
    const routeId = summaries.route ?? DEFAULT_ROUTE_ID;

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: SummaryTableKey.partition, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SummaryTableKey.sort, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      // The history of the summaries: kept when the notifier is removed, unless removalPolicy says otherwise.
      removalPolicy: props.removalPolicy,
    });

    // The per-event path: the transformer adds each event's counters (UpdateItem only).
    props.transformerFunction.addEnvironment(TransformerEnv.SummaryTableName, this.table.tableName);
    this.table.grant(props.transformerFunction, 'dynamodb:UpdateItem');

    this.summaryFunction = props.createFunction({
      [SummariesEnv.SummaryTableName]: this.table.tableName,
      [SummariesEnv.QueueUrl]: props.queue.queueUrl,
    });
    this.table.grant(this.summaryFunction, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    // The transformer has the key's use already (the deduplication table is under the same key).
    grantTableKeyUse(props.encryptionKey, this.summaryFunction);
    props.queue.grantSendMessages(this.summaryFunction);

    const zone = TimeZone.of(timeZone);
    // Our own role rather than the stack-wide one the target would create: scoped to this function.
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'Lets EventBridge Scheduler invoke the Dodo Slack notifier summary function',
    });
    const functionId = Stack.of(this).resolve(Stack.of(this).getLogicalId(this.summaryFunction.node.defaultChild as CfnElement)) as string;
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason: 'lambda:InvokeFunction on the summary function and its versions (what grantInvoke grants); the role can invoke nothing else.',
    });
    const target = (kind: 'day' | 'week') =>
      new schedulerTargets.LambdaInvoke(this.summaryFunction, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject({ kind, timeZone, routeId, scheduledTime: scheduler.ContextAttribute.scheduledTime }),
        // A run that keeps failing is retried for a while; the summary is recorded once whatever happens.
        retryAttempts: 20,
        maxEventAge: Duration.hours(6),
      });
    if (summaries.daily) {
      this.schedules.push(
        new scheduler.Schedule(this, 'DailySchedule', {
          description: `Dodo Slack notifier: daily summary at ${time(summaries.daily)} ${timeZone}`,
          schedule: scheduler.ScheduleExpression.cron({ minute: String(summaries.daily.minute ?? 0), hour: String(summaries.daily.hour), timeZone: zone }),
          target: target('day'),
        }),
      );
    }
    if (summaries.weekly) {
      const weekday = summaries.weekly.weekday ?? 'mon';
      this.schedules.push(
        new scheduler.Schedule(this, 'WeeklySchedule', {
          description: `Dodo Slack notifier: weekly summary on ${weekday} at ${time(summaries.weekly)} ${timeZone}`,
          schedule: scheduler.ScheduleExpression.cron({
            minute: String(summaries.weekly.minute ?? 0),
            hour: String(summaries.weekly.hour),
            weekDay: weekday.toUpperCase(),
            timeZone: zone,
          }),
          target: target('week'),
        }),
      );
    }

    this.errorsAlarm = this.summaryFunction.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }).createAlarm(this, 'ErrorsAlarm', {
      alarmDescription: 'The summary function failed: a scheduled summary may not have been posted (see its logs).',
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

function time(value: SummaryTime): string {
  return `${String(value.hour).padStart(2, '0')}:${String(value.minute ?? 0).padStart(2, '0')}`;
}
