/**
 * User code that passed the synth-time check but fails to load in a function instance (a worker that
 * does not start in time, memory at load) must not dead-letter every event of its route until the
 * instance is recycled: those events are retried, and the load is tried again.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { DodoWebhookEnvelope } from '../../lambda/shared/webhook';
import type { TransformInput } from '../../lambda/shared/transformation';
import { TransformationUnavailableError } from '../../lambda/shared/errors';
import { createTransform } from '../../lambda/transformer/transform';
import { userCodeRegistryFrom } from '../../lambda/sandbox/registry';

const body = readFileSync(path.join(__dirname, '../fixtures/dodo/payment.succeeded.json'), 'utf8');
const input: TransformInput = {
  webhookId: 'msg_reload',
  eventType: 'payment.succeeded',
  envelope: JSON.parse(body) as DodoWebhookEnvelope,
  rawBody: body,
  headers: { 'webhook-id': 'msg_reload', 'webhook-timestamp': '1700000000' },
};

test('a route whose code fails to load is unavailable (retried), then works once a reload succeeds', async () => {
  // Top-level code that refuses to load until a moment that lies a little in the future.
  const readyAt = Date.now() + 400;
  const source = `
    if (Date.now() < ${readyAt}) throw new Error('not ready yet');
    function handler(webhook) { webhook.payload = { text: 'loaded ' + webhook.eventType }; return webhook; }
  `;
  const transform = createTransform({ kind: 'code', codeId: 'r0', timeoutMs: 1000 }, userCodeRegistryFrom({ r0: source }), { reloadIntervalMs: 100 });

  const first = transform(input);
  await expect(first).rejects.toBeInstanceOf(TransformationUnavailableError);
  await expect(first).rejects.toThrow(/could not be loaded in this instance \(retrying\): .*not ready yet/);

  await new Promise((resolve) => setTimeout(resolve, Math.max(0, readyAt - Date.now()) + 150));
  await expect(transform(input)).resolves.toEqual({ kind: 'message', message: { text: 'loaded payment.succeeded' } });
});

test('reloads are rate-limited: until the interval has passed, no new load is tried', async () => {
  let now = 1_000_000;
  const readyAt = Date.now() + 300;
  const source = `
    if (Date.now() < ${readyAt}) throw new Error('not ready yet');
    function handler(webhook) { webhook.payload = { text: 'loaded' }; return webhook; }
  `;
  const transform = createTransform({ kind: 'code', codeId: 'r0', timeoutMs: 1000 }, userCodeRegistryFrom({ r0: source }), {
    reloadIntervalMs: 30_000,
    now: () => now,
  });
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, readyAt - Date.now()) + 150));
  // The code would load now, but the interval has not passed on the transform's clock: no load is tried.
  await expect(transform(input)).rejects.toThrow(/not ready yet/);
  now += 30_000;
  await expect(transform(input)).resolves.toEqual({ kind: 'message', message: { text: 'loaded' } });
});
