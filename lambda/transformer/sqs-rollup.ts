/**
 * Roll-ups on AWS: the SQS side. Lambda's event source hands the transformer a batch of
 * at most a few records, so a backlog is invisible to it; when the batch says the queue is behind
 * (its oldest record waited longer than rollupAfter, or the batch alone would), the transformer
 * drains more messages itself (ReceiveMessage, with a visibility timeout that covers the rest of the
 * invocation), folds the foldable ones per route (lambda/transformer/rollup.ts), and hands back:
 *   - the records a posted roll-up covered on every route that takes them: `done` (a drained one is
 *     deleted only now, after the post);
 *   - the records of a roll-up Slack refused for now (429, 5xx): `retry` as a whole, with backoff;
 *   - everything else (never-fold types, routes with user code, events in progress elsewhere, a
 *     roll-up that cannot succeed, the last receive): through the single-message path as usual. A
 *     route a roll-up already covered is then a duplicate in the deduplication store: one post per
 *     webhook and route, whatever happens.
 */
import { ReceiveMessageCommand, DeleteMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { CoreLogger } from '../shared/ports';
import { fromSqsRecord } from '../shared/aws/sqs-message';
import type { DeliveryRecord, RecordOutcome } from './delivery';
import { mayFold, planRollups, type RollupProcessor } from './rollup';

export interface SqsRollupsOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly processor: RollupProcessor;
  /** Messages per second this instance posts (the fold decision's rate). */
  readonly ratePerSecond: number;
  readonly maxReceiveCount: number;
  readonly logger: CoreLogger;
  /** Most messages drained per invocation. @default 2 × the policy's maxEvents */
  readonly maxDrain?: number;
  /** Draining stops when less than this remains of the invocation (time to post and settle). @default 15_000 */
  readonly drainReserveMs?: number;
  /** First retry delay of a roll-up Slack refused for now; doubles per receive. @default 30 */
  readonly baseBackoffSeconds?: number;
  readonly now?: () => number;
}

export interface FoldResult {
  /** Outcomes decided here (covered: done; refused for now: retry). */
  readonly settled: ReadonlyMap<string, RecordOutcome>;
  /** Records drained from the queue (not in the Lambda batch); the caller settles and deletes them. */
  readonly drained: readonly { readonly record: DeliveryRecord; readonly sqsRecord: SQSRecord }[];
}

export interface SqsRollups {
  fold(records: readonly DeliveryRecord[], batch: readonly SQSRecord[], remainingTimeMs: () => number): Promise<FoldResult>;
  /** Deletes a drained message once it is settled (the event source deletes only its own batch). */
  deleteDrained(record: SQSRecord): Promise<void>;
}

const MAX_VISIBILITY_SECONDS = 43_200;
/** Beyond the invocation's end: a drained message stays hidden while the settling calls run. */
const VISIBILITY_MARGIN_SECONDS = 30;

