/**
 * Counts × list prices. The counts per webhook come from the harness (pipeline.ts): requests seen
 * on the wire, log bytes written, invocations and their measured time. What depends on the month
 * rather than on each webhook (secret refreshes, KMS data keys, metric-hours, cold starts, pacing
 * waits of webhooks that arrive close together) is priced from the configuration the template
 * holds and the arrival rate of the volume, with the assumptions below, each named.
 */
import { Prices } from './prices';
import type { PipelineRun } from './pipeline';
import type { SynthesizedNotifier, FunctionSpec } from './template';

export const MONTH_SECONDS = (365.25 / 12) * 86_400;
const MONTH_HOURS = MONTH_SECONDS / 3600;

/** Assumptions the harness cannot observe, each stated where the method is (docs/performance.md). */
export const Assumptions = {
  /** Round trip of one Slack request from Lambda (Slack answers incoming webhooks in roughly 100–300 ms). */
  slackRoundTripMs: 150,
  /** Round trip of one AWS request inside the region (SQS, DynamoDB, Secrets Manager), beyond the loopback time measured. */
  awsRoundTripMs: 8,
  /** Lambda's own lines per invocation (START, END, REPORT with its XRAY line), bytes. */
  platformLogBytesPerInvocation: 420,
  /** One API Gateway access log line in the construct's format (jsonWithStandardFields), bytes. */
  accessLogBytesPerRequest: 330,
  /** CloudWatch Logs stores logs compressed; the share of the ingested bytes kept. */
  logCompression: 0.15,
  /** Init time per cold start (the bench's init figures of 2026-12-07: receiver 65.6 ms, transformer 89.8 ms); billed since August 2025. */
  initMs: { receiver: 66, transformer: 90 } as Record<string, number>,
  /** An instance idle longer than this is taken as recycled (Lambda does not document it). */
  idleRecycleSeconds: 600,
  /** X-Ray's default sampling rule: the first request each second, then 5 %. */
  xrayReservoirPerSecond: 1,
  xrayFixedRate: 0.05,
  /** Traces per sampled webhook: the API Gateway → receiver trace, which the transformer's segment joins through the message's trace header. */
  tracesPerSampledWebhook: 1,
  /** DynamoDB keeps a table key for 5 minutes: about one KMS request per table per 5 active minutes. */
  kmsTableKeySeconds: 300,
  /** An idle SQS event source: about 5 pollers long-polling 20 s each, 15 ReceiveMessage requests a minute (commonly measured, not documented). */
  idleEventSourceReceivesPerMinute: 15,
  /** How fast the webhooks of a burst arrive (Dodo's sending pace is not documented). */
  burstArrivalsPerSecond: 100,
  /** A summary run's billed time (its DynamoDB query and one SQS send). */
  summaryRunMs: 1000,
} as const;

export interface CostLine {
  readonly service: string;
  readonly item: string;
  /** Quantity in the month (or burst) for the volume priced. */
  readonly quantity: number;
  readonly usd: number;
}

