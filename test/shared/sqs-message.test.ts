/**
 * A queued webhook as an SQS message and back: its mode travels as the `webhook-mode` attribute,
 * set only for test mode, so a message without it (a live one, or one queued before modes
 * existed) is live; requeues and dead letters carry it unchanged, so a redrive stays test mode.
 */
import { SendMessageCommand, SQSClient, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { fromSqsRecord, toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import { createSqsDelivery } from '../../lambda/transformer/sqs-delivery';

/** What Lambda hands the transformer for a message sent with these attributes. */
function lambdaRecord(attributes: Record<string, MessageAttributeValue>, body = '{}'): SQSRecord {
  return {
    messageId: 'm-1',
    receiptHandle: 'r-1',
    body,
    attributes: { ApproximateReceiveCount: '1' } as SQSRecord['attributes'],
    messageAttributes: Object.fromEntries(
      Object.entries(attributes).map(([name, value]) => [name, { dataType: value.DataType!, stringValue: value.StringValue, stringListValues: [], binaryListValues: [] }]),
    ),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:q',
    awsRegion: 'eu-west-1',
  };
}

const webhook: QueuedWebhook = { webhookId: 'msg_1', webhookTimestamp: '1700000000', eventType: 'payment.succeeded', body: '{"type":"payment.succeeded"}' };

test('a test-mode webhook carries webhook-mode "test" and reads back as test', () => {
  const message = toSqsMessage({ ...webhook, mode: 'test' });
  expect(message.MessageAttributes[MessageAttribute.WebhookMode]).toEqual({ DataType: 'String', StringValue: 'test' });
  expect(fromSqsRecord(lambdaRecord(message.MessageAttributes, message.MessageBody))).toEqual({ ...webhook, mode: 'test' });
});

test('a live webhook has no mode attribute (the message is what it was before modes) and reads back without a mode', () => {
  for (const live of [webhook, { ...webhook, mode: 'live' as const }]) {
    const message = toSqsMessage(live);
    expect(Object.keys(message.MessageAttributes)).not.toContain(MessageAttribute.WebhookMode);
    expect(fromSqsRecord(lambdaRecord(message.MessageAttributes, message.MessageBody))).toEqual(webhook);
  }
  const explicit = { ...toSqsMessage(webhook).MessageAttributes, [MessageAttribute.WebhookMode]: { DataType: 'String', StringValue: 'live' } };
  expect(fromSqsRecord(lambdaRecord(explicit, webhook.body)).mode).toBeUndefined();
});

test('a mode that is neither test nor live is refused (the handler dead-letters the message with this reason)', () => {
  const attributes = { ...toSqsMessage(webhook).MessageAttributes, [MessageAttribute.WebhookMode]: { DataType: 'String', StringValue: 'TEST ' } };
  expect(() => fromSqsRecord(lambdaRecord(attributes))).toThrow(/webhook-mode.*neither "test" nor "live"/);
});

test('a requeued and a dead-lettered test-mode message keep webhook-mode, so a redrive is still test mode', async () => {
  const sqs = mockClient(SQSClient);
  sqs.on(SendMessageCommand).resolves({ MessageId: 'x' });
  const delivery = createSqsDelivery({ sqs: new SQSClient({ region: 'eu-west-1' }), queueUrl: 'https://q', deadLetterQueueUrl: 'https://dlq' });
  const message = toSqsMessage({ ...webhook, mode: 'test' });
  const record = lambdaRecord(message.MessageAttributes, message.MessageBody);
  await delivery.requeue(record, 5);
  await delivery.deadLetter(record, { reason: 'Slack answered 404 channel_not_found', attempts: 3, routeId: 'default' });
  const [requeued, deadLettered] = sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);
  for (const sent of [requeued, deadLettered]) {
    expect(sent.MessageAttributes?.[MessageAttribute.WebhookMode]).toEqual({ DataType: 'String', StringValue: 'test' });
    // What a redrive hands the transformer reads back as the same test-mode webhook.
    expect(fromSqsRecord(lambdaRecord(sent.MessageAttributes!, sent.MessageBody))).toEqual({ ...webhook, mode: 'test' });
  }
  expect(deadLettered.QueueUrl).toBe('https://dlq');
  sqs.restore();
});
