import { ChangeMessageVisibilityCommand, SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { MessageAttribute } from '../shared/queue-message';

/** Why a message went to the dead-letter queue; stored as `dead-letter-*` attributes. */
export interface DeadLetterDetails {
  readonly reason: string;
  readonly attempts: number;
  readonly lastSlackResponse?: string;
  readonly routeId?: string;
}

/** What the transformer does with a record besides acknowledging it. */
export interface SqsDelivery {
  /** The record comes back after `delaySeconds` (the caller then reports it as a batch item failure). */
  retryLater(record: SQSRecord, delaySeconds: number): Promise<void>;
  /** A fresh copy on the main queue (receive count starts again); the caller acknowledges the original. */
  requeue(record: SQSRecord, delaySeconds: number): Promise<void>;
  /** The original body and attributes plus the reason on the dead-letter queue; the caller acknowledges the original. */
  deadLetter(record: SQSRecord, details: DeadLetterDetails): Promise<void>;
}

/** SQS limits: visibility up to 12 h, DelaySeconds up to 15 min, attribute values well under 256 KiB. */
const MAX_VISIBILITY_SECONDS = 43_200;
const MAX_DELAY_SECONDS = 900;
const MAX_ATTRIBUTE_CHARS = 1000;

export function createSqsDelivery(options: { readonly sqs: SQSClient; readonly queueUrl: string; readonly deadLetterQueueUrl: string }): SqsDelivery {
  const { sqs } = options;
  return {
    async retryLater(record, delaySeconds) {
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: options.queueUrl,
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: clamp(delaySeconds, MAX_VISIBILITY_SECONDS),
        }),
      );
    },
    async requeue(record, delaySeconds) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: options.queueUrl,
          MessageBody: record.body,
          MessageAttributes: lambdaAttributesToSdk(record.messageAttributes),
          DelaySeconds: clamp(delaySeconds, MAX_DELAY_SECONDS),
        }),
      );
    },
    async deadLetter(record, details) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: options.deadLetterQueueUrl,
          MessageBody: record.body,
          // A redriven message still carries the details of its previous dead-lettering: drop them, or a
          // stale last Slack answer or route would survive next to the new reason.
          MessageAttributes: { ...withoutDeadLetterAttributes(lambdaAttributesToSdk(record.messageAttributes)), ...deadLetterAttributes(details) },
        }),
      );
    },
  };
}

export function deadLetterAttributes(details: DeadLetterDetails): Record<string, MessageAttributeValue> {
  const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value.slice(0, MAX_ATTRIBUTE_CHARS) || '-' });
  return {
    [MessageAttribute.DeadLetterReason]: text(details.reason),
    [MessageAttribute.DeadLetterAttempts]: { DataType: 'Number', StringValue: String(details.attempts) },
    ...(details.lastSlackResponse ? { [MessageAttribute.DeadLetterLastSlackResponse]: text(details.lastSlackResponse) } : {}),
    ...(details.routeId ? { [MessageAttribute.DeadLetterRoute]: text(details.routeId) } : {}),
  };
}

const DEAD_LETTER_ATTRIBUTES: ReadonlySet<string> = new Set([
  MessageAttribute.DeadLetterReason,
  MessageAttribute.DeadLetterAttempts,
  MessageAttribute.DeadLetterLastSlackResponse,
  MessageAttribute.DeadLetterRoute,
]);

function withoutDeadLetterAttributes(attributes: Record<string, MessageAttributeValue>): Record<string, MessageAttributeValue> {
  return Object.fromEntries(Object.entries(attributes).filter(([name]) => !DEAD_LETTER_ATTRIBUTES.has(name)));
}

/** Lambda's SQS record attributes (camelCase, base64 binaries) in the shape SendMessage takes. */
export function lambdaAttributesToSdk(attributes: SQSRecord['messageAttributes'] | undefined): Record<string, MessageAttributeValue> {
  const result: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value.stringValue !== undefined) {
      result[name] = { DataType: value.dataType, StringValue: value.stringValue };
    } else if (value.binaryValue !== undefined) {
      result[name] = { DataType: value.dataType, BinaryValue: Buffer.from(value.binaryValue, 'base64') };
    }
  }
  return result;
}

function clamp(seconds: number, max: number): number {
  return Math.min(max, Math.max(0, Math.ceil(seconds)));
}
