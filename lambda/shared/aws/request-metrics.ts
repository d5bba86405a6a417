/**
 * Per-request metrics of a hot Lambda handler (the receiver) as one CloudWatch Embedded Metric
 * Format document, written by hand.
 *
 * Why not Powertools Metrics here (the transformer and the summaries use it): publishing the
 * receiver's two counts and its request fields through it cost 8.3 µs per request, about two of
 * the receiver's signature checks, because every addMetric/addMetadata call and the serialisation
 * read `process.env` again (Lambda Managed Instances detection); this document costs 2.6 µs
 * (`npm run bench`, receiverCpuInSignatureChecks, and a micro-benchmark, in docs/performance.md).
 * The document has Powertools' shape (same namespace, the `service` dimension, metadata at the
 * root; a count recorded twice is summed where Powertools lists both values, the same Sum, which is
 * the statistic the construct reads), so its metric() methods, alarms and dashboard read it unchanged; the
 * ColdStart metric still comes from Powertools (once per instance).
 * EMF specification: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */
import type { MetricName } from '../metrics';
import type { CoreMetrics } from '../ports';

type Unit = 'Count' | 'Milliseconds';

export class EmfRequestMetrics implements Required<CoreMetrics> {
  private readonly values = new Map<MetricName, { readonly unit: Unit; readonly values: number[] }>();
  /** Annotations in the order given; copied once, into the document, at flush. */
  private annotations: Readonly<Record<string, string | number | undefined>>[] = [];

  constructor(
    private readonly namespace: string,
    private readonly serviceName: string,
    private readonly write: (line: string) => void = (line) => void process.stdout.write(line),
  ) {}

  count(name: MetricName, value = 1): void {
    this.add(name, 'Count', value);
  }

  milliseconds(name: MetricName, value: number): void {
    this.add(name, 'Milliseconds', value);
  }

  /** Keeps `fields` by reference until the flush: the caller must not change it afterwards. */
  annotate(fields: Readonly<Record<string, string | number | undefined>>): void {
    this.annotations.push(fields);
  }

  /** Writes the document of what was recorded since the last flush (nothing when no metric was), then forgets it. */
  flush(now: number = Date.now()): void {
    if (this.values.size > 0) {
      const definitions: { Name: string; Unit: Unit }[] = [];
      // Fields first: a metric or the dimension of the same name wins, as in Powertools' documents.
      const document: Record<string, unknown> = {};
      for (const fields of this.annotations) {
        for (const key of Object.keys(fields)) if (fields[key] !== undefined) document[key] = fields[key];
      }
      for (const [name, metric] of this.values) {
        definitions.push({ Name: name, Unit: metric.unit });
        document[name] = metric.values.length === 1 ? metric.values[0] : metric.values;
      }
      document.service = this.serviceName;
      document._aws = { Timestamp: now, CloudWatchMetrics: [{ Namespace: this.namespace, Dimensions: [['service']], Metrics: definitions }] };
      this.write(`${JSON.stringify(document)}\n`);
    }
    this.values.clear();
    this.annotations = [];
  }

  private add(name: MetricName, unit: Unit, value: number): void {
    const metric = this.values.get(name);
    if (metric === undefined) this.values.set(name, { unit, values: [value] });
    else if (unit === 'Count' && metric.values.length === 1) metric.values[0] += value;
    else metric.values.push(value);
  }
}
