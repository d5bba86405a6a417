import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueuedWebhook } from '../shared/webhook';
import { toSqsMessage } from '../shared/aws/sqs-message';

/**
 * The receiver's enqueue port on SQS: one SendMessage per verified webhook, raw body as the
 * message body, webhook-id / webhook-timestamp / event-type as attributes. Rejects when SQS does.
 */
export function sqsWebhookQueue(sqs: SQSClient, queueUrl: string): (webhook: QueuedWebhook) => Promise<void> {
  return async (webhook) => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSqsMessage(webhook) }));
  };
}
