import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SectionBlock } from '@slack/types';
import type { WebhookEventType } from 'dodopayments/resources/webhook-events';
import type { BuiltinTemplateOptions, SlackMessage } from '../../lambda/shared/transformation';
import type { DodoWebhookEnvelope } from '../../lambda/shared/webhook';
import { validateSlackMessage } from '../../lambda/messages/slack-limits';
import { renderBuiltinMessage } from '../../lambda/messages/templates';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'dodo');

function loadFixture(name: string): DodoWebhookEnvelope {
  return JSON.parse(fs.readFileSync(path.join(FIXTURES, `${name}.json`), 'utf8')) as DodoWebhookEnvelope;
}

const fixtureNames = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).map((f) => f.replace(/\.json$/, '')).sort();
const allFixtures = [...fixtureNames, 'variants/dispute.opened.minimal'];

/** A fixture with `data` changed. */
function withData(name: string, change: Record<string, unknown>): DodoWebhookEnvelope {
  const envelope = loadFixture(name);
  return { ...envelope, data: { ...envelope.data, ...change } };
}

/** Every string in the message (text, block texts, urls…), so assertions cover all of it. */
function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(allStrings);
  return [];
}

function render(envelope: DodoWebhookEnvelope, options?: BuiltinTemplateOptions): SlackMessage {
  const message = renderBuiltinMessage(envelope, options);
  expect(validateSlackMessage(message)).toEqual([]);
  return message;
}

function blocksOf(message: SlackMessage) {
  return message.attachments?.[0]?.blocks ?? [];
}

/** Field and section texts, one per line, for "this fact is shown" assertions. */
function bodyText(message: SlackMessage): string {
  return allStrings(blocksOf(message)).join('\n');
}

/** Every string Slack draws: the message `text` and the attachment's blocks (not the fallback, which it draws only without attachments). */
function shownStrings(message: SlackMessage): string[] {
  return [message.text, ...allStrings(blocksOf(message))];
}

