/**
 * Names in the built-in messages: without names every message is byte for byte what it was, with
 * them a product reads as its name with the ID after it (escaped: a name is API text), an abandoned
 * checkout says its payment's amount, customer and products, and roll-ups and summaries name
 * their products. Which IDs an event wants looked up is decided here too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { SectionBlock } from '@slack/types';
import { mergeWanted, namesWanted, type KnownNames } from '../../lambda/shared/names';
import { renderBuiltinMessage } from '../../lambda/messages/templates';
import { renderRollupMessage } from '../../lambda/messages/templates/rollup';
import { validateSlackMessage } from '../../lambda/messages/slack-limits';
import type { DodoWebhookEnvelope } from '../../lambda/shared/webhook';
import { addCounters, summaryFactsOf, type Counters } from '../../lambda/summaries/facts';
import { buildSummaryMessage, summaryProductIds } from '../../lambda/summaries/message';
import { parseCalendarDate, periodOf } from '../../lambda/summaries/period';
import { DAY_MIX, PREVIOUS_DAY } from '../support/summary-events';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'dodo');
const fixture = (type: string): DodoWebhookEnvelope => JSON.parse(readFileSync(path.join(FIXTURES, `${type}.json`), 'utf8')) as DodoWebhookEnvelope;
const TYPES = readdirSync(FIXTURES).filter((name) => name.endsWith('.json')).map((name) => name.slice(0, -'.json'.length));
const PRODUCT = 'pdt_R8AWMPiV8RyJElcCKvAID';
const NAMES: KnownNames = { products: { [PRODUCT]: 'Pro plan', pdt_tea: 'Sencha <!channel> *loose leaf*' } };

test.each(TYPES)('%s without names is byte for byte the message it was', (type) => {
  const envelope = fixture(type);
  const before = JSON.stringify(renderBuiltinMessage(envelope, {}));
  expect(JSON.stringify(renderBuiltinMessage(envelope, {}, undefined))).toBe(before);
  expect(JSON.stringify(renderBuiltinMessage(envelope, {}, {}))).toBe(before);
  // Names of other objects change nothing either.
  expect(JSON.stringify(renderBuiltinMessage(envelope, {}, { products: { pdt_other: 'Other' } }))).toBe(before);
});

test.each(['payment.succeeded', 'subscription.active', 'license_key.created'])('%s names its product, the ID after it', (type) => {
  const message = renderBuiltinMessage(fixture(type), {}, NAMES);
  expect(JSON.stringify(message)).toContain(`Pro plan (\`${PRODUCT}\`)`);
  expect(validateSlackMessage(message)).toEqual([]);
});

test('a name is API text: escaped, it can neither mention nor format', () => {
  const envelope = fixture('payment.succeeded');
  const data = { ...envelope.data, product_cart: [{ product_id: 'pdt_tea', quantity: 2 }] };
  const text = JSON.stringify(renderBuiltinMessage({ ...envelope, data }, {}, NAMES));
  expect(text).toContain('Sencha &lt;!channel&gt; *loose leaf* (`pdt_tea`) × 2');
  expect(text).not.toContain('<!channel>');
});

test("an abandoned checkout with its payment found: amount, customer and the products' names", () => {
  const envelope = fixture('abandoned_checkout.detected');
  const names: KnownNames = {
    ...NAMES,
    payments: { pay_9KdWq2mXz7LpR4tYb1NcV: { totalAmount: 4900, currency: 'USD', customer: { customer_id: 'cus_2bQ7xN1mKp9sVt4LwZ8Ya', name: 'Grace Hopper', email: 'grace@example.com' }, productCart: [{ product_id: PRODUCT, quantity: 1 }] } },
  };
  const message = renderBuiltinMessage(envelope, {}, names);
  expect(message.text).toBe('Checkout abandoned: $49.00 from Grace Hopper · Reason: payment failed');
  const text = JSON.stringify(message);
  expect(text).toContain('Grace Hopper\\ngrace@example.com');
  expect(text).toContain(`Pro plan (\`${PRODUCT}\`)`);
  expect(validateSlackMessage(message)).toEqual([]);
});

test('the IDs an event wants looked up: cart and subscription products, an abandoned checkout payment, nothing for others', () => {
  expect(namesWanted(fixture('payment.succeeded'))).toEqual({ productIds: [PRODUCT], paymentIds: [] });
  expect(namesWanted(fixture('subscription.active'))).toEqual({ productIds: [PRODUCT], paymentIds: [] });
  expect(namesWanted(fixture('abandoned_checkout.detected'))).toEqual({ productIds: [], paymentIds: ['pay_9KdWq2mXz7LpR4tYb1NcV'] });
  expect(namesWanted(fixture('refund.succeeded'))).toEqual({ productIds: [], paymentIds: [] });
  // An ID that is not Dodo-shaped is never sent to the API.
  expect(namesWanted({ ...fixture('subscription.active'), data: { product_id: '../../payouts' } })).toEqual({ productIds: [], paymentIds: [] });
  expect(mergeWanted([{ productIds: ['a', 'b'], paymentIds: [] }, { productIds: ['b', 'c'], paymentIds: ['p'] }], 2)).toEqual({ productIds: ['a', 'b'], paymentIds: ['p'] });
});

test('a roll-up lists what each payment was for when names are known, and is unchanged without', () => {
  const items = [1, 2, 3].map((n) => {
    const envelope = fixture('payment.succeeded');
    return { webhookId: `msg_${n}`, eventType: 'payment.succeeded', envelope: { ...envelope, data: { ...envelope.data, total_amount: 1000 * n } } };
  });
  const plain = JSON.stringify(renderRollupMessage(items, {}));
  expect(JSON.stringify(renderRollupMessage(items, {}, {}))).toBe(plain);
  expect(plain).not.toContain('Pro plan');
  const named = JSON.stringify(renderRollupMessage(items, {}, NAMES));
  expect(named).toContain('from Ada Lovelace · Pro plan');
});

test("the summary's top products are named, the ID after each; without names they are IDs as before", () => {
  const sum = (events: readonly { envelope: Parameters<typeof summaryFactsOf>[0] }[]): Counters => events.reduce<Counters>((total, event) => addCounters(total, summaryFactsOf(event.envelope)), {});
  const totals = sum(DAY_MIX);
  const input = { period: periodOf('day', parseCalendarDate('2026-12-01'), 'UTC'), totals, previous: sum(PREVIOUS_DAY), computedAtMs: Date.parse('2026-12-02T09:00:00Z') };
  expect(summaryProductIds(totals)).toContain('pdt_tea');
  const jpy = (message: ReturnType<typeof buildSummaryMessage>) =>
    (message.attachments![0].blocks as SectionBlock[]).find((block) => block.type === 'section' && block.text?.text === '*JPY*')!.fields!.map((field) => field.text).join('\n');
  expect(JSON.stringify(buildSummaryMessage({ ...input, names: {} }))).toBe(JSON.stringify(buildSummaryMessage(input)));
  expect(jpy(buildSummaryMessage(input))).toContain('`pdt_tea` ¥1,500');
  expect(jpy(buildSummaryMessage({ ...input, names: NAMES }))).toContain('Sencha &lt;!channel&gt; *loose leaf* (`pdt_tea`) ¥1,500');
});

test("app mode's subscription card names its product once a look-up found it, and keeps the name for later events", async () => {
  const { applyEvent, emptyCard, renderCard } = await import('../../lambda/transformer/threads/card');
  const { threadKeyOf } = await import('../../lambda/transformer/threads/thread-key');
  const envelope = fixture('subscription.active');
  const key = threadKeyOf(envelope)!;
  const plain = renderCard(applyEvent(emptyCard(key), envelope));
  expect(JSON.stringify(renderCard(applyEvent(emptyCard(key), envelope, {})))).toBe(JSON.stringify(plain));
  const named = applyEvent(emptyCard(key), envelope, NAMES);
  expect(JSON.stringify(renderCard(named))).toContain(`Pro plan (\`${PRODUCT}\`)`);
  // A later event of the same subscription, looked up while the API was down: the card keeps the name.
  const later = { ...envelope, timestamp: '2027-01-01T00:00:00.000Z' };
  expect(JSON.stringify(renderCard(applyEvent(named, later)))).toContain('Pro plan');
});
