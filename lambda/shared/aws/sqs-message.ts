import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { MessageAttribute } from '../queue-message';
import { type QueuedWebhook, type WebhookMode } from '../webhook';

/** The SQS body and attributes that carry one verified webhook (attribute names in ../queue-message.ts). */
export function toSqsMessage(webhook: QueuedWebhook): {
  MessageBody: string;
  MessageAttributes: Record<string, MessageAttributeValue>;
} {
  return {
    MessageBody: webhook.body,
    MessageAttributes: {
      [MessageAttribute.WebhookId]: { DataType: 'String', StringValue: webhook.webhookId },
      [MessageAttribute.WebhookTimestamp]: { DataType: 'String', StringValue: webhook.webhookTimestamp },
      [MessageAttribute.EventType]: { DataType: 'String', StringValue: webhook.eventType },
      ...(webhook.precomposed ? { [MessageAttribute.Precomposed]: { DataType: 'String', StringValue: 'true' } } : {}),
      // Only test mode is marked: a message without the attribute is live, as every message queued before modes existed.
      ...(webhook.mode === 'test' ? { [MessageAttribute.WebhookMode]: { DataType: 'String', StringValue: 'test' } } : {}),
    },
  };
}

/**
 * Reads a queued webhook back from a Lambda SQS record. Throws when an attribute is missing, or when
 * `webhook-mode` says neither `test` nor `live` (absent is live).
 */
export function fromSqsRecord(record: SQSRecord): QueuedWebhook {
  const attribute = (name: string): string => {
    const value = record.messageAttributes?.[name]?.stringValue;
    if (value === undefined) throw new Error(`SQS message ${record.messageId} has no "${name}" attribute`);
    return value;
  };
  return {
    webhookId: attribute(MessageAttribute.WebhookId),
    webhookTimestamp: attribute(MessageAttribute.WebhookTimestamp),
    eventType: attribute(MessageAttribute.EventType),
    body: record.body,
    ...(record.messageAttributes?.[MessageAttribute.Precomposed]?.stringValue === 'true' ? { precomposed: true as const } : {}),
    ...(modeOf(record) === 'test' ? { mode: 'test' as const } : {}),
  };
}

function modeOf(record: SQSRecord): WebhookMode {
  const value = record.messageAttributes?.[MessageAttribute.WebhookMode]?.stringValue;
  if (value === undefined || value === 'live') return 'live';
  if (value === 'test') return 'test';
  // Read as neither: a test event taken for live would be posted and counted as a real one.
  throw new Error(`SQS message ${record.messageId} has "${MessageAttribute.WebhookMode}" ${JSON.stringify(value.slice(0, 20))}, which is neither "test" nor "live"`);
}