/** How often `needle` occurs in `haystack`. */
function occurrences(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

/** Words no reader should ever see in a message. */
function expectNoPlaceholderLeaks(message: SlackMessage): void {
  for (const text of allStrings(message)) {
    expect(text).not.toMatch(/\bnull\b|\bundefined\b|\bNaN\b|1970|\[object Object\]/);
  }
}

describe('every fixture', () => {
  it('covers the 48 Dodo event types', () => {
    const expected: WebhookEventType[] = [
      'abandoned_checkout.detected', 'abandoned_checkout.recovered', 'credit.added', 'credit.balance_low',
      'credit.deducted', 'credit.expired', 'credit.manual_adjustment', 'credit.overage_charged', 'credit.overage_reset',
      'credit.rolled_over', 'credit.rollover_forfeited', 'dispute.accepted', 'dispute.cancelled', 'dispute.challenged',
      'dispute.expired', 'dispute.lost', 'dispute.opened', 'dispute.won', 'dunning.recovered', 'dunning.started',
      'entitlement_grant.created', 'entitlement_grant.delivered', 'entitlement_grant.failed', 'entitlement_grant.revoked',
      'license_key.created', 'payment.cancelled', 'payment.failed', 'payment.processing', 'payment.succeeded',
      'payout.created', 'payout.failed', 'payout.in_progress', 'payout.on_hold', 'payout.success', 'refund.failed',
      'refund.succeeded', 'subscription.active', 'subscription.cancelled', 'subscription.expired', 'subscription.failed',
      'subscription.on_hold', 'subscription.past_due', 'subscription.paused', 'subscription.plan_changed',
      'subscription.renewed', 'subscription.unpaused', 'subscription.update_payment_method', 'subscription.updated',
    ];
    expect(fixtureNames).toEqual([...expected].sort());
  });

  it.each(allFixtures)('%s renders a valid, complete message from its family template', (name) => {
    const envelope = loadFixture(name);
    const message = render(envelope, { dashboardBaseUrl: 'https://app.dodopayments.com', mentions: { '*': '<!here>' } });

    expect(message.text.length).toBeGreaterThan(10);
    expect(message.text).not.toContain('no template');
    expect(message.attachments).toHaveLength(1);
    expect(['good', 'warning', 'danger', '#1D9BD1']).toContain(message.attachments![0].color);
    expect(message.text.startsWith('<!here> ')).toBe(true);
    const blocks = blocksOf(message);
    // The line in `text` is the message's visible first line: the attachment opens with the facts.
    expect(blocks[0].type).toBe('section');
    expect((blocks[0] as SectionBlock).fields?.length).toBeGreaterThan(0);
    expect(blocks.some((block) => block.type === 'header')).toBe(false);
    const last = blocks[blocks.length - 1];
    expect(last.type).toBe('context');
    expect(JSON.stringify(last)).toContain(`<!date^${Math.floor(Date.parse(envelope.timestamp) / 1000)}^{date_short_pretty} {time}|${envelope.timestamp}`);
    expect(blocks.some((block) => block.type === 'actions')).toBe(true);
    expectNoPlaceholderLeaks(message);
  });

  it.each(allFixtures)('%s says its one-line summary once, in `text`, and mentions only there', (name) => {
    const message = render(loadFixture(name), { mentions: { '*': '<!here> <@U999>' } });
    const line = message.text.replace(/^<!here> <@U999> /, '');
    expect(line).not.toBe(message.text);
    const shown = shownStrings(message).join('\n');
    expect(occurrences(shown, line)).toBe(1);
    // The headline ("Dispute opened") is not repeated as a header either.
    const headline = line.split(': ')[0];
    expect(occurrences(shown, headline)).toBe(1);
    expect(occurrences(shown, '<!here>')).toBe(1);
    expect(occurrences(shown, '<@U999>')).toBe(1);
    expect(message.text).not.toMatch(/[\r\n]/);
  });

  it.each(allFixtures)('%s has a fallback: the line without the mention, escaped like the rest', (name) => {
    const message = render(loadFixture(name), { mentions: { '*': '<!here>' } });
    const fallback = message.attachments![0].fallback!;
    expect(message.text).toBe(`<!here> ${fallback}`);
    expect(fallback).not.toContain('<!here>');
    expect(fallback).not.toMatch(/[\r\n]/);
  });

  it('renders the same envelope to the same message every time', () => {
    for (const name of allFixtures) expect(renderBuiltinMessage(loadFixture(name))).toEqual(renderBuiltinMessage(loadFixture(name)));
  });
});

describe('key facts', () => {
  it.each([
    ['payment.succeeded', 'Payment succeeded: $29.99 from Ada Lovelace', 'good'],
    ['payment.failed', 'Payment failed: €49.00 from Grace Hopper (INSUFFICIENT_FUNDS)', 'danger'],
    ['payment.cancelled', 'Payment cancelled: ¥1,500 from Hedy Lamarr', 'warning'],
    ['payment.processing', 'Payment processing: ₹2,499.00 from Katherine Johnson', '#1D9BD1'],
    ['refund.succeeded', 'Refund issued: $29.99 (full) to Ada Lovelace', 'warning'],
    ['dispute.opened', 'Dispute opened: $29.99 from Ada Lovelace (fraudulent)', 'danger'],
    ['dispute.won', 'Dispute won: $29.99 from Ada Lovelace (fraudulent)', 'good'],
    ['subscription.active', 'New subscription: Ada Lovelace · $19.00 / month', 'good'],
    ['payout.failed', 'Payout failed: $12,500.00 to Example Labs LLC', 'danger'],
    ['credit.balance_low', 'Credit balance low: API Calls: 80 credits left (threshold 10%)', 'warning'],
    ['license_key.created', 'License key issued: Key 3F9A… for product pdt_R8AWMPiV8RyJElcCKvAID', '#1D9BD1'],
    ['entitlement_grant.failed', 'Entitlement delivery failed: github entitlement error github_user_not_found', 'danger'],
  ])('%s reads "%s" in the notification', (name, text, color) => {
    const message = render(loadFixture(name));
    expect(message.text).toBe(text);
    expect(message.attachments![0].color).toBe(color);
  });

  it('shows the settlement amount when the settlement currency differs', () => {
    expect(bodyText(render(loadFixture('payment.failed')))).toContain('*Amount*\n€49.00 (settled as $53.12)');
    expect(bodyText(render(loadFixture('payment.succeeded')))).toContain('*Amount*\n$29.99');
    expect(bodyText(render(loadFixture('payment.succeeded')))).not.toContain('settled as');
  });

  it('puts the failure reason, card and product in the payment message', () => {
    const body = bodyText(render(loadFixture('payment.failed')));
    expect(body).toContain('*Reason*\nThe card has insufficient funds. Ask the customer to use another card.');
    expect(body).toContain('MASTERCARD •••• 0341 (debit)');
    expect(body).toContain('`pdt_R8AWMPiV8RyJElcCKvAID`');
    expect(body).toContain('Payment: `pay_9KdWq2mXz7LpR4tYb1NcV`');
  });

  it('treats the dispute amount string as minor units in 0- and 3-decimal currencies', () => {
    expect(render(withData('dispute.opened', { amount: '1500', currency: 'JPY' })).text).toContain('¥1,500 from');
    expect(render(withData('dispute.opened', { amount: '12345', currency: 'KWD' })).text).toContain('KWD 12.345 from');
    expect(render(withData('dispute.opened', { amount: '29.99', currency: 'EUR' })).text).toContain('29.99 EUR from');
  });

  it('formats 3-decimal payments and refunds', () => {
    expect(render(withData('payment.succeeded', { total_amount: 12345, currency: 'BHD', settlement_currency: 'BHD' })).text)
      .toBe('Payment succeeded: BHD 12.345 from Ada Lovelace');
    expect(render(withData('refund.succeeded', { amount: 150000, currency: 'HUF' })).text).toContain('HUF 1,500.00');
  });

  it('notes when a payout payload is in a different state from its (unordered) event', () => {
    expect(render(withData('payout.success', { status: 'failed' })).text).toContain('(now failed)');
    expect(render(loadFixture('payout.success')).text).not.toContain('(now');
  });

  it('shows the scheduled plan change and cancellation feedback of a subscription', () => {
    expect(bodyText(render(loadFixture('subscription.updated')))).toContain('*Scheduled plan change*\nto Pro (monthly) on <!date^');
    const cancelled = render(loadFixture('subscription.cancelled'));
    expect(cancelled.text).toContain('feedback: too expensive');
    expect(bodyText(cancelled)).toContain('*Cancellation comment*\nSwitching to the annual plan of a competitor');
  });
});

describe('null and missing fields', () => {
  it.each(allFixtures)('%s with every data field null still renders without placeholders', (name) => {
    const envelope = loadFixture(name);
    const nulled = Object.fromEntries(Object.keys(envelope.data).map((key) => [key, null]));
    const message = render({ ...envelope, data: nulled });
    expectNoPlaceholderLeaks(message);
    expect(allStrings(message).join('\n')).not.toContain('$0.00');
  });

  it.each(allFixtures)('%s with empty data still renders', (name) => {
    expectNoPlaceholderLeaks(render({ ...loadFixture(name), data: {} }));
  });

  it('says "unknown" for a refund whose amount and currency are null, never $0.00', () => {
    const message = render(withData('refund.succeeded', { amount: null, currency: null }));
    expect(message.text).toBe('Refund issued: Amount unknown (full) to Ada Lovelace');
    expect(bodyText(message)).toContain('*Amount*\nunknown');
    expect(allStrings(message).join('\n')).not.toContain('0.00');
  });

  it('leaves out null and epoch-zero dates instead of showing 1970', () => {
    const body = bodyText(render(withData('subscription.cancelled', { cancelled_at: null, expires_at: '1970-01-01T00:00:00Z' })));
    expect(body).not.toContain('Cancelled at');
    expect(body).not.toContain('Expires');
    expect(body).not.toContain('1970');
  });

  it('renders the minimal dispute (no customer, no reason) with what it has', () => {
    const message = render(loadFixture('variants/dispute.opened.minimal'));
    expect(message.text).toBe('Dispute opened: $29.99');
    expect(bodyText(message)).not.toContain('Customer');
  });

  it('says unknown for a null payment status and omits an unparseable timestamp', () => {
    const envelope = { ...withData('payment.succeeded', { status: null }), timestamp: 'not a date' };
    const message = render(envelope);
    expect(bodyText(message)).toContain('*Status*\nunknown');
    expect(JSON.stringify(blocksOf(message).at(-1))).not.toContain('<!date');
  });
});

describe('payload text cannot ping, link or format', () => {
  const hostile = '<!channel> <@U123> <https://evil.example|click> *bold* `code` & <!here>';

  it.each([
    ['payment.failed', { customer: { customer_id: 'cus_1', name: hostile, email: hostile }, error_message: hostile, error_code: hostile }],
    ['refund.succeeded', { reason: hostile, customer: { customer_id: 'cus_1', name: hostile, email: 'a@b.c' } }],
    ['dispute.opened', { remarks: hostile, reason: hostile, customer: { name: hostile } }],
    ['subscription.cancelled', { cancellation_comment: hostile, customer: { name: hostile }, product_id: hostile }],
    ['payout.failed', { remarks: hostile, name: hostile }],
    ['credit.manual_adjustment', { description: hostile, reference_type: hostile, reference_id: hostile }],
    ['credit.balance_low', { credit_entitlement_name: hostile }],
    ['entitlement_grant.failed', { error_message: hostile, error_code: hostile, integration_type: hostile }],
    ['abandoned_checkout.detected', { abandonment_reason: hostile, payment_id: `pay_\`${hostile}` }],
  ])('%s keeps hostile payload text as escaped text', (name, change) => {
    const message = render(withData(name, change));
    const everything = shownStrings(message).join('\n');
    expect(everything).not.toMatch(/<!channel>|<!here>|<@U123>|<https:\/\/evil/);
    expect(everything).toContain('&lt;!channel&gt;');
  });

  it('escapes payload text in the fallback too, so no client can turn it into a mention', () => {
    const message = render(withData('dispute.opened', { customer: { name: `A & B <!channel>` } }));
    expect(message.text).toBe('Dispute opened: $29.99 from A &amp; B &lt;!channel&gt; (fraudulent)');
    expect(message.attachments![0].fallback).toBe('Dispute opened: $29.99 from A &amp; B &lt;!channel&gt; (fraudulent)');
  });

  it('adds no button for a payload id of "." or ".." (URL would resolve it to another page)', () => {
    for (const id of ['..', '.']) {
      const message = render(withData('payment.succeeded', { payment_id: id }), { dashboardBaseUrl: 'https://app.dodopayments.com' });
      const urls = allStrings(message).filter((text) => text.startsWith('https://'));
      expect(urls).toEqual(['https://app.dodopayments.com/sales/customers/cus_TV52uJWWXt2yIoBBxpjaa']);
    }
  });

  it('escapes a hostile unknown event type and its fields', () => {
    const message = render({ business_id: 'b', type: 'thing.<!channel>', timestamp: '2026-01-01T00:00:00Z', data: { note: hostile } });
    expect(shownStrings(message).join('\n')).not.toMatch(/<!channel>|<@U123>/);
  });
});

describe('over-long payload text', () => {
  const long = 'x'.repeat(10_000);

  it.each([
    ['payment.failed', { customer: { customer_id: long, name: long, email: long }, error_message: long, error_code: long, card_network: long }],
    ['refund.succeeded', { reason: long, refund_id: long }],
    ['dispute.opened', { remarks: long, reason: long, dispute_id: long }],
    ['subscription.cancelled', { cancellation_comment: long, product_id: long, scheduled_change: { product_name: long, effective_at: long } }],
    ['payout.failed', { remarks: long, name: long }],
    ['entitlement_grant.failed', { error_message: long }],
  ])('%s stays within Slack limits, cut with an ellipsis', (name, change) => {
    const message = render(withData(name, change));
    expect(allStrings(message).join('')).toContain('x…');
  });

  it('keeps a 500-item product cart within limits', () => {
    const cart = Array.from({ length: 500 }, (_, i) => ({ product_id: `pdt_${i}`, quantity: 2 }));
    const body = bodyText(render(withData('payment.succeeded', { product_cart: cart })));
    expect(body).toContain('*Products*\n`pdt_0` × 2');
    expect(body).toContain('and 495 more');
  });

  it('keeps an unknown event with hundreds of fields within limits', () => {
    const data = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`field_${i}`, long]));
    render({ business_id: 'b', type: 'mystery.event', timestamp: '2026-01-01T00:00:00Z', data });
  });
});

