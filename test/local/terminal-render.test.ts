import { mrkdwnToText, renderSlackMessageForTerminal, stripControlCharacters } from '../../lambda/local/terminal-render';

describe('mrkdwnToText', () => {
  it('turns links, mentions and dates into plain text', () => {
    expect(mrkdwnToText('see <https://app.dodopayments.com/p/1|the payment> or <https://x.test>')).toBe(
      'see the payment (https://app.dodopayments.com/p/1) or https://x.test',
    );
    expect(mrkdwnToText('<!here> <!channel> <@U123> <#C42|ops> <!subteam^S1|oncall>')).toBe('@here @channel @U123 #ops @oncall');
    expect(mrkdwnToText('<!date^1773480413^{date_short_pretty} {time}|2026-03-14T09:26:53Z> ok')).toBe('2026-03-14T09:26:53Z ok');
  });

  it('unescapes entities after reading links, so escaped payload text stays literal text', () => {
    // A customer named "<!channel>" arrives escaped; it must show as that text, not become a mention.
    expect(mrkdwnToText('Customer: &lt;!channel&gt; &amp; co')).toBe('Customer: <!channel> & co');
    expect(mrkdwnToText('&amp;lt;')).toBe('&lt;');
  });

  it('renders *bold* as plain words without colours and as ANSI bold with colours', () => {
    expect(mrkdwnToText('*Amount*\n$29.99')).toBe('Amount\n$29.99');
    expect(mrkdwnToText('*Amount*: 5', { color: true })).toBe('\u001b[1mAmount\u001b[0m: 5');
    expect(mrkdwnToText('2 * 3 * 4')).toBe('2 * 3 * 4');
  });
});

describe('renderSlackMessageForTerminal', () => {
  const message = {
    text: 'Payment failed: $5.00 &lt;b&gt;',
    attachments: [
      {
        color: 'danger',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: 'Payment failed' } },
          { type: 'section', fields: [{ type: 'mrkdwn', text: '*Amount*\n$5.00' }, { type: 'mrkdwn', text: '*Customer*\nAda' }] },
          { type: 'section', text: { type: 'mrkdwn', text: '*Reason*\ncard declined' } },
          { type: 'context', elements: [{ type: 'mrkdwn', text: 'Payment: `pay_1`' }, { type: 'mrkdwn', text: '`payment.failed`' }] },
          { type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in Dodo' }, url: 'https://app.dodopayments.com/payments/pay_1' }] },
          { type: 'divider' },
          { type: 'rich_text', elements: [] },
        ],
      },
    ],
  };

  it('shows the notification, then each attachment block behind a bar, fields as "Label: value"', () => {
    expect(renderSlackMessageForTerminal(message)).toBe(
      [
        'Payment failed: $5.00 <b>',
        '',
        '┃ (danger)',
        '┃ Payment failed',
        '┃ ──────────────',
        '┃   Amount: $5.00',
        '┃   Customer: Ada',
        '┃ Reason',
        '┃ card declined',
        '┃ Payment: `pay_1`  ·  `payment.failed`',
        '┃ [ Open in Dodo ] → https://app.dodopayments.com/payments/pay_1',
        '┃ ────────────────────────────────────────',
        '┃ [rich_text block]',
        '',
      ].join('\n'),
    );
  });

  it('colours the bar after the attachment colour when asked', () => {
    const text = renderSlackMessageForTerminal(message, { color: true });
    expect(text).toContain('\u001b[31m┃\u001b[0m \u001b[1mPayment failed\u001b[0m');
    expect(text).not.toContain('(danger)');
  });

  it('shows text as the body without top-level blocks and dims it as the notification with them, like Slack', () => {
    const dimmed = '\u001b[2mPayment failed\u001b[0m';
    expect(renderSlackMessageForTerminal(message, { color: true }).split('\n')[0]).toBe('Payment failed: $5.00 <b>');
    const withBlocks = renderSlackMessageForTerminal({ text: 'Payment failed', blocks: [{ type: 'divider' }] }, { color: true });
    expect(withBlocks.split('\n')[0]).toBe(dimmed);
  });

  it('renders top-level blocks and a text-only message', () => {
    expect(renderSlackMessageForTerminal({ text: 'hello <@U1>' })).toBe('hello @U1\n');
    expect(renderSlackMessageForTerminal({ text: 'x', blocks: [{ type: 'markdown', text: '**hi**' }] })).toBe('x\n\n**hi**\n');
  });

  it('never passes terminal control sequences from payload text through', () => {
    const hostile = 'Eve\u001b]0;owned\u0007\u001b[2J';
    const text = renderSlackMessageForTerminal({
      text: hostile,
      blocks: [{ type: 'header', text: { type: 'plain_text', text: hostile } }, { type: 'section', text: { type: 'mrkdwn', text: hostile } }],
    });
    // Any C0/C1 control character (Unicode's Cc) other than tab and newline.
    expect(text).not.toMatch(/(?![\t\n])\p{Cc}/u);
    expect(text).toContain('Eve?]0;owned??[2J');
    expect(stripControlCharacters('a\tb\nc\u009bd')).toBe('a\tb\nc?d');
  });
});
