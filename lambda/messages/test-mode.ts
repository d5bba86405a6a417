/**
 * The TEST marker on the message of a test-mode event (one whose signature a `test:` key verified:
 * Dodo's test-mode dashboard sent it). Whatever made the message (a built-in template, a roll-up
 * or user code), a test payment must never read as a real one in the channel:
 *
 * - the top-level `text` starts with `[TEST] ` (what notifications, screen readers and an
 *   attachment-only message show);
 * - when the message has blocks, the first of them (the message's own, else its first attachment's)
 *   is a context block saying the event comes from Dodo's test mode: Slack draws blocks instead of
 *   `text`, so a marker only in `text` would not be seen. A message already at Slack's 50 blocks
 *   (attachments included) gives up its last block for the marker.
 *
 * Pure, and marking a marked message changes nothing (an app-mode card is re-rendered and marked
 * on every update).
 */
import type { ContextBlock, KnownBlock, MessageAttachment } from '@slack/types';
import type { SlackMessage } from '../shared/transformation';
import { truncate } from './mrkdwn';
import { SlackLimits } from './slack-limits';

/** What `text` starts with on a test-mode event's message. */
export const TEST_MODE_PREFIX = '[TEST] ';

/** `block_id` of the marker block: how a marked block list is recognised. */
export const TEST_MODE_BLOCK_ID = 'dodo_slack_test_mode';

/** The context block each block list of a test-mode message starts with. */
export const TEST_MODE_BLOCK: ContextBlock = {
  type: 'context',
  block_id: TEST_MODE_BLOCK_ID,
  elements: [{ type: 'mrkdwn', text: ':test_tube: *TEST MODE* · a test-mode event from the Dodo dashboard (signed with a test-mode key): no real money moved' }],
};

/** `message` marked as a test-mode event's (see the module comment); other fields are kept as they are. */
export function markTestMode<M extends SlackMessage>(message: M): M {
  const text = message.text.startsWith(TEST_MODE_PREFIX) ? message.text : truncate(`${TEST_MODE_PREFIX}${message.text}`, SlackLimits.messageText);
  // Block lists in the order Slack draws them: the message's blocks, then each attachment's.
  const lists: KnownBlock[][] = [[...(message.blocks ?? [])], ...(message.attachments ?? []).map((attachment) => [...((attachment.blocks ?? []) as KnownBlock[])])];
  const first = lists.find((list) => list.length > 0);
  if (first !== undefined && first[0].block_id !== TEST_MODE_BLOCK_ID) {
    first.unshift(TEST_MODE_BLOCK);
    // Slack counts the blocks of the whole message, attachments included: the last one gives way.
    if (lists.reduce((sum, list) => sum + list.length, 0) > SlackLimits.blocks) lists.filter((list) => list.length > 0).at(-1)!.pop();
  }
  const marked: M = { ...message, text };
  if (message.blocks !== undefined) (marked as { blocks?: KnownBlock[] }).blocks = lists[0];
  if (message.attachments !== undefined) {
    (marked as { attachments?: MessageAttachment[] }).attachments = message.attachments.map((attachment, i) =>
      attachment.blocks === undefined ? attachment : { ...attachment, blocks: lists[i + 1] },
    );
  }
  return marked;
}