describe('unknown event types', () => {
  it('gives a readable generic message, with money formatted and secrets left out', () => {
    const message = render({
      business_id: 'bus_1',
      type: 'invoice.finalized',
      timestamp: '2026-03-14T09:26:53.412Z',
      data: { invoice_id: 'inv_1', total_amount: 1500, currency: 'JPY', status: 'open', api_key: 'sk_live_secret', created_at: '2026-03-14T09:00:00Z', nested: { a: 1 } },
    });
    expect(message.text).toBe('Invoice finalized: ¥1,500 (open)');
    expect(message.attachments![0].color).toBe('#1D9BD1');
    const body = bodyText(message);
    expect(body).toContain('*total amount*\n¥1,500');
    expect(body).toContain('*status*\nopen');
    expect(body).toContain('`inv_1`');
    expect(allStrings(message).join('\n')).not.toContain('sk_live_secret');
  });

  it('uses the family template for a new type in a known family', () => {
    const message = render({ ...loadFixture('payment.succeeded'), type: 'payment.partially_captured' });
    expect(message.text).toBe('Payment partially captured: $29.99 from Ada Lovelace');
  });

  it('copes with a missing type and non-object data', () => {
    const message = render({ business_id: 'b', timestamp: '2026-01-01T00:00:00Z', data: null } as unknown as DodoWebhookEnvelope);
    expect(message.text).toContain('Dodo event');
  });

  it('maps the legacy payout.not_initiated to the payout.created message', () => {
    expect(render({ ...loadFixture('payout.created'), type: 'payout.not_initiated' }).text).toBe('Payout created: $12,500.00 to Example Labs LLC');
  });
});

