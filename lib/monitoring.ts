/**
 * What an operator watches: which function emits which custom metric, the metrics the construct
 * reads, its alarms and its dashboard. The alarms and the dashboard are created in the notifier's
 * scope, with the ids they always had, so their logical IDs do not change.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, MetricName, ServiceName } from '../lambda/shared/metrics';
import type { DodoSlackNotifier } from './dodo-slack-notifier';

/** The alarms of the notifier, by stable name; all notify `alarmTopic`. */
export interface DodoSlackNotifierAlarms {
  /** Messages waiting in the dead-letter queue (≥ 1): events Slack has not received. */
  readonly deadLetterQueueNotEmpty: cloudwatch.Alarm;
  /** Oldest message in the queue older than 15 minutes: delivery is stuck or far behind. */
  readonly queueMessageAge: cloudwatch.Alarm;
  /** Receiver function errors (≥ 1 in 5 minutes). */
  readonly receiverErrors: cloudwatch.Alarm;
  /** Transformer function errors (≥ 1 in 5 minutes); failed records alone do not count. */
  readonly transformerErrors: cloudwatch.Alarm;
  /** API Gateway 5XX answers (≥ 1 in 5 minutes), e.g. signing secret not set yet. */
  readonly apiServerErrors: cloudwatch.Alarm;
  /** Webhooks rejected for a bad or missing signature (≥ 1 in 5 minutes). */
  readonly signatureFailures: cloudwatch.Alarm;
  /** Events a transformation could not turn into a Slack message (≥ 1 in 5 minutes). */
  readonly transformationErrors: cloudwatch.Alarm;
}

/**
 * Which function emits each custom metric. Powertools adds the function's service name to every
 * metric as the `service` dimension, and CloudWatch only finds a metric with all its dimensions.
 */
const METRIC_SERVICE: Readonly<Record<MetricName, ServiceName>> = {
  WebhookReceived: ServiceName.Receiver,
  WebhookQueued: ServiceName.Receiver,
  WebhookIgnored: ServiceName.Receiver,
  SignatureFailure: ServiceName.Receiver,
  InvalidPayload: ServiceName.Receiver,
  PayloadTooLarge: ServiceName.Receiver,
  ReceiverUnavailable: ServiceName.Receiver,
  MessageDelivered: ServiceName.Transformer,
  MessageSkipped: ServiceName.Transformer,
  DuplicateSuppressed: ServiceName.Transformer,
  DeliveryRetried: ServiceName.Transformer,
  SlackRateLimited: ServiceName.Transformer,
  MessageDeadLettered: ServiceName.Transformer,
  TransformationError: ServiceName.Transformer,
  RollupPosted: ServiceName.Transformer,
  EventsRolledUp: ServiceName.Transformer,
  DeliveryLatency: ServiceName.Transformer,
  // The summary function counts its own look-ups too, under its service; the transformer's are the many.
  NameLookupFailed: ServiceName.Transformer,
  NameLookupSkipped: ServiceName.Transformer,
};

function isMetricName(name: string): name is MetricName {
  return Object.prototype.hasOwnProperty.call(METRIC_SERVICE, name);
}

/**
 * A custom metric of the notifier, in its namespace and with the `service` dimension of the
 * function that emits it; sum over 5 minutes unless `props` says otherwise. An unknown name
 * throws: a metric nobody emits would give an alarm that never fires and a graph that stays empty.
 */
export function notifierMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  if (!isMetricName(metricName)) {
    throw new Error(
      `DodoSlackNotifier.metric: unknown metric name ${JSON.stringify(metricName)}; the notifier emits ${Object.keys(METRIC_SERVICE).join(', ')}`,
    );
  }
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service: METRIC_SERVICE[metricName] },
    statistic: cloudwatch.Stats.SUM,
    period: Duration.minutes(5),
    ...props,
  });
}