export interface Bill {
  readonly webhooks: number;
  readonly lines: readonly CostLine[];
  readonly usd: number;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const median = (values: readonly number[]) => {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const gbSeconds = (fn: FunctionSpec, ms: number) => (Math.ceil(ms) / 1000) * (fn.memoryMb / 1024);
const lambdaUsd = (fn: FunctionSpec, billedMs: number) => gbSeconds(fn, billedMs) * Prices.lambdaPerGbSecond[fn.architecture];

/** Share of webhooks X-Ray's default rule samples when they arrive at `perSecond` (Poisson). */
export function sampledShare(perSecond: number): number {
  if (perSecond <= 0) return 1;
  const firstInItsSecond = Math.min(1, (Assumptions.xrayReservoirPerSecond * (1 - Math.exp(-perSecond))) / perSecond);
  return firstInItsSecond + Assumptions.xrayFixedRate * (1 - firstInItsSecond);
}

interface PerWebhook {
  readonly calls: Record<string, number>;
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly sqsRequests: number;
  readonly logBytes: number;
  readonly transformerInvocations: number;
  readonly slackRequests: number;
}

function perWebhook(run: PipelineRun): PerWebhook {
  const calls: Record<string, number> = {};
  for (const call of run.calls) calls[`${call.service}.${call.operation}`] = (calls[`${call.service}.${call.operation}`] ?? 0) + 1 / run.webhooks;
  const invocations = run.durationsMs.receiver.length + run.durationsMs.transformer.length;
  return {
    calls,
    writeUnits: sum(run.calls.map((call) => call.writeUnits)) / run.webhooks,
    readUnits: sum(run.calls.map((call) => call.readUnits)) / run.webhooks,
    sqsRequests: sum(run.calls.filter((call) => call.service === 'sqs').map((call) => call.chunks)) / run.webhooks,
    logBytes: (sum(Object.values(run.logBytes)) + invocations * Assumptions.platformLogBytesPerInvocation) / run.webhooks,
    transformerInvocations: run.durationsMs.transformer.length / run.webhooks,
    slackRequests: run.slackRequests / run.webhooks,
  };
}

const awsCallsBy = (run: PipelineRun, actor: string) => run.calls.filter((call) => call.actor === actor).length / Math.max(1, run.webhooks);

/** Billed ms per invocation of a function in a run: measured wall time plus the in-region and Slack round trips the loopback did not have. */
function billedMsPerInvocation(run: PipelineRun, fn: 'receiver' | 'transformer', useMedian: boolean): number {
  const durations = run.durationsMs[fn];
  if (durations.length === 0) return 0;
  const measured = useMedian ? median(durations) : sum(durations) / durations.length;
  const perInvocation = run.webhooks / durations.length;
  const network = awsCallsBy(run, fn) * perInvocation * Assumptions.awsRoundTripMs + (fn === 'transformer' ? (run.slackRequests / durations.length) * Assumptions.slackRoundTripMs : 0);
  return measured + network;
}

export interface TrickleInputs {
  readonly notifier: SynthesizedNotifier;
  readonly cold: PipelineRun;
  readonly warm: PipelineRun;
  /** The distinct custom metrics the handlers emit (from the trickle run's EMF documents). */
  readonly customMetrics: number;
}

/** The per-webhook part of a month of `webhooks` arriving one at a time, spread evenly (Poisson) over the month. */
export function trickleBill(inputs: TrickleInputs, webhooks: number): Bill {
  const { notifier, cold, warm } = inputs;
  const per = perWebhook(warm);
  const perSecond = webhooks / MONTH_SECONDS;
  const lines: CostLine[] = [];
  const add = (service: string, item: string, quantity: number, usd: number) => lines.push({ service, item, quantity, usd });

  add('API Gateway', 'REST requests', webhooks, (webhooks / 1e6) * Prices.apiGatewayRestPerMillionRequests);

  const receiverMs = billedMsPerInvocation(warm, 'receiver', true);
  const transformerMs = billedMsPerInvocation(warm, 'transformer', true);
  // Pacing: the event source's instances share DELIVERY_RATE_PER_SECOND × instances; a webhook that
  // arrives while the bucket is empty waits inside the invocation (M/D/1 mean wait).
  const ratePerInstance = Number(notifier.transformer.env.DELIVERY_RATE_PER_SECOND ?? 1);
  const service = 1 / (ratePerInstance * notifier.maxConcurrency);
  const load = perSecond * service;
  const pacingWaitMs = load < 1 ? ((perSecond * service * service) / (2 * (1 - load))) * 1000 : Number.POSITIVE_INFINITY;
  const coldStarts = Math.min(webhooks, webhooks * Math.exp(-perSecond * Assumptions.idleRecycleSeconds));
  const invocations = webhooks * (1 + per.transformerInvocations);
  add('Lambda', 'requests', invocations, (invocations / 1e6) * Prices.lambdaPerMillionRequests);
  add('Lambda', `receiver ms (${notifier.receiver.memoryMb} MB ${notifier.receiver.architecture}, ${receiverMs.toFixed(1)} ms each)`, webhooks * Math.ceil(receiverMs), webhooks * lambdaUsd(notifier.receiver, receiverMs));
  add('Lambda', `transformer ms (${notifier.transformer.memoryMb} MB ${notifier.transformer.architecture}, ${transformerMs.toFixed(1)} ms each)`, webhooks * per.transformerInvocations * Math.ceil(transformerMs), webhooks * per.transformerInvocations * lambdaUsd(notifier.transformer, transformerMs));
  add('Lambda', `transformer waiting on pacing (${pacingWaitMs.toFixed(0)} ms per webhook)`, webhooks * pacingWaitMs, webhooks * lambdaUsd(notifier.transformer, pacingWaitMs));
  const coldExtra = (fn: 'receiver' | 'transformer', spec: FunctionSpec) =>
    coldStarts * lambdaUsd(spec, Assumptions.initMs[fn] + Math.max(0, median(cold.durationsMs[fn]) - median(warm.durationsMs[fn])));
  add('Lambda', 'cold starts (init and first invocation)', coldStarts * 2, coldExtra('receiver', notifier.receiver) + coldExtra('transformer', notifier.transformer));

  add('SQS', 'requests', webhooks * per.sqsRequests, ((webhooks * per.sqsRequests) / 1e6) * Prices.sqsPerMillionRequests);
  add('DynamoDB', 'write request units', webhooks * per.writeUnits, ((webhooks * per.writeUnits) / 1e6) * Prices.dynamodbPerMillionWriteRequestUnits);
  add('DynamoDB', 'read request units', webhooks * per.readUnits, ((webhooks * per.readUnits) / 1e6) * Prices.dynamodbPerMillionReadRequestUnits);

  // Secrets: each function reads its secrets when its cache is empty (observed on the first webhook), then once per TTL while webhooks come.
  const ttl = Number(notifier.transformer.env.SECRET_CACHE_TTL_SECONDS ?? 300);
  const refreshes = Math.min(webhooks, (MONTH_SECONDS / ttl) * (1 - Math.exp(-perSecond * ttl)));
  const secretReadsPerRefresh = cold.calls.filter((call) => call.service === 'secretsmanager').length;
  const secretReads = refreshes * secretReadsPerRefresh + webhooks * (per.calls['secretsmanager.GetSecretValue'] ?? 0);
  add('Secrets Manager', 'GetSecretValue', secretReads, (secretReads / 1e4) * Prices.secretsManagerPer10kCalls);
  const tablesUsed = new Set(warm.calls.filter((call) => call.service === 'dynamodb').map((call) => call.operation)).size > 0 ? notifier.tables : 0;
  const kmsRequests = secretReads + tablesUsed * Math.min(webhooks, (MONTH_SECONDS / Assumptions.kmsTableKeySeconds) * (1 - Math.exp(-perSecond * Assumptions.kmsTableKeySeconds)));
  add('KMS', 'requests (secret decrypts, table keys)', kmsRequests, (kmsRequests / 1e4) * Prices.kmsPer10kRequests);

  const logBytes = webhooks * (per.logBytes + Assumptions.accessLogBytesPerRequest);
  add('CloudWatch Logs', `ingested (${(logBytes / webhooks).toFixed(0)} bytes per webhook)`, logBytes, (logBytes / 2 ** 30) * Prices.logsIngestedPerGb);
  add('CloudWatch Logs', 'stored a year (the default retention), compressed', logBytes, ((logBytes * Assumptions.logCompression) / 2 ** 30) * Prices.logsStoredPerGbMonth * 12);
  const activeHours = MONTH_HOURS * (1 - Math.exp(-webhooks / MONTH_HOURS));
  add('CloudWatch', `custom metrics (${inputs.customMetrics}, in ${activeHours.toFixed(0)} active hours)`, inputs.customMetrics, (inputs.customMetrics * Prices.customMetricPerMonth * activeHours) / MONTH_HOURS);

  const traces = notifier.receiver.tracing ? webhooks * sampledShare(perSecond) * Assumptions.tracesPerSampledWebhook : 0;
  add('X-Ray', `traces (${((100 * traces) / webhooks).toFixed(0)} % sampled)`, traces, (traces / 1e6) * Prices.xrayPerMillionTraces);
  return { webhooks, lines, usd: sum(lines.map((line) => line.usd)) };
}

/** A burst of `burst.webhooks` drained by the transformer (measured), the receiver's part per webhook from the trickle run. */
export function burstBill(inputs: TrickleInputs, burst: PipelineRun): Bill {
  const { notifier, warm } = inputs;
  const webhooks = burst.webhooks;
  const receiverPer = perWebhook({ ...warm, calls: warm.calls.filter((call) => call.actor === 'receiver'), logBytes: { receiver: warm.logBytes.receiver ?? 0 }, durationsMs: { receiver: warm.durationsMs.receiver, transformer: [] }, slackRequests: 0 });
  const drain = perWebhook(burst);
  const lines: CostLine[] = [];
  const add = (service: string, item: string, quantity: number, usd: number) => lines.push({ service, item, quantity, usd });
  add('API Gateway', 'REST requests', webhooks, (webhooks / 1e6) * Prices.apiGatewayRestPerMillionRequests);
  const receiverMs = billedMsPerInvocation(warm, 'receiver', true);
  const transformerTotalMs = sum(burst.durationsMs.transformer.map((ms) => Math.ceil(ms))) + burst.slackRequests * Assumptions.slackRoundTripMs + burst.calls.filter((call) => call.actor === 'transformer').length * Assumptions.awsRoundTripMs;
  const invocations = webhooks + burst.durationsMs.transformer.length;
  add('Lambda', 'requests', invocations, (invocations / 1e6) * Prices.lambdaPerMillionRequests);
  add('Lambda', `receiver ms (${receiverMs.toFixed(1)} ms each)`, webhooks * Math.ceil(receiverMs), webhooks * lambdaUsd(notifier.receiver, receiverMs));
  add('Lambda', `transformer ms, pacing waits included (${burst.durationsMs.transformer.length} invocations, ${burst.slackRequests} Slack requests)`, transformerTotalMs, lambdaUsd(notifier.transformer, transformerTotalMs));
  const sqs = webhooks * (receiverPer.sqsRequests + drain.sqsRequests);
  add('SQS', 'requests', sqs, (sqs / 1e6) * Prices.sqsPerMillionRequests);
  add('DynamoDB', 'write request units', webhooks * drain.writeUnits, ((webhooks * drain.writeUnits) / 1e6) * Prices.dynamodbPerMillionWriteRequestUnits);
  add('DynamoDB', 'read request units', webhooks * drain.readUnits, ((webhooks * drain.readUnits) / 1e6) * Prices.dynamodbPerMillionReadRequestUnits);
  const secretReads = burst.calls.filter((call) => call.service === 'secretsmanager').length + 1;
  add('Secrets Manager', 'GetSecretValue', secretReads, (secretReads / 1e4) * Prices.secretsManagerPer10kCalls);
  const logBytes = webhooks * (receiverPer.logBytes + drain.logBytes + Assumptions.accessLogBytesPerRequest);
  add('CloudWatch Logs', `ingested (${(logBytes / webhooks).toFixed(0)} bytes per webhook)`, logBytes, (logBytes / 2 ** 30) * (Prices.logsIngestedPerGb + Assumptions.logCompression * Prices.logsStoredPerGbMonth * 12));
  const traces = notifier.receiver.tracing ? webhooks * sampledShare(Assumptions.burstArrivalsPerSecond) * Assumptions.tracesPerSampledWebhook : 0;
  add('X-Ray', `traces (${((100 * traces) / webhooks).toFixed(1)} % sampled at ${Assumptions.burstArrivalsPerSecond}/s)`, traces, (traces / 1e6) * Prices.xrayPerMillionTraces);
  add('CloudWatch', 'custom metrics (one hour)', inputs.customMetrics, (inputs.customMetrics * Prices.customMetricPerMonth) / MONTH_HOURS);
  return { webhooks, lines, usd: sum(lines.map((line) => line.usd)) };
}

/** What the stack costs a month standing, with no webhook at all. */
export function fixedBill(notifier: SynthesizedNotifier): Bill {
  const lines: CostLine[] = [];
  const add = (service: string, item: string, quantity: number, usd: number) => lines.push({ service, item, quantity, usd });
  add('CloudWatch', `alarms (${notifier.alarms}, standard resolution, per metric)`, notifier.alarmMetrics, notifier.alarmMetrics * Prices.alarmMetricPerMonth);
  add('CloudWatch', 'dashboards', notifier.dashboards, notifier.dashboards * Prices.dashboardPerMonth);
  add('Secrets Manager', `secrets the functions read (${notifier.createdSecrets} created by the stack)`, notifier.secrets, notifier.secrets * Prices.secretPerMonth);
  add('KMS', 'customer managed keys', notifier.kmsKeys, notifier.kmsKeys * Prices.kmsKeyPerMonth);
  const idlePolls = notifier.eventSourceMappings * Assumptions.idleEventSourceReceivesPerMinute * (MONTH_SECONDS / 60);
  add('SQS', 'event source polling an empty queue', idlePolls, (idlePolls / 1e6) * Prices.sqsPerMillionRequests);
  const runs = sum(notifier.schedules.map((schedule) => schedule.invocationsPerMonth));
  add('EventBridge Scheduler', `invocations (${notifier.schedules.length} schedules)`, runs, (runs / 1e6) * Prices.schedulerPerMillionInvocations);
  if (notifier.summary) add('Lambda', 'summary runs', runs, runs * (Prices.lambdaPerMillionRequests / 1e6 + lambdaUsd(notifier.summary, Assumptions.summaryRunMs)));
  return { webhooks: 0, lines, usd: sum(lines.map((line) => line.usd)) };
}

/** Adds up the lines of several bills by service. */
export function byService(bill: Bill): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of bill.lines) out[line.service] = (out[line.service] ?? 0) + line.usd;
  return out;
}
