/**
 * Test-mode events through the pipeline both engines run: every route's message is marked TEST
 * after its transformation, whatever the route's kind (built-in templates, dashboard code, app
 * mode's card and reply); live events are posted as before; a test-mode event is never folded
 * into a roll-up, so it keeps its own marked message.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { QueuedWebhook, WebhookMode } from '../../lambda/shared/webhook';
import type { RouteConfig } from '../../lambda/shared/function-env';
import type { SlackMessage } from '../../lambda/shared/transformation';
import { createPipeline, type PipelinePorts } from '../../lambda/transformer/pipeline';
import { planRollups } from '../../lambda/transformer/rollup';
import type { DeliveryRecord } from '../../lambda/transformer/delivery';
import type { SlackApiMethod } from '../../lambda/transformer/slack-web-api';
import { userCodeRegistryFrom } from '../../lambda/sandbox/registry';
import { TEST_MODE_BLOCK, TEST_MODE_BLOCK_ID } from '../../lambda/messages/test-mode';
import { Recorder } from '../support/delivery';

const body = readFileSync(path.join(__dirname, '../fixtures/dodo/payment.succeeded.json'), 'utf8');
const webhook = (id: string, mode?: WebhookMode): QueuedWebhook => ({ webhookId: id, webhookTimestamp: '1700000000', eventType: 'payment.succeeded', body, ...(mode ? { mode } : {}) });
const builtin = { kind: 'builtin' as const, options: {} };
const routes: RouteConfig[] = [
  { id: 'hooks', events: ['*'], slackSecretId: 'HOOKS_URL', transformation: builtin },
  { id: 'code', events: ['payment.*'], slackSecretId: 'CODE_URL', transformation: { kind: 'code', codeId: 'sales.js', timeoutMs: 1000 } },
  { id: 'app', events: ['payment.*'], slackSecretId: 'APP_TOKEN', slackChannelId: 'C0123456789', transformation: builtin },
];
const SECRETS: Record<string, string> = {
  HOOKS_URL: 'http://127.0.0.1:9/services/T/B/HOOKS',
  CODE_URL: 'http://127.0.0.1:9/services/T/B/CODE',
  APP_TOKEN: 'xoxb-1234567890-1234567890123-abcdefghijklmnopqrstuvwx',
};
const dashboardCode = 'function handler(webhook) { webhook.payload = { text: "paid " + webhook.payload.data.payment_id }; return webhook; }';

function pipeline() {
  const posted: { url: string; message: SlackMessage }[] = [];
  const appCalls: { method: SlackApiMethod; args: Readonly<Record<string, unknown>> }[] = [];
  const counted: QueuedWebhook[] = [];
  const done = new Map<string, 'delivered' | 'skipped'>();
  const recorder = new Recorder();
  let ts = 0;
  const ports: PipelinePorts = {
    runOnce: async (key, fn) => {
      const stored = done.get(key);
      if (stored) return { value: stored, duplicate: true };
      const value = await fn();
      done.set(key, value);
      return { value, duplicate: false };
    },
    secrets: { load: (id) => Promise.resolve(SECRETS[id]), minRefreshIntervalMs: 0 },
    threads: { get: () => Promise.resolve(undefined), create: () => Promise.resolve(true), replace: () => Promise.resolve(true) },
    userCode: userCodeRegistryFrom({ 'sales.js': dashboardCode }),
    postToSlack: (url, message) => (posted.push({ url, message }), Promise.resolve({ kind: 'response', status: 200, body: 'ok' })),
    slackWebApi: { call: (_token, method, args) => (appCalls.push({ method, args }), Promise.resolve({ kind: 'response', status: 200, ok: true, data: { ts: `1700000000.00000${++ts}` } })) },
    countForSummaries: (queued) => (counted.push(queued), Promise.resolve()),
    logger: recorder,
    metrics: recorder,
  };
  const built = createPipeline(routes, ports, { maxReceiveCount: 3, allowInsecureLocalhostSlack: true, deliveryRatePerSecond: 1000, deliveryBurst: 1000, rollupAfterSeconds: 1 });
  return { ...built, posted, appCalls, counted };
}

const text = (message: { text?: unknown }) => String(message.text);

test('a test-mode event: every route posts its message marked TEST, built-in, user code and app mode alike', async () => {
  const { processor, posted, appCalls, counted } = pipeline();
  const outcome = (await processor.processBatch([{ id: 'r', webhook: webhook('msg_test_1', 'test'), receiveCount: 1 }])).get('r');
  expect(outcome).toMatchObject({ kind: 'done' });

  const byUrl = new Map(posted.map((entry) => [entry.url, entry.message]));
  const hooks = byUrl.get(SECRETS.HOOKS_URL)!;
  expect(hooks.text).toMatch(/^\[TEST\] /);
  expect(hooks.attachments?.[0].blocks?.[0]).toEqual(TEST_MODE_BLOCK);
  const code = byUrl.get(SECRETS.CODE_URL)!;
  expect(code.text).toMatch(/^\[TEST\] paid pay_/);

  // App mode: the thread's card (the parent) and the event's reply are both marked.
  const postMessages = appCalls.filter((call) => call.method === 'chat.postMessage').map((call) => call.args);
  expect(postMessages).toHaveLength(2);
  for (const args of postMessages) expect(text(args)).toMatch(/^\[TEST\] /);
  expect((postMessages[0].attachments as { blocks?: { block_id?: string }[] }[])[0].blocks?.[0].block_id).toBe(TEST_MODE_BLOCK_ID);

  // The counter port is told the mode (it leaves test events out of the summaries' figures).
  expect(counted.map((queued) => queued.mode)).toEqual(['test']);
});

test('a live event (and one queued before modes existed) is posted unmarked, as before', async () => {
  for (const mode of ['live', undefined] as const) {
    const { processor, posted, appCalls } = pipeline();
    await processor.processBatch([{ id: 'r', webhook: webhook(`msg_live_${mode ?? 'none'}`, mode), receiveCount: 1 }]);
    expect(posted).toHaveLength(2);
    for (const { message } of posted) {
      expect(message.text).not.toContain('TEST');
      expect(JSON.stringify(message)).not.toContain(TEST_MODE_BLOCK_ID);
    }
    for (const call of appCalls.filter((c) => c.method === 'chat.postMessage')) expect(text(call.args)).not.toContain('TEST');
  }
});

test('the marked message differs from the live one only by the marker', async () => {
  const live = pipeline();
  const test = pipeline();
  await live.processor.processBatch([{ id: 'r', webhook: webhook('msg_same'), receiveCount: 1 }]);
  await test.processor.processBatch([{ id: 'r', webhook: webhook('msg_same', 'test'), receiveCount: 1 }]);
  const liveHooks = live.posted.find((entry) => entry.url === SECRETS.HOOKS_URL)!.message;
  const testHooks = test.posted.find((entry) => entry.url === SECRETS.HOOKS_URL)!.message;
  expect(testHooks.text).toBe(`[TEST] ${liveHooks.text}`);
  expect(testHooks.attachments?.[0].blocks?.slice(1)).toEqual(liveHooks.attachments?.[0].blocks);
});

test('roll-ups: a test-mode event is never folded; it keeps its own marked message between the roll-ups', () => {
  const { rollups } = pipeline();
  const records = (count: number, prefix: string, mode?: WebhookMode): DeliveryRecord[] =>
    Array.from({ length: count }, (_, i) => ({ id: `${prefix}${i}`, webhook: webhook(`msg_${prefix}${i}`, mode), receiveCount: 1 }));
  expect(planRollups(rollups, records(10, 't', 'test'), 1)).toEqual([]);
  const plan = planRollups(rollups, [...records(10, 't', 'test'), ...records(5, 'l')], 1);
  expect(plan).toHaveLength(1);
  expect(plan[0].records.map((record) => record.id)).toEqual(['l0', 'l1', 'l2', 'l3', 'l4']);
});
