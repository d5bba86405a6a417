/**
 * The app-mode delivery policy (slack-app-delivery.ts) through the delivery core, against the Web
 * API stand-in on 127.0.0.1 and threads in serve's SQLite store (a real ThreadStore).
 */
import { compileRouteSelection } from '../../lambda/shared/route-rules';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, type LocalStore } from '../../lambda/local/store';
import { CachedSecret } from '../../lambda/shared/secret-cache';
import { promiseOf } from '../../lambda/shared/promise';
import type { RouteConfig } from '../../lambda/shared/function-env';
import type { Transform } from '../../lambda/shared/transformation';
import type { DeliveryRoute } from '../../lambda/transformer/delivery';
import { createRateLimiter } from '../../lambda/transformer/rate-limiter';
import { createTransform, createTransformFromSource } from '../../lambda/transformer/transform';
import { createSlackWebApi } from '../../lambda/transformer/slack-web-api';
import { parseSlackBotToken } from '../../lambda/transformer/slack-token';
import { compileEventGlobs } from '../../lambda/shared/event-glob';
import { processorFor } from '../support/delivery';
import { useFakeSlackApi } from '../support/fake-slack-api';
import { eventAt, PAYMENT_STORY, shownText } from '../support/slack-app-story';

const TOKEN = 'xoxb-test-0000-token';
const CHANNEL = 'C0TESTCHAN';
const api = useFakeSlackApi();
let dir: string;
let store: LocalStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dodo-app-delivery-'));
  store = openStore(dir);
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function appRoute(options: { transform?: Transform; channel?: string; broadcast?: string[]; token?: () => string } = {}): DeliveryRoute {
  const config: RouteConfig = { id: 'default', events: ['*'], slackSecretId: 'bot', slackChannelId: options.channel ?? CHANNEL, transformation: { kind: 'builtin', options: {} } };
  return {
    config,
    selection: compileRouteSelection(config),
    transform: options.transform ?? createTransform({ kind: 'builtin', options: {} }),
    slackApp: {
      token: new CachedSecret({ load: () => promiseOf(options.token ?? (() => TOKEN)), parse: parseSlackBotToken, ttlMs: 60_000, minRefreshIntervalMs: 0 }),
      channel: options.channel ?? CHANNEL,
      broadcast: compileEventGlobs(options.broadcast ?? ['dispute.*']),
    },
  };
}

function appProcessor(route: DeliveryRoute, timeoutMs = 1000) {
  return processorFor([route], {
    slackApp: {
      api: createSlackWebApi({ baseUrl: api.url, timeoutMs }),
      threads: store.threads({ ttlSeconds: 3600 }),
      tier3Limiter: createRateLimiter({ ratePerSecond: 1000, burst: 100 }),
    },
  });
}

let n = 0;
const record = (type: string, body: string, receiveCount = 1, webhookId = `msg_${++n}`) => ({
  id: webhookId,
  webhook: { webhookId, webhookTimestamp: String(Math.floor(Date.now() / 1000)), eventType: type, body },
  receiveCount,
});

test('two consumers starting the same thread at once end with one parent: the loser removes its own and joins', async () => {
  const a = appProcessor(appRoute()).processor;
  const b = appProcessor(appRoute()).processor;
  const [ra, rb] = await Promise.all([
    a.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)]),
    b.processBatch([record('refund.succeeded', PAYMENT_STORY[1].body)]),
  ]);
  expect([...ra.values(), ...rb.values()].map((o) => o.kind)).toEqual(['done', 'done']);
  const parents = api.parents(CHANNEL);
  expect(parents).toHaveLength(1);
  expect(api.replies(parents[0].ts)).toHaveLength(2);
  expect(api.count('chat.delete')).toBe(1);
  expect(shownText(parents[0])).toContain('refunded $10.00');
});

