/**
 * Alerts on AWS (the `alerts` prop): an alerts function EventBridge Scheduler runs every few
 * minutes, which evaluates the rules (lambda/alerts/rules.ts) over the summaries' counters and
 * queues each alert or resolved message for the transformer to deliver; its open episodes live in
 * the summaries' table (under the notifier's key). Silence also raises a CloudWatch alarm on the
 * alarm topic, from the receiver's WebhookQueued metric.
 */
import { CfnElement, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantTableKeyUse } from './encryption';
import { AlertsEnv, DEFAULT_ROUTE_ID } from '../lambda/shared/function-env';
import { withAlertThresholds, type AlertSettings, type DisputeSettings, type FailureSettings, type RefundSettings, type SilenceSettings } from '../lambda/alerts/rules';

/** The `alerts` prop: which rules, their thresholds, where they post and how often they run. Every rule is on unless set to `false`. */
export interface DodoSlackAlerts {
  /**
   * No webhook accepted for longer than a threshold: `afterSeconds` fixes it; else it is learned
   * (1.5 × the longest gap of the last 4 weeks, at least `floorSeconds`, 6 h by default).
   * @default - on, learned
   */
  readonly silence?: SilenceSettings | false;
  /** @default - on: ≥ 5 failures in the last hour at ≥ 2 × and ≥ 10 points above the usual rate of that hour (20 % with no history) */
  readonly failures?: FailureSettings | false;
  /** @default - on: ≥ 5 refunds in the last day and ≥ 3 × the usual day by count or amount */
  readonly refunds?: RefundSettings | false;
  /** @default - on: disputes opened ÷ successful payments in the calendar month ≥ 0.75 % */
  readonly disputes?: DisputeSettings | false;
  /**
   * Id of the route whose Slack channel gets the alerts.
   * @default - the default route, else the first route
   */
  readonly route?: string;
  /**
   * How often the rules run (minutes).
   * @default 5
   */
  readonly everyMinutes?: number;
}

export const ALERTS_EVERY_MINUTES = 5;
/** The silence alarm's threshold when the rule learns its own (an alarm cannot): one day. */
export const SILENCE_ALARM_DEFAULT_SECONDS = 86_400;

/** The rules as the function reads them. */
export function alertSettingsOf(alerts: DodoSlackAlerts): AlertSettings {
  const rule = <T>(value: T | false | undefined): T | false => (value === false ? false : (value ?? ({} as T)));
  return { silence: rule(alerts.silence), failures: rule(alerts.failures), refunds: rule(alerts.refunds), disputes: rule(alerts.disputes) };
}

/** Every problem with the `alerts` prop (empty when it is fine or absent). */
export function alertsProblems(alerts: DodoSlackAlerts | undefined, routeIds: readonly string[]): string[] {
  if (alerts === undefined) return [];
  const problems: string[] = [];
  const positive = (name: string, value: number | undefined, integer = false) => {
    if (value === undefined || Token.isUnresolved(value)) return;
    if (!(Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value)))) problems.push(`alerts.${name} must be a positive ${integer ? 'whole ' : ''}number, got ${value}`);
  };
  if (alerts.silence) {
    positive('silence.afterSeconds', alerts.silence.afterSeconds);
    positive('silence.floorSeconds', alerts.silence.floorSeconds);
  }
  if (alerts.failures) {
    positive('failures.minFailures', alerts.failures.minFailures, true);
    positive('failures.absoluteRate', alerts.failures.absoluteRate);
    positive('failures.factor', alerts.failures.factor);
  }
  if (alerts.refunds) {
    positive('refunds.minRefunds', alerts.refunds.minRefunds, true);
    positive('refunds.factor', alerts.refunds.factor);
  }
  if (alerts.disputes) {
    positive('disputes.ratio', alerts.disputes.ratio);
    positive('disputes.minDisputes', alerts.disputes.minDisputes, true);
  }
  positive('everyMinutes', alerts.everyMinutes, true);
  if (alerts.route !== undefined && !routeIds.includes(alerts.route)) {
    problems.push(`alerts.route ${JSON.stringify(alerts.route)} is not a route of this notifier (routes: ${routeIds.join(', ') || 'none'})`);
  }
  if (routeIds.length === 0) problems.push('alerts need a route to post to');
  return problems;
}

export interface NotifierAlertsProps {
  readonly alerts: DodoSlackAlerts;
  /** The summaries' table: counters and open episodes. */
  readonly table: dynamodb.ITable;
  readonly queue: sqs.IQueue;
  readonly routeIds: readonly string[];
  readonly createFunction: (environment: Record<string, string>) => nodejs.NodejsFunction;
  readonly encryptionKey: kms.IKey;
  /** Accepted webhooks (the receiver's WebhookQueued), for the silence alarm. */
  readonly webhookQueued: cloudwatch.IMetric & cloudwatch.Metric;
}

