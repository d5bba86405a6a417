/**
 * The README's "Routing rules": every recipe is a valid file (parser and schema) that takes the
 * events it says and leaves the others, and the field table lists exactly the fields a route has.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { CONFIG_ROUTE_FIELDS, parseNotifierConfig } from '../../lambda/shared/config-file';
import { compileRouteSelection } from '../../lambda/shared/route-rules';
import type { QueuedWebhook, WebhookMode } from '../../lambda/shared/webhook';

const ROOT = path.join(__dirname, '..', '..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('\n## Routing rules\n'), readme.indexOf('\n## ', readme.indexOf('\n## Routing rules\n') + 5));
const recipes = section.slice(section.indexOf('### Recipes'));
const blocks = [...recipes.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]);
const validate = new Ajv({ strict: false }).compile(JSON.parse(readFileSync(path.join(ROOT, 'schema', 'dodo-slack.config.schema.json'), 'utf8')) as object);

function sample(type: string, data: Record<string, unknown> = {}, mode?: WebhookMode): QueuedWebhook {
  const body = JSON.parse(readFileSync(path.join(ROOT, 'samples', `${type}.json`), 'utf8')) as { data: Record<string, unknown> };
  return { webhookId: 'msg_recipe', webhookTimestamp: '0', eventType: type, body: JSON.stringify({ ...body, data: { ...body.data, ...data } }), ...(mode ? { mode } : {}) };
}

/** Per recipe, in README order: events with the route ids that must take them. */
const EXPECTATIONS: readonly (readonly (readonly [string, QueuedWebhook, readonly string[], (readonly string[])?])[])[] = [
  [
    ['29.99 USD', sample('payment.succeeded'), []],
    ['600 USD', sample('payment.succeeded', { total_amount: 60_000 }), ['BigPayments'], []],
    ['1,500 USD: mentioned', sample('payment.succeeded', { total_amount: 150_000 }), ['BigPayments'], ['<!subteam^S0123SALES>']],
    ['¥60,000 is not 600 USD', sample('payment.succeeded', { total_amount: 60_000, currency: 'JPY' }), []],
  ],
  [
    ['a renewal of the product', sample('subscription.renewed'), ['ProTeam']],
    ['a renewal of another product', sample('subscription.renewed', { product_id: 'pdt_other' }), []],
    ['a payment with it in the cart', sample('payment.succeeded', { product_cart: [{ product_id: 'pdt_other', quantity: 1 }, { product_id: 'pdt_R8AWMPiV8RyJElcCKvAID', quantity: 2 }] }), ['ProTeam']],
    ['a payment without it', sample('payment.succeeded', { product_cart: [{ product_id: 'pdt_other', quantity: 1 }] }), []],
  ],
  [
    ['a EUR payment', sample('payment.failed'), ['Europe']],
    ['a USD refund', sample('refund.succeeded'), []],
  ],
  [
    ['the customer fails', sample('payment.failed'), ['KeyAccount'], ['<@U0123MANAGER>']],
    ['another customer fails', sample('payment.failed', { customer: { customer_id: 'cus_other', email: 'x@example.com', name: 'X' } }), []],
    ['the customer pays', sample('payment.succeeded', { customer: { customer_id: 'cus_2bQ7xN1mKp9sVt4LwZ8Ya', email: 'x@example.com', name: 'X' } }), []],
  ],
  [
    ['live', sample('payment.succeeded'), ['Payments']],
    ['test', sample('payment.succeeded', {}, 'test'), ['TestLab']],
  ],
];

test('the README has the five recipes', () => {
  expect(blocks).toHaveLength(EXPECTATIONS.length);
});

describe.each(blocks.map((block, index) => [index + 1, block] as const))('recipe %i', (index, block) => {
  const json: unknown = JSON.parse(block);
  const { config, warnings } = parseNotifierConfig(block, 'dodo-slack.config.json');

  test('is a valid file for the parser (without warnings) and the schema', () => {
    expect(warnings).toEqual([]);
    expect(validate(json)).toBe(true);
  });

  // Always four arguments: with fewer, jest would pass its done callback as the last.
  test.each(EXPECTATIONS[index - 1].map(([name, webhook, routes, mentions]) => [name, webhook, routes, mentions ?? null] as const))('%s', (_name, webhook, routes, mentions) => {
    const taking = config.routes.filter((route) => compileRouteSelection(route).takes(webhook));
    expect(taking.map((route) => route.id)).toEqual(routes);
    if (mentions !== null) expect(taking.flatMap((route) => compileRouteSelection(route).mentionsFor(webhook))).toEqual(mentions);
  });
});

test("the README's field table lists exactly a route's fields, in the schema's order", () => {
  const table = section.slice(section.indexOf('| field |'), section.indexOf('\n\n', section.indexOf('| field |')));
  const fields = [...table.matchAll(/^\| `(\w+)` \|/gm)].map((match) => match[1]);
  expect(fields).toEqual([...CONFIG_ROUTE_FIELDS]);
});