test('a user transformation chooses the thread with thread_key, or none with null; thread_key never reaches Slack', async () => {
  const transform: Transform = (input) =>
    Promise.resolve({
      kind: 'message',
      message: { text: `custom ${input.eventType}`, ...(input.eventType === 'refund.succeeded' ? { thread_key: null } : { thread_key: 'customer:cus_1' }) },
    });
  const { processor } = appProcessor(appRoute({ transform }));
  await processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)]);
  await processor.processBatch([record('dispute.opened', PAYMENT_STORY[2].body)]);
  await processor.processBatch([record('refund.succeeded', PAYMENT_STORY[1].body)]);
  const parents = api.parents(CHANNEL);
  // One custom thread (its parent a plain card for the key) and the refund on its own.
  expect(parents.map((p) => p.metadata?.event_payload.role)).toEqual(['parent', 'message']);
  expect(parents[0].metadata?.event_payload.thread_key).toBe('customer:cus_1');
  expect(api.replies(parents[0].ts).map((r) => r.text)).toEqual(['custom payment.succeeded', 'custom dispute.opened']);
  expect(api.calls.filter((c) => c.method === 'chat.postMessage').every((c) => !('thread_key' in c.args))).toBe(true);
});

test('a thread_key that is not a key is a clear, permanent error', async () => {
  const transform: Transform = () => Promise.resolve({ kind: 'message', message: { text: 'x', thread_key: 'has spaces in it' } });
  const { processor } = appProcessor(appRoute({ transform }));
  const outcome = [...(await processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)])).values()][0];
  expect(outcome).toMatchObject({ kind: 'dead-letter', reason: expect.stringMatching(/thread_key to a string that is not a key/) as unknown });
});

test('a parent deleted in Slack: the next event starts a new thread with the card so far', async () => {
  const { processor } = appProcessor(appRoute());
  await processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)]);
  api.messages.splice(0, api.messages.length);
  await processor.processBatch([record('refund.succeeded', PAYMENT_STORY[1].body)]);
  const parents = api.parents(CHANNEL);
  expect(parents).toHaveLength(1);
  expect(shownText(parents[0])).toContain('Payment succeeded');
  expect(shownText(parents[0])).toContain('refunded $10.00');
  expect(api.replies(parents[0].ts)).toHaveLength(1);
});

test('a route moved to another channel starts its threads again there', async () => {
  api.channels.add('C0OTHERCHAN');
  await appProcessor(appRoute()).processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)]);
  await appProcessor(appRoute({ channel: 'C0OTHERCHAN' })).processor.processBatch([record('refund.succeeded', PAYMENT_STORY[1].body)]);
  expect(api.parents('C0OTHERCHAN')).toHaveLength(1);
  expect(shownText(api.parents('C0OTHERCHAN')[0])).toContain('refunded $10.00');
});

test('ratelimited chat.update: retried after Retry-After (not a failure); the retry does not post the reply twice', async () => {
  const { processor } = appProcessor(appRoute());
  await processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)]);
  api.respond = (call) => (call.method === 'chat.update' ? { kind: 'answer', status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '1' } } : { kind: 'normal' });
  const first = record('refund.succeeded', PAYMENT_STORY[1].body);
  const outcome = [...(await processor.processBatch([first])).values()][0];
  expect(outcome).toMatchObject({ kind: 'retry', delaySeconds: 1, reason: expect.stringContaining('rate limit on chat.update') as unknown });
  api.respond = () => ({ kind: 'normal' });
  const again = [...(await processor.processBatch([{ ...first, receiveCount: 2 }])).values()][0];
  expect(again?.kind).toBe('done');
  expect(api.withWebhookId(first.id)).toHaveLength(1);
});

test('5xx and internal_error are retried with backoff; invalid_blocks is dead-lettered at once', async () => {
  const { processor } = appProcessor(appRoute());
  api.respond = () => ({ kind: 'answer', status: 503, body: 'upstream unavailable' });
  expect([...(await processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)])).values()][0]).toMatchObject({ kind: 'retry' });
  api.respond = () => ({ kind: 'answer', status: 200, body: { ok: false, error: 'internal_error' } });
  expect([...(await processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)])).values()][0]).toMatchObject({ kind: 'retry' });
  api.respond = () => ({ kind: 'answer', status: 200, body: { ok: false, error: 'invalid_blocks' } });
  expect([...(await processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)])).values()][0]).toMatchObject({
    kind: 'dead-letter',
    lastSlackResponse: 'chat.postMessage 200 invalid_blocks',
  });
});

