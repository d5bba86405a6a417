/**
 * What another CDK app gets from `import … from 'dodo-slack-notifier'`. The type-only imports are
 * checked by `npm run typecheck`; the values are checked here.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as api from '../../lib';
import type {
  BuiltinTemplateOptions,
  DodoSlackNotifierProps,
  DodoSlackRoute,
  DodoWebhookEvent,
  SlackMessage,
  TypedTransform,
} from '../../lib';

test('the library exports the construct, the stack and Transformation', () => {
  expect(typeof api.DodoSlackNotifier).toBe('function');
  expect(typeof api.DodoSlackNotifierStack).toBe('function');
  expect(typeof api.Transformation.builtin).toBe('function');
  expect(typeof api.Transformation.fromFile).toBe('function');
  expect(typeof api.Transformation.fromInline).toBe('function');
  expect(typeof api.Transformation.fromModule).toBe('function');
  expect(api.WEBHOOK_PATH).toBe('/webhooks/dodo');
});

test('a typed transformation written against the exported types compiles and runs', async () => {
  const options: BuiltinTemplateOptions = { maskCustomerEmails: true };
  const transform: TypedTransform = (event: DodoWebhookEvent): SlackMessage | null =>
    event.type === 'payment.succeeded' ? { text: `paid ${event.data.payment_id}` } : null;
  const props: Partial<DodoSlackNotifierProps> = { events: ['payment.*'] };
  const route: Partial<DodoSlackRoute> = { id: 'Sales' };
  expect(options.maskCustomerEmails).toBe(true);
  expect(props.events).toEqual(['payment.*']);
  expect(route.id).toBe('Sales');
  const paid = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/dodo/payment.succeeded.json'), 'utf8')) as DodoWebhookEvent;
  const refund = JSON.parse(readFileSync(path.join(__dirname, '../fixtures/dodo/refund.succeeded.json'), 'utf8')) as DodoWebhookEvent;
  const paymentId = (paid.data as { payment_id: string }).payment_id;
  expect(await transform(paid, { webhookId: 'msg_1' })).toEqual({ text: `paid ${paymentId}` });
  expect(await transform(refund, { webhookId: 'msg_2' })).toBeNull();
});