export function createSqsRollups(options: SqsRollupsOptions): SqsRollups {
  const { sqs, processor, logger } = options;
  const { policy } = processor;
  const now = options.now ?? Date.now;
  const maxDrain = options.maxDrain ?? policy.maxEvents * 2;
  const drainReserveMs = options.drainReserveMs ?? 15_000;
  const baseBackoff = options.baseBackoffSeconds ?? 30;

  /** The batch says the queue is behind: its oldest record waited longer than rollupAfter, or it alone would. */
  function behind(records: readonly DeliveryRecord[], batch: readonly SQSRecord[]): boolean {
    const sent = batch.map((record) => Number(record.attributes?.SentTimestamp)).filter((ms) => Number.isFinite(ms) && ms > 0);
    const oldestAgeSeconds = sent.length > 0 ? (now() - Math.min(...sent)) / 1000 : 0;
    if (oldestAgeSeconds > policy.rollupAfterSeconds) return true;
    const foldable = records.filter((record) => mayFold(record.webhook) && processor.foldingRoutes(record.webhook).length > 0).length;
    return policy.shouldFold(foldable, options.ratePerSecond);
  }

  async function drain(seen: Set<string>, remainingTimeMs: () => number): Promise<{ record: DeliveryRecord; sqsRecord: SQSRecord }[]> {
    const drained: { record: DeliveryRecord; sqsRecord: SQSRecord }[] = [];
    while (drained.length < maxDrain && remainingTimeMs() > drainReserveMs) {
      const visibility = Math.min(MAX_VISIBILITY_SECONDS, Math.ceil(remainingTimeMs() / 1000) + VISIBILITY_MARGIN_SECONDS);
      const received = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: Math.min(10, maxDrain - drained.length),
          VisibilityTimeout: visibility,
          WaitTimeSeconds: 0,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const messages = received.Messages ?? [];
      if (messages.length === 0) break;
      for (const message of messages) {
        const sqsRecord = toLambdaRecord(message);
        if (seen.has(sqsRecord.messageId)) continue;
        seen.add(sqsRecord.messageId);
        let webhook;
        try {
          webhook = fromSqsRecord(sqsRecord);
        } catch {
          // Not a message the receiver wrote: the normal path keeps it for an operator, with its reason, on its own receive.
          continue;
        }
        drained.push({ sqsRecord, record: { id: sqsRecord.messageId, webhook, receiveCount: Number(sqsRecord.attributes.ApproximateReceiveCount) || 1 } });
      }
    }
    return drained;
  }

  return {
    async fold(records, batch, remainingTimeMs) {
      const settled = new Map<string, RecordOutcome>();
      if (!policy.enabled || !behind(records, batch)) return { settled, drained: [] };
      let drained: { record: DeliveryRecord; sqsRecord: SQSRecord }[] = [];
      try {
        drained = await drain(new Set(batch.map((record) => record.messageId)), remainingTimeMs);
      } catch (error) {
        // Draining is an optimisation: without it the batch goes out as it is.
        logger.warn('Could not drain more messages for a roll-up', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      }
      const all = [...records, ...drained.map((entry) => entry.record)];
      const coveredRoutes = new Map<string, Set<string>>();
      const retry = new Map<string, RecordOutcome>();
      for (const { routeId, records: group } of planRollups(processor, all, options.ratePerSecond)) {
        const outcome = await processor.deliver(routeId, group, { remainingTimeMs });
        const byWebhook = new Map<string, DeliveryRecord[]>();
        for (const record of group) byWebhook.set(record.webhook.webhookId, [...(byWebhook.get(record.webhook.webhookId) ?? []), record]);
        const cover = (webhookIds: readonly string[]) => {
          for (const id of webhookIds) for (const record of byWebhook.get(id) ?? []) {
            let routes = coveredRoutes.get(record.id);
            if (!routes) coveredRoutes.set(record.id, (routes = new Set()));
            routes.add(routeId);
          }
        };
        cover(outcome.duplicates);
        if (outcome.kind === 'posted') {
          cover(outcome.covered);
          continue;
        }
        if (!outcome.retryable) continue; // the single-message path takes them
        for (const id of outcome.released) {
          for (const record of byWebhook.get(id) ?? []) {
            // The last receive goes out singly rather than risk the queue's own dead-lettering.
            if (record.receiveCount >= options.maxReceiveCount) continue;
            const delaySeconds = Math.min(900, Math.max(outcome.retryAfterSeconds ?? 0, baseBackoff * 2 ** Math.max(0, record.receiveCount - 1)));
            retry.set(record.id, { kind: 'retry', delaySeconds, reason: `roll-up not posted: ${outcome.reason}` });
          }
        }
      }
      for (const record of all) {
        const matching = processor.matchingRoutes(record.webhook);
        const covered = coveredRoutes.get(record.id);
        if (matching.length > 0 && covered && matching.every((route) => covered.has(route.id))) {
          settled.set(record.id, { kind: 'done', routes: matching.map((route) => ({ routeId: route.id, result: 'delivered' as const })) });
        } else if (retry.has(record.id) && !covered) {
          settled.set(record.id, retry.get(record.id)!);
        }
      }
      return { settled, drained };
    },
    async deleteDrained(record) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: record.receiptHandle }));
    },
  };
}

/** An SDK message in the shape of a Lambda SQS record (what fromSqsRecord and the settling calls read). */
function toLambdaRecord(message: Message): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? '0',
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? '0',
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue === undefined ? {} : { stringValue: value.StringValue }),
          ...(value.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }),
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: '',
    awsRegion: '',
  };
}