describe('license keys', () => {
  const fullKey = '3F9A2C71-8D4E-4B6A-9C0F-5E1D7A3B2C98';

  it.each(['license_key.created', 'entitlement_grant.delivered', 'entitlement_grant.revoked'])('%s never posts the whole key', (name) => {
    const message = render(loadFixture(name));
    const everything = allStrings(message).join('\n');
    expect(everything).toContain('3F9A…');
    expect(everything).not.toContain('3F9A2');
    expect(everything).not.toContain(fullKey.slice(-8));
  });

  it('shows no prefix at all for a very short key', () => {
    const message = render(withData('license_key.created', { key: 'ABC' }));
    expect(allStrings(message).join('\n')).not.toContain('ABC');
  });
});

describe('the one-line text', () => {
  it('collapses line breaks and whitespace runs from payload fields', () => {
    const message = render(withData('dispute.opened', { customer: { name: 'Ada\r\n  Lovelace\u2028\tJr' }, reason: 'fraud\n\nulent' }), { mentions: { '*': '<!here>' } });
    expect(message.text).toBe('<!here> Dispute opened: $29.99 from Ada Lovelace Jr (fraud ulent)');
    expect(message.attachments![0].fallback).toBe('Dispute opened: $29.99 from Ada Lovelace Jr (fraud ulent)');
  });

  it('puts an unknown event type with line breaks on one line too', () => {
    const message = render({ business_id: 'b', type: 'thing.\nhappened', timestamp: '2026-01-01T00:00:00Z', data: {} });
    expect(message.text).not.toMatch(/[\r\n]/);
  });

  it('is the only place a summary of hundreds of line breaks goes, within limits', () => {
    const message = render(withData('dispute.opened', { customer: { name: 'x\n'.repeat(5000) } }));
    expect(message.text).not.toMatch(/[\r\n]/);
    expect(message.text.endsWith('…')).toBe(true);
  });
});

