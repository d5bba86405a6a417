import { compileRouteSelection } from '../../lambda/shared/route-rules';
import { readFileSync } from 'node:fs';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { join } from 'node:path';
import type { CoreLogger, CoreMetrics } from '../../lambda/shared/ports';
import type { MetricName } from '../../lambda/shared/metrics';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import type { RouteConfig } from '../../lambda/shared/function-env';
import type { Transform } from '../../lambda/shared/transformation';
import { createIdempotentRunOnce } from '../../lambda/transformer/idempotency';
import { MemoryPersistenceLayer } from './memory-persistence';
import { createDeliveryProcessor, type DeliveryDeps, type DeliveryRoute } from '../../lambda/transformer/delivery';
import { createRateLimiter } from '../../lambda/transformer/rate-limiter';
import { CachedSecret } from '../../lambda/shared/secret-cache';
import { promiseOf } from '../../lambda/shared/promise';
import { createSlackClient } from '../../lambda/transformer/slack-client';
import { parseSlackWebhookUrl } from '../../lambda/transformer/slack-url';

export function fixtureBody(type: string): string {
  return readFileSync(join(__dirname, '..', 'fixtures', 'dodo', `${type}.json`), 'utf8');
}

let counter = 0;
export function webhook(type = 'payment.succeeded', webhookId = `msg_${++counter}_${Date.now()}`): QueuedWebhook {
  return { webhookId, webhookTimestamp: String(Math.floor(Date.now() / 1000) - 2), eventType: type, body: fixtureBody(type) };
}

/** A readable transform for tests: the event type and id as text. */
export const textTransform: Transform = (input) => Promise.resolve({ kind: 'message', message: { text: `${input.eventType} ${input.webhookId}` } });

/** Records every log line and metric, so tests can assert on them (and on what they never contain). */
export class Recorder implements CoreLogger, CoreMetrics {
  readonly lines: { level: string; message: string; extra?: Record<string, unknown> }[] = [];
  readonly counts = new Map<string, number>();
  readonly timings: { name: string; value: number }[] = [];
  debug = (message: string, extra?: Record<string, unknown>) => void this.lines.push({ level: 'debug', message, extra });
  info = (message: string, extra?: Record<string, unknown>) => void this.lines.push({ level: 'info', message, extra });
  warn = (message: string, extra?: Record<string, unknown>) => void this.lines.push({ level: 'warn', message, extra });
  error = (message: string, extra?: Record<string, unknown>) => void this.lines.push({ level: 'error', message, extra });
  count = (name: MetricName, value = 1) => void this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  milliseconds = (name: MetricName, value: number) => void this.timings.push({ name, value });
  metric(name: MetricName): number {
    return this.counts.get(name) ?? 0;
  }
  text(): string {
    return JSON.stringify(this.lines);
  }
}

export function route(
  id: string,
  secret: () => string,
  options: { events?: string[]; transform?: Transform; ttlMs?: number; minRefreshIntervalMs?: number } = {},
): Extract<DeliveryRoute, { readonly slackUrl: CachedSecret<string> }> {
  const config: RouteConfig = { id, events: options.events ?? ['*'], slackSecretId: `${id}-secret`, transformation: { kind: 'builtin', options: {} } };
  return {
    config,
    selection: compileRouteSelection(config),
    transform: options.transform ?? textTransform,
    slackUrl: new CachedSecret({
      load: () => promiseOf(secret),
      parse: (raw) => parseSlackWebhookUrl(raw, { allowInsecureLocalhost: true }),
      ttlMs: options.ttlMs ?? 60_000,
      minRefreshIntervalMs: options.minRefreshIntervalMs ?? 0,
    }),
  };
}

export function processorFor(routes: DeliveryRoute[], overrides: Partial<DeliveryDeps> = {}) {
  const recorder = new Recorder();
  const persistence = new MemoryPersistenceLayer();
  const dedup = createIdempotentRunOnce({ persistenceStore: persistence, expiresAfterSeconds: 3600, inProgressTimeoutMs: 10_000 });
  const processor = createDeliveryProcessor({
    routes,
    runOnce: dedup.runOnce,
    postToSlack: createSlackClient({ timeoutMs: 300 }),
    rateLimiter: createRateLimiter({ ratePerSecond: 1000, burst: 100 }),
    maxReceiveCount: 3,
    logger: recorder,
    metrics: recorder,
    ...overrides,
  });
  return { processor, recorder, persistence };
}

/** The Lambda SQS event for messages as SQS hands them out (what the event source would invoke with). */
export function toLambdaEvent(messages: Message[]): SQSEvent {
  return {
    Records: messages.map(
      (message): SQSRecord => ({
        messageId: message.MessageId!,
        receiptHandle: message.ReceiptHandle!,
        body: message.Body!,
        attributes: {
          ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
          SentTimestamp: message.Attributes?.SentTimestamp ?? '0',
          SenderId: message.Attributes?.SenderId ?? 'test',
          ApproximateFirstReceiveTimestamp: message.Attributes?.ApproximateFirstReceiveTimestamp ?? '0',
        },
        messageAttributes: Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            { dataType: value.DataType!, stringValue: value.StringValue, stringListValues: [], binaryListValues: [] },
          ]),
        ),
        md5OfBody: message.MD5OfBody!,
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:notifier',
        awsRegion: 'us-east-1',
      }),
    ),
  };
}