test('a post with no answer that Slack does not have either is retried, and the retry looks before it posts', async () => {
  const { processor } = appProcessor(appRoute(), 300);
  // The first post never reaches Slack and gets no answer: unknown outcome, and not in the channel.
  api.respond = (call) => (call.method === 'chat.postMessage' && api.count('chat.postMessage') === 1 ? { kind: 'reset' } : { kind: 'normal' });
  const first = record('payout.success', eventAt('payout.success', '2026-03-31T06:00:02.000Z'));
  const outcome = [...(await processor.processBatch([first])).values()][0];
  expect(outcome?.kind).toBe('retry');
  const again = [...(await processor.processBatch([{ ...first, receiveCount: 2 }])).values()][0];
  expect(again?.kind).toBe('done');
  expect(api.withWebhookId(first.id).map((m) => m.metadata?.event_payload.role)).toEqual(['parent', 'reply']);
  // Looked in the channel after the lost answer; the retry looked again before posting the parent, and in the thread before the reply.
  expect(api.count('conversations.history')).toBe(2);
  expect(api.count('conversations.replies')).toBe(1);
});

test('Slack-paced posts: a channel at 1 post per second makes a new thread (parent + reply) take about a second', async () => {
  const route = appRoute();
  const { processor } = processorFor([route], {
    rateLimiter: createRateLimiter({ ratePerSecond: 1, burst: 1 }),
    slackApp: { api: createSlackWebApi({ baseUrl: api.url, timeoutMs: 1000 }), threads: store.threads({ ttlSeconds: 3600 }), tier3Limiter: createRateLimiter({ ratePerSecond: 1000, burst: 100 }) },
  });
  const started = Date.now();
  await processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)]);
  expect(Date.now() - started).toBeGreaterThanOrEqual(900);
});

test('the docs/transformations.md example runs in the sandbox and its thread_key picks the thread', async () => {
  const docs = readFileSync(join(__dirname, '../../docs/transformations.md'), 'utf8');
  const code = /## Threads in Slack app mode[\s\S]*?```js\n([\s\S]*?)```/.exec(docs)![1];
  const transform = createTransformFromSource(code, 'threads-example.js', { timeoutMs: 1000 });
  try {
    const { processor } = appProcessor(appRoute({ transform }));
    await processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)]);
    await processor.processBatch([record('refund.succeeded', PAYMENT_STORY[1].body)]);
    const parents = api.parents(CHANNEL);
    expect(parents).toHaveLength(1);
    expect(parents[0].metadata?.event_payload.thread_key).toBe('customer:cus_TV52uJWWXt2yIoBBxpjaa');
    expect(api.replies(parents[0].ts).map((r) => r.text)).toEqual(['payment.succeeded for ada@example.com', 'refund.succeeded for ada@example.com']);
  } finally {
    await transform.close();
  }
});

test('on an incoming-webhook route a thread_key is removed before posting (the webhook gets the message alone)', async () => {
  const { FakeSlack } = await import('../support/fake-slack');
  const { route } = await import('../support/delivery');
  const slack = await new FakeSlack().start();
  try {
    const transform: Transform = () => Promise.resolve({ kind: 'message', message: { text: 'hello', thread_key: 'customer:1' } });
    const { processor } = processorFor([route('Ops', () => slack.url(), { transform })]);
    await processor.processBatch([record('payment.succeeded', PAYMENT_STORY[0].body)]);
    expect(slack.requests.map((r) => r.json)).toEqual([{ text: 'hello' }]);
  } finally {
    await slack.stop();
  }
});