describe('options', () => {
  it('masks customer emails everywhere', () => {
    const message = render(withData('payment.succeeded', { customer: { customer_id: 'c', email: 'ada@example.com', name: null } }), { maskCustomerEmails: true });
    expect(message.text).toBe('Payment succeeded: $29.99 from a***@example.com');
    expect(allStrings(message).join('\n')).not.toContain('ada@example.com');
  });

  it('hides customer names everywhere, falling back to the email', () => {
    const message = render(loadFixture('subscription.cancelled'), { hideCustomerNames: true });
    expect(message.text).toContain('ada@example.com');
    expect(allStrings(message).join('\n')).not.toContain('Ada Lovelace');
  });

  it('adds Open in Dodo buttons with encoded ids under the base path', () => {
    const message = render(withData('payment.succeeded', { payment_id: 'pay_1/../../x?y#z' }), { dashboardBaseUrl: 'https://app.dodopayments.com/acme/?tab=1' });
    const actions = blocksOf(message).find((block) => block.type === 'actions');
    expect(JSON.stringify(actions)).toContain('"url":"https://app.dodopayments.com/acme/transactions/payments/pay_1%2F..%2F..%2Fx%3Fy%23z"');
    expect(JSON.stringify(actions)).toContain('Open payment in Dodo');
  });

  it.each([undefined, '', 'javascript:alert(1)', 'not a url', 'ftp://files.example'])('adds no buttons for base URL %p', (base) => {
    const message = render(loadFixture('payment.succeeded'), { dashboardBaseUrl: base });
    expect(blocksOf(message).some((block) => block.type === 'actions')).toBe(false);
  });

  it('puts the mention for a matching glob in the notification text only', () => {
    const options = { mentions: { 'dispute.opened': '<!here>', 'dispute.*': '<@U999>', 'payment.*': '<!channel>' } };
    const message = render(loadFixture('dispute.opened'), options);
    expect(message.text).toBe('<!here> <@U999> Dispute opened: $29.99 from Ada Lovelace (fraudulent)');
    expect(JSON.stringify(message.attachments)).not.toMatch(/<!here>|<@U999>/);
    const won = render(loadFixture('dispute.won'), options);
    expect(won.text.startsWith('<@U999> Dispute won')).toBe(true);
    expect(render(loadFixture('refund.succeeded'), options).text).not.toContain('<!');
  });

  it('matches mentions on legacy payout names through the canonical type', () => {
    const message = render({ ...loadFixture('payout.created'), type: 'payout.not_initiated' }, { mentions: { 'payout.not_initiated': '<!here>' } });
    expect(message.text.startsWith('<!here> Payout created')).toBe(true);
  });
});
