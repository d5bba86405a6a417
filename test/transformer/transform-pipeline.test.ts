/**
 * User transformations inside the real delivery processor, posting to a real HTTP server on
 * 127.0.0.1: a throwing transformation dead-letters its event without stopping the batch, and a
 * fan-out to three routes with one failing delivers the others exactly once.
 */
import * as path from 'node:path';
import { MetricName } from '../../lambda/shared/metrics';
import { createTransform } from '../../lambda/transformer/transform';
import { userCodeRegistryFrom } from '../../lambda/sandbox/registry';
import { Transformation } from '../../lib/transformation';
import { FakeSlack } from '../support/fake-slack';
import { processorFor, route, webhook } from '../support/delivery';
import { EXAMPLES_DIR } from '../support/transformation';

const slack = new FakeSlack();
beforeAll(() => slack.start());
afterAll(() => slack.stop());
beforeEach(() => {
  slack.requests.length = 0;
});

function userTransform(transformation: Transformation, codeId: string) {
  const bound = transformation._bind(codeId);
  return createTransform(bound.spec, userCodeRegistryFrom({ [codeId]: bound.code!.source }));
}

test('event 1 throws in the transformation and is dead-lettered; event 2 of the same batch is delivered', async () => {
  const transform = userTransform(
    Transformation.fromInline(`function handler(webhook) {
  if (webhook.eventType === 'payment.failed') throw new Error('no template for failures yet');
  webhook.payload = { text: 'Paid: ' + webhook.payload.data.payment_id };
  return webhook;
}`),
    'default',
  );
  const { processor, recorder } = processorFor([route('default', () => slack.url(), { transform })]);

  const outcomes = await processor.processBatch([
    { id: 'one', webhook: webhook('payment.failed'), receiveCount: 1 },
    { id: 'two', webhook: webhook('payment.succeeded'), receiveCount: 1 },
  ]);

  expect(outcomes.get('one')).toMatchObject({
    kind: 'dead-letter',
    reason: expect.stringContaining('transformation inline-transformation.js threw on payment.failed: no template for failures yet (at inline-transformation.js:2)') as unknown,
  });
  expect(outcomes.get('two')).toEqual({ kind: 'done', routes: [{ routeId: 'default', result: 'delivered' }] });
  expect(slack.requests.map((request) => request.json)).toEqual([{ text: 'Paid: pay_gr4RizvMOXFJ6xca3y2tU' }]);
  expect(recorder.metric(MetricName.TransformationError)).toBe(1);
  expect(recorder.metric(MetricName.MessageDelivered)).toBe(1);
});

test('fan-out to three routes with one failing: the others deliver once, the failing one is dead-lettered alone', async () => {
  const dashboard = (file: string) => Transformation.fromFile(path.join(EXAMPLES_DIR, 'dashboard', file));
  const routes = [
    route('sales', () => slack.url('/services/T/B/sales'), { events: ['payment.*', 'refund.*'], transform: userTransform(dashboard('sales-feed.js'), 'sales') }),
    route('finance', () => slack.url('/services/T/B/finance'), {
      events: ['payment.succeeded', 'payout.*'],
      transform: userTransform(Transformation.fromModule(path.join(EXAMPLES_DIR, 'typed', 'finance.ts')), 'finance'),
    }),
    // Has no case for payment.succeeded: returns the raw Dodo payload, which is never posted.
    route('ops', () => slack.url('/services/T/B/ops'), { events: ['*'], transform: userTransform(dashboard('subscription-changes.js'), 'ops') }),
  ];
  const { processor, recorder } = processorFor(routes);
  const sale = webhook('payment.succeeded');

  const first = await processor.processBatch([
    { id: 'sale', webhook: sale, receiveCount: 1 },
    { id: 'renewal', webhook: webhook('subscription.cancelled'), receiveCount: 1 },
  ]);

  expect(first.get('sale')).toMatchObject({
    kind: 'dead-letter',
    routeId: 'ops',
    reason: expect.stringContaining('returned the raw Dodo payload for payment.succeeded; its switch probably has no case for this event type') as unknown,
  });
  expect(first.get('renewal')).toEqual({ kind: 'done', routes: [{ routeId: 'ops', result: 'delivered' }] });
  const perRoute = (name: string) => slack.delivered(`/services/T/B/${name}`).length;
  expect([perRoute('sales'), perRoute('finance'), perRoute('ops')]).toEqual([1, 1, 1]);
  expect(slack.delivered('/services/T/B/sales')[0].json.text).toBe('New sale: 29.99 USD from ada@example.com');
  expect(slack.delivered('/services/T/B/ops')[0].json.text).toMatch(/^:wave: Subscription sub_\w+ cancelled/);
  expect(recorder.metric(MetricName.TransformationError)).toBe(1);

  // Redriving the dead letter after the fix must not post again to the routes that already have it.
  const redrive = await processor.processBatch([{ id: 'sale-redrive', webhook: { ...sale }, receiveCount: 1 }]);
  expect(redrive.get('sale-redrive')).toMatchObject({ kind: 'dead-letter', routeId: 'ops' });
  expect([perRoute('sales'), perRoute('finance'), perRoute('ops')]).toEqual([1, 1, 1]);
});