/** The alarms, created in the notifier's scope. Call once its queues, functions and API exist. */
export function createAlarms(notifier: DodoSlackNotifier): DodoSlackNotifierAlarms {
  const fiveMinutes = Duration.minutes(5);
  const atLeastOnce = (id: string, metric: cloudwatch.IMetric, description: string): cloudwatch.Alarm =>
    new cloudwatch.Alarm(notifier, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No data means no traffic, which is not a failure.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: description,
    });
  return {
    deadLetterQueueNotEmpty: atLeastOnce(
      'DeadLetterQueueNotEmptyAlarm',
      notifier.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      'Dodo events are in the dead-letter queue and have not reached Slack. Read the dead-letter-reason attribute, fix, then start a DLQ redrive.',
    ),
    queueMessageAge: new cloudwatch.Alarm(notifier, 'QueueMessageAgeAlarm', {
      metric: notifier.queue.metricApproximateAgeOfOldestMessage({
        period: fiveMinutes,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: Duration.minutes(15).toSeconds(),
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'A Dodo event has waited more than 15 minutes for delivery to Slack (Slack down, rate limited, or Slack secret not set).',
    }),
    receiverErrors: atLeastOnce(
      'ReceiverErrorsAlarm',
      notifier.receiverFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      'The webhook receiver function failed; Dodo will retry the affected webhooks.',
    ),
    transformerErrors: atLeastOnce(
      'TransformerErrorsAlarm',
      notifier.transformerFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      'The transformer function failed as a whole (not a single record); its batch will be retried.',
    ),
    apiServerErrors: atLeastOnce(
      'ApiServerErrorsAlarm',
      notifier.api.metricServerError({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      'The webhook endpoint answered 5XX (often: signing secret not set yet). Dodo retries these.',
    ),
    signatureFailures: atLeastOnce(
      'SignatureFailuresAlarm',
      notifier.metricSignatureFailure({ period: fiveMinutes }),
      'Webhooks were rejected for a bad signature or timestamp: check the signing secret matches Dodo, or someone is probing the endpoint.',
    ),
    transformationErrors: atLeastOnce(
      'TransformationErrorsAlarm',
      notifier.metricTransformationError({ period: fiveMinutes }),
      'A transformation failed for an event, which went to the dead-letter queue. Fix the transformation, then redrive.',
    ),
  };
}

/** The dashboard, in the notifier's scope, following the flow left to right. Call after the alarms exist. */
export function createDashboard(notifier: DodoSlackNotifier): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(notifier, 'Dashboard', {
    defaultInterval: Duration.hours(24),
  });
  const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
    new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
  const label = (metric: cloudwatch.Metric, text: string) => metric.with({ label: text });

  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown:
        '## Dodo Payments → Slack\nDodo → API Gateway → receiver → queue → transformer → Slack. ' +
        'Failed events wait in the dead-letter queue for a redrive.',
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    graph('Received', [
      label(notifier.metricWebhookReceived(), 'received'),
      label(notifier.metricWebhookQueued(), 'queued'),
      label(notifier.metricWebhookIgnored(), 'ignored (filtered)'),
    ]),
    graph('Rejected', [
      label(notifier.metricSignatureFailure(), 'signature failures (401)'),
      label(notifier.metricInvalidPayload(), 'invalid (400)'),
      label(notifier.metricPayloadTooLarge(), 'too large (413)'),
      label(notifier.metricReceiverUnavailable(), 'unavailable (503)'),
      notifier.api.metricServerError({ label: 'API 5XX', statistic: cloudwatch.Stats.SUM }),
    ]),
    graph('Delivered', [
      label(notifier.metricMessageDelivered(), 'delivered'),
      label(notifier.metricMessageSkipped(), 'skipped'),
      label(notifier.metricDuplicateSuppressed(), 'duplicates dropped'),
      label(notifier.metricRollupPosted(), 'roll-ups posted'),
      label(notifier.metricEventsRolledUp(), 'events in roll-ups'),
    ]),
  );
  dashboard.addWidgets(
    graph('Failed and retried', [
      label(notifier.metricDeliveryRetried(), 'retried'),
      label(notifier.metricSlackRateLimited(), 'rate limited (429)'),
      label(notifier.metricTransformationError(), 'transformation errors'),
      label(notifier.metricMessageDeadLettered(), 'dead-lettered by transformer'),
      label(notifier.metricNameLookupFailed(), 'name look-ups failed (IDs shown)'),
      label(notifier.metricNameLookupSkipped(), 'name look-ups skipped (API failing)'),
    ]),
    graph('Queues', [
      notifier.queue.metricApproximateNumberOfMessagesVisible({ label: 'queue depth', statistic: cloudwatch.Stats.MAXIMUM }),
      notifier.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        label: 'dead-lettered (DLQ depth)',
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
    ]),
    graph(
      'Latency',
      [
        label(notifier.metricDeliveryLatency({ statistic: cloudwatch.Stats.p(50) }), 'delivery p50 (ms)'),
        label(notifier.metricDeliveryLatency({ statistic: cloudwatch.Stats.p(99) }), 'delivery p99 (ms)'),
        notifier.receiverFunction.metricDuration({ label: 'receiver p99 (ms)', statistic: cloudwatch.Stats.p(99) }),
        notifier.transformerFunction.metricDuration({ label: 'transformer p99 (ms)', statistic: cloudwatch.Stats.p(99) }),
      ],
      [
        notifier.queue.metricApproximateAgeOfOldestMessage({
          label: 'oldest queued message (s)',
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
      ],
    ),
  );
  dashboard.addWidgets(
    new cloudwatch.AlarmStatusWidget({
      title: 'Alarms',
      alarms: Object.values(notifier.alarms) as cloudwatch.Alarm[],
      width: 24,
      height: 3,
    }),
  );
  return dashboard;
}
