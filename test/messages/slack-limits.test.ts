import { escapeAndTruncate, escapeMrkdwn, slackDate, truncate } from '../../lambda/messages/mrkdwn';
import { validateSlackMessage } from '../../lambda/messages/slack-limits';

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });

describe('validateSlackMessage', () => {
  it('accepts a plain text message and a block message', () => {
    expect(validateSlackMessage({ text: 'hello' })).toEqual([]);
    expect(validateSlackMessage({ blocks: [section('hi')] })).toEqual([]);
    expect(validateSlackMessage({ text: 'x', attachments: [{ color: 'good', blocks: [section('hi')] }] })).toEqual([]);
  });

  it.each([
    [null, 'must be an object'],
    ['text', 'must be an object'],
    [[], 'must be an object'],
    [{}, 'needs a non-empty text, blocks or attachments'],
    [{ text: '' }, 'needs a non-empty text'],
    [{ text: 42 }, 'text must be a string'],
    [{ text: 'x'.repeat(40_001) }, 'text is 40001 characters, Slack allows 40000'],
    [{ blocks: 'nope' }, 'blocks must be an array'],
    [{ blocks: [{ type: 'fancy_block' }] }, 'unknown block type "fancy_block"'],
    [{ blocks: [section('x'.repeat(3001))] }, 'blocks[0].text.text is 3001 characters, Slack allows 3000'],
    [{ blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] }, 'Slack allows 150'],
    [{ blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }] }, 'must be "plain_text"'],
    [{ blocks: [{ type: 'section' }] }, 'needs text or fields'],
    [{ blocks: [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) }] }, 'has 11 fields, Slack allows 10'],
    [{ blocks: [{ type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2001) }] }] }, 'Slack allows 2000'],
    [{ blocks: [{ type: 'context', elements: [] }] }, 'elements must be a non-empty array'],
    [{ blocks: [{ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'b' }, url: 'javascript:alert(1)' }] }] }, 'must be an http(s) URL'],
    [{ attachments: {} }, 'attachments must be an array'],
    [{ text: 'x', attachments: Array.from({ length: 101 }, () => ({ text: 'a' })) }, '101 attachments, Slack allows 100'],
    [{ text: 'x', attachments: [{ color: 'purple', text: 'a' }] }, 'color must be'],
    [{ text: 'x', attachments: [{}] }, 'has no blocks, text or fields'],
  ])('rejects %#: %s', (message, expected) => {
    const problems = validateSlackMessage(message);
    expect(problems.join('\n')).toContain(expected);
  });

  it('counts blocks inside attachments towards the 50-block limit', () => {
    const blocks = Array.from({ length: 30 }, () => section('x'));
    expect(validateSlackMessage({ text: 'x', blocks: blocks.slice(0, 25), attachments: [{ blocks: blocks.slice(0, 25) }] })).toEqual([]);
    expect(validateSlackMessage({ text: 'x', blocks, attachments: [{ blocks }] })).toContain(
      '60 blocks in all (including attachments), Slack allows 50',
    );
  });

  it('reports every problem, not just the first', () => {
    expect(validateSlackMessage({ text: 7, blocks: [{ type: 'nope' }, section('')] })).toHaveLength(3);
  });
});

describe('mrkdwn helpers', () => {
  it('escapes &, < and > so mentions and links stay text', () => {
    expect(escapeMrkdwn('<!channel> & <@U123> <https://evil|click>')).toBe(
      '&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil|click&gt;',
    );
  });

  it('truncates with an ellipsis within the limit', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abc', 0)).toBe('');
  });

  it('never cuts a surrogate pair or an escape entity in half', () => {
    expect(truncate('ab😀cd', 4)).toBe('ab…');
    expect(escapeAndTruncate('abc<def', 6)).toBe('abc…');
    expect(escapeAndTruncate('a&b', 10)).toBe('a&amp;b');
  });

  it('renders dates as a Slack date token with an escaped fallback', () => {
    expect(slackDate(1773480413.9, '2026-03-14T09:26:53.412Z')).toBe(
      '<!date^1773480413^{date_short_pretty} {time}|2026-03-14T09:26:53.412Z>',
    );
  });
});
