import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderRollupMessage, rollupCoverage, type RollupItem } from '../../lambda/messages/templates/rollup';
import { renderBuiltinMessage } from '../../lambda/messages/templates';
import { validateSlackMessage } from '../../lambda/messages/slack-limits';
import type { DodoWebhookEnvelope } from '../../lambda/shared/webhook';

const fixture = (type: string) => JSON.parse(readFileSync(join(__dirname, '..', 'fixtures', 'dodo', `${type}.json`), 'utf8')) as DodoWebhookEnvelope;
let n = 0;
function item(type: string, data: Record<string, unknown> = {}, webhookId = `msg_${++n}`): RollupItem {
  const envelope = fixture(type);
  return { webhookId, eventType: type, envelope: { ...envelope, data: { ...envelope.data, ...data } } };
}
const allText = (message: unknown) => JSON.stringify(message);

describe('renderRollupMessage', () => {
  test('states the count as digits + " events" in the top-level text, counts by type, and lists the covered webhook-ids', () => {
    const items = [
      ...Array.from({ length: 30 }, () => item('payment.succeeded', { total_amount: 1000, currency: 'USD' })),
      item('payment.failed', { total_amount: 2500, currency: 'USD', error_code: 'card_declined' }),
      item('refund.succeeded', { amount: 500, currency: 'EUR' }),
    ];
    const message = renderRollupMessage(items);
    expect(message.text).toMatch(/^32 events /);
    expect(message.text).toContain('payment.succeeded ×30');
    expect(message.text).toContain('payment.failed ×1');
    expect(rollupCoverage(message)?.sort()).toEqual(items.map((i) => i.webhookId).sort());
    expect(validateSlackMessage(message)).toEqual([]);
    // Grouped by family: payments first (most events), then refunds.
    expect(message.attachments!.map((a) => a.fallback!.split(':')[0])).toEqual(['Payments', 'Refunds']);
    expect(message.attachments![0].color).toBe('danger');
  });

  test('per-currency totals in minor units (ISO 4217 exponents: JPY 0, KWD 3)', () => {
    const message = renderRollupMessage([
      item('payment.succeeded', { total_amount: 1999, currency: 'USD' }),
      item('payment.succeeded', { total_amount: 1, currency: 'USD' }),
      item('payment.succeeded', { total_amount: 1500, currency: 'JPY' }),
      item('payment.succeeded', { total_amount: 12345, currency: 'KWD' }),
    ]);
    const text = allText(message);
    expect(text).toContain('$20.00');
    expect(text).toContain('¥1,500');
    expect(text).toContain('KWD');
    expect(text).toContain('12.345');
  });

  test('failures are listed first, then the largest amounts, capped per family', () => {
    const small = Array.from({ length: 20 }, (_, i) => item('payment.succeeded', { total_amount: 100 + i, currency: 'USD', payment_id: `pay_small_${i}` }));
    const big = item('payment.succeeded', { total_amount: 999_999, currency: 'USD', payment_id: 'pay_big' });
    const failed = item('payment.failed', { total_amount: 50, currency: 'USD', payment_id: 'pay_failed', error_code: 'insufficient_funds' });
    const message = renderRollupMessage([...small, big, failed], { dashboardBaseUrl: 'https://app.dodopayments.com' });
    const listing = JSON.stringify(message.attachments![0].blocks![1]);
    expect(listing).toContain('Worth a look');
    expect(listing.indexOf('pay_failed')).toBeLessThan(listing.indexOf('pay_big'));
    expect(listing).toContain('insufficient_funds');
    expect(listing).toContain('https://app.dodopayments.com/transactions/payments/pay_big');
    expect((listing.match(/•/g) ?? []).length).toBe(5);
    expect(allText(message)).toContain('https://app.dodopayments.com/transactions/payments"');
  });

  test('a webhook-id seen twice is one event', () => {
    const once = item('payment.succeeded');
    const message = renderRollupMessage([once, { ...once }, item('payment.succeeded')]);
    expect(message.text).toMatch(/^2 events /);
    expect(rollupCoverage(message)).toHaveLength(2);
  });

  test('payload text is escaped: a customer named <!channel> pings nobody', () => {
    const message = renderRollupMessage([
      item('payment.failed', { customer: { name: '<!channel> Eve', email: 'eve@example.com' } }),
      item('payment.succeeded'),
    ]);
    expect(allText(message)).not.toContain('<!channel>');
    expect(allText(message)).toContain('&lt;!channel&gt; Eve');
  });

  test('the largest roll-up (500 events over every family) stays within Slack limits', () => {
    const types = readdirTypes();
    // Webhook-ids as long as Dodo's (`msg_` + 27 characters): the metadata lists all 500.
    const items = Array.from({ length: 500 }, (_, i) => item(types[i % types.length], {}, `msg_2abcdefghijklmnopqrstuvw${String(i).padStart(4, '0')}`));
    const message = renderRollupMessage(items, { dashboardBaseUrl: 'https://app.dodopayments.com' });
    expect(validateSlackMessage(message)).toEqual([]);
    expect(message.text).toMatch(/^500 events /);
    expect(JSON.stringify(message).length).toBeLessThan(32_000);
  });

  test('a single message is not a roll-up: no built-in message says "<digits> events" in its text', () => {
    expect(rollupCoverage({ text: 'Payment succeeded' })).toBeUndefined();
    for (const type of readdirTypes()) {
      const message = renderBuiltinMessage(fixture(type));
      expect([type, /\d+ events/.test(message.text)]).toEqual([type, false]);
      expect(rollupCoverage(message)).toBeUndefined();
    }
  });
});

function readdirTypes(): string[] {
  return readdirSync(join(__dirname, '..', 'fixtures', 'dodo'))
    .filter((name: string) => name.endsWith('.json'))
    .map((name: string) => name.replace(/\.json$/, ''));
}