export class NotifierAlerts extends Construct {
  public readonly alertFunction: nodejs.NodejsFunction;
  public readonly schedule: scheduler.Schedule;
  /** Fires when no webhook was queued for the silence threshold; undefined when silence is off. */
  public readonly silenceAlarm?: cloudwatch.Alarm;
  /** Fires when the alerts function fails. */
  public readonly errorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: NotifierAlertsProps) {
    super(scope, id);
    const { alerts } = props;
    const routeId = alerts.route ?? (props.routeIds.includes(DEFAULT_ROUTE_ID) ? DEFAULT_ROUTE_ID : props.routeIds[0]);
    const settings = alertSettingsOf(alerts);
    this.alertFunction = props.createFunction({
      [AlertsEnv.SummaryTableName]: props.table.tableName,
      [AlertsEnv.QueueUrl]: props.queue.queueUrl,
      [AlertsEnv.RouteId]: routeId,
      [AlertsEnv.Settings]: JSON.stringify(settings),
    });
    props.table.grant(this.alertFunction, 'dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem');
    grantTableKeyUse(props.encryptionKey, this.alertFunction);
    props.queue.grantSendMessages(this.alertFunction);

    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } } }),
      description: 'Lets EventBridge Scheduler invoke the Dodo Slack notifier alerts function',
    });
    const functionId = Stack.of(this).resolve(Stack.of(this).getLogicalId(this.alertFunction.node.defaultChild as CfnElement)) as string;
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason: 'lambda:InvokeFunction on the alerts function and its versions (what grantInvoke grants); the role can invoke nothing else.',
    });
    const every = alerts.everyMinutes ?? ALERTS_EVERY_MINUTES;
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Dodo Slack notifier: alert rules every ${every} minute(s)`,
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(every)),
      target: new schedulerTargets.LambdaInvoke(this.alertFunction, {
        role: schedulerRole,
        // The next run evaluates again: a missed run is not worth retrying for long.
        retryAttempts: 2,
        maxEventAge: Duration.minutes(Math.max(every, 1)),
      }),
    });

    if (settings.silence) {
      const seconds = settings.silence.afterSeconds ?? SILENCE_ALARM_DEFAULT_SECONDS;
      // Hourly periods past an hour (CloudWatch evaluates up to 7 days of them), 5-minute ones below.
      const periodSeconds = seconds >= 3600 ? 3600 : 300;
      const periods = Math.min(168, Math.max(1, Math.ceil(seconds / periodSeconds)));
      this.silenceAlarm = props.webhookQueued.with({ period: Duration.seconds(periodSeconds), statistic: cloudwatch.Stats.SUM }).createAlarm(this, 'SilenceAlarm', {
        alarmDescription: `No Dodo webhook was accepted for ${Math.round((periods * periodSeconds) / 60)} minutes: check the webhook endpoint in the Dodo dashboard and its delivery logs.`,
        threshold: 1,
        evaluationPeriods: periods,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        // No datapoint is what silence looks like.
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
    }

    this.errorsAlarm = this.alertFunction.metricErrors({ period: Duration.minutes(15), statistic: cloudwatch.Stats.SUM }).createAlarm(this, 'ErrorsAlarm', {
      alarmDescription: 'The alerts function failed: alerts may be missing (see its logs).',
      threshold: 2,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

/**
 * The app's context → the `alerts` prop: `alerts=on` (every rule) or the rules to turn on
 * (`failures,disputes`), `silenceAfter=SECONDS` for a fixed silence threshold (on its own it turns
 * the silence rule on). Undefined when neither is set.
 */
export function parseAlertsContext(rules: string | undefined, silenceAfter: string | undefined, thresholds?: string): DodoSlackAlerts | undefined {
  if (rules === undefined && silenceAfter === undefined) {
    if (thresholds !== undefined) throw new Error('context alertThresholds applies to alerts; add -c alerts=on');
    return undefined;
  }
  const seconds = silenceAfter === undefined ? undefined : Number(silenceAfter);
  if (seconds !== undefined && !(Number.isFinite(seconds) && seconds > 0)) throw new Error(`context silenceAfter must be a number of seconds, e.g. -c silenceAfter=21600; got ${JSON.stringify(silenceAfter)}`);
  const all = ['silence', 'failures', 'refunds', 'disputes'] as const;
  let on: readonly string[];
  if (rules === undefined) on = ['silence'];
  else if (rules === 'on') on = all;
  else {
    on = rules.split(',').map((rule) => rule.trim()).filter((rule) => rule !== '');
    const unknown = on.filter((rule) => !(all as readonly string[]).includes(rule));
    if (unknown.length > 0 || on.length === 0) throw new Error(`context alerts must be "on" or comma-separated rules of ${all.join(', ')}; got ${JSON.stringify(rules)}`);
  }
  const alerts: Record<string, unknown> = {};
  for (const rule of all) alerts[rule] = on.includes(rule) ? {} : false;
  if (seconds !== undefined) alerts.silence = { afterSeconds: seconds };
  if (thresholds === undefined) return alerts;
  const tuned = withAlertThresholds(alerts, thresholds);
  if (typeof tuned === 'string') throw new Error(`context alertThresholds: ${tuned}; e.g. -c alertThresholds=failures.minFailures=10,disputes.ratio=0.01`);
  return tuned;
}
