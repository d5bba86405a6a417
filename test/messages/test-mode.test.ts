/**
 * The TEST marker (lambda/messages/test-mode.ts): a pure function over any Slack message, so the
 * same marking applies to built-in templates, roll-ups, cards and user code.
 */
import type { KnownBlock } from '@slack/types';
import { markTestMode, TEST_MODE_BLOCK, TEST_MODE_BLOCK_ID, TEST_MODE_PREFIX } from '../../lambda/messages/test-mode';
import { SlackLimits, validateSlackMessage } from '../../lambda/messages/slack-limits';
import { renderBuiltinMessage } from '../../lambda/messages/templates';
import type { SlackMessage } from '../../lambda/shared/transformation';
import type { DodoWebhookEnvelope } from '../../lambda/shared/webhook';
import { ALL_EVENT_TYPES, fixtureBody } from '../support/transformation';

const section = (text: string): KnownBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });

test('text starts with [TEST]; top-level blocks start with the marker block; the rest is kept', () => {
  const message: SlackMessage & { thread_key?: string | null } = { text: 'Payment succeeded: $29.99', blocks: [section('a'), section('b')], unfurl_links: false, thread_key: 'payment:pay_1' };
  const marked = markTestMode(message);
  expect(marked.text).toBe('[TEST] Payment succeeded: $29.99');
  expect(marked.blocks).toEqual([TEST_MODE_BLOCK, section('a'), section('b')]);
  expect(marked).toMatchObject({ unfurl_links: false, thread_key: 'payment:pay_1' });
  expect(message.text).toBe('Payment succeeded: $29.99');
  expect(message.blocks).toHaveLength(2);
});

test('without top-level blocks the first attachment with blocks starts with the marker; a text-only message only gets the prefix', () => {
  const marked = markTestMode<SlackMessage>({ text: 'x', attachments: [{ color: '#fff', text: 'legacy' }, { color: '#000', blocks: [section('a')] }, { blocks: [section('b')] }] });
  expect(marked.attachments).toEqual([{ color: '#fff', text: 'legacy' }, { color: '#000', blocks: [TEST_MODE_BLOCK, section('a')] }, { blocks: [section('b')] }]);
  expect(marked.blocks).toBeUndefined();
  // One marker, at the top: top-level blocks are drawn before the attachments.
  const both = markTestMode({ text: 'x', blocks: [section('a')], attachments: [{ blocks: [section('b')] }] });
  expect(both.blocks).toEqual([TEST_MODE_BLOCK, section('a')]);
  expect(both.attachments).toEqual([{ blocks: [section('b')] }]);
  expect(markTestMode({ text: 'plain' })).toEqual({ text: '[TEST] plain' });
});

test('marking twice is marking once', () => {
  const once = markTestMode({ text: 'x', blocks: [section('a')], attachments: [{ blocks: [section('b')] }] });
  expect(markTestMode(once)).toEqual(once);
});

test("a message at Slack's 50 blocks (attachments included) stays at 50: its last block gives way; text stays within Slack's limit", () => {
  const blocks = Array.from({ length: 30 }, (_, i) => section(`b${i}`));
  const more = Array.from({ length: 20 }, (_, i) => section(`c${i}`));
  const marked = markTestMode({ text: 'y'.repeat(SlackLimits.messageText), blocks, attachments: [{ blocks: more }] });
  expect(marked.blocks).toHaveLength(31);
  expect(marked.blocks?.[0]).toEqual(TEST_MODE_BLOCK);
  expect(marked.blocks?.[1]).toEqual(section('b0'));
  expect(marked.attachments?.[0].blocks).toEqual(more.slice(0, 19));
  expect(marked.text.length).toBeLessThanOrEqual(SlackLimits.messageText);
  expect(marked.text.startsWith(TEST_MODE_PREFIX)).toBe(true);
  expect(validateSlackMessage(marked)).toEqual([]);
});

test.each(ALL_EVENT_TYPES)('the built-in message of %s, marked, is still a valid Slack message and says TEST', (type) => {
  const envelope = JSON.parse(fixtureBody(type)) as DodoWebhookEnvelope;
  const message = renderBuiltinMessage(envelope, {});
  const marked = markTestMode(message);
  expect(validateSlackMessage(marked)).toEqual([]);
  expect(marked.text).toContain('TEST');
  expect(marked.attachments?.[0].blocks?.[0]).toMatchObject({ block_id: TEST_MODE_BLOCK_ID });
});
