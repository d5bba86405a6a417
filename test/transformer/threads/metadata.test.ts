import { isOurMessage, messageMetadata, METADATA_EVENT_TYPE } from '../../../lambda/transformer/threads/metadata';

test('metadata carries the webhook-id, route and role, and finds its message again', () => {
  const metadata = messageMetadata({ webhookId: 'msg_1', route: 'default', role: 'reply', eventType: 'refund.succeeded', threadKey: 'payment:pay_1' });
  expect(metadata).toEqual({
    event_type: METADATA_EVENT_TYPE,
    event_payload: { webhook_id: 'msg_1', route: 'default', role: 'reply', dodo_event_type: 'refund.succeeded', thread_key: 'payment:pay_1' },
  });
  expect(isOurMessage({ ts: '1.1', metadata }, 'msg_1', 'default', 'reply')).toBe(true);
  expect(isOurMessage({ ts: '1.1', metadata }, 'msg_1', 'default', 'parent')).toBe(false);
  expect(isOurMessage({ ts: '1.1', metadata }, 'msg_1', 'Risk', 'reply')).toBe(false);
  expect(isOurMessage({ ts: '1.1', metadata }, 'msg_2', 'default', 'reply')).toBe(false);
  expect(isOurMessage({ ts: '1.1', metadata: { ...metadata, event_type: 'other' } }, 'msg_1', 'default', 'reply')).toBe(false);
  expect(isOurMessage({ ts: '1.1' }, 'msg_1', 'default', 'reply')).toBe(false);
  expect(isOurMessage(null, 'msg_1', 'default', 'reply')).toBe(false);
  expect(messageMetadata({ webhookId: 'msg_1', route: 'default', role: 'message', eventType: 'credit.deducted', threadKey: undefined }).event_payload.thread_key).toBe('');
});
