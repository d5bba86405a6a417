import { EmfRequestMetrics } from '../../lambda/shared/aws/request-metrics';
import { MetricName } from '../../lambda/shared/metrics';

function recorder() {
  const lines: string[] = [];
  const metrics = new EmfRequestMetrics('DodoSlackNotifier', 'dodo-slack-receiver', (line) => void lines.push(line));
  return { lines, metrics, documents: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

test('one EMF document per flush: the service dimension, every metric defined once, fields at the root', () => {
  const { lines, metrics, documents } = recorder();
  metrics.count(MetricName.WebhookReceived);
  metrics.count(MetricName.WebhookQueued);
  metrics.count(MetricName.WebhookQueued, 2);
  metrics.milliseconds(MetricName.DeliveryLatency, 12);
  metrics.milliseconds(MetricName.DeliveryLatency, 30);
  metrics.annotate({ webhookId: 'msg_1', outcome: 'queued', reason: undefined });
  metrics.annotate({ outcome: 'ignored', statusCode: 200 });
  metrics.flush(1_700_000_000_000);

  expect(lines).toHaveLength(1);
  expect(lines[0].endsWith('}\n')).toBe(true);
  expect(documents()[0]).toEqual({
    _aws: {
      Timestamp: 1_700_000_000_000,
      CloudWatchMetrics: [
        {
          Namespace: 'DodoSlackNotifier',
          Dimensions: [['service']],
          Metrics: [
            { Name: MetricName.WebhookReceived, Unit: 'Count' },
            { Name: MetricName.WebhookQueued, Unit: 'Count' },
            { Name: MetricName.DeliveryLatency, Unit: 'Milliseconds' },
          ],
        },
      ],
    },
    service: 'dodo-slack-receiver',
    [MetricName.WebhookReceived]: 1,
    [MetricName.WebhookQueued]: 3,
    [MetricName.DeliveryLatency]: [12, 30],
    webhookId: 'msg_1',
    outcome: 'ignored',
    statusCode: 200,
  });
});

test('a flush forgets what it wrote; with no metric recorded it writes nothing, and a field cannot replace a metric or the dimension', () => {
  const { lines, metrics, documents } = recorder();
  metrics.annotate({ webhookId: 'msg_alone' });
  metrics.flush();
  expect(lines).toEqual([]);

  metrics.count(MetricName.SignatureFailure);
  metrics.annotate({ [MetricName.SignatureFailure]: 'x', service: 'forged', webhookId: 'msg_2' });
  metrics.flush();
  metrics.flush();
  expect(documents()).toEqual([expect.objectContaining({ [MetricName.SignatureFailure]: 1, service: 'dodo-slack-receiver', webhookId: 'msg_2' })]);
});
