import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { MessageAttribute } from '../queue-message';
import { type QueuedWebhook } from '../webhook';

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
    },
  };
}

/** Reads a queued webhook back from a Lambda SQS record. Throws when an attribute is missing. */
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
  };
}
