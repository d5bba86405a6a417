/**
 * createPipeline decides what a route does, for both engines: its transformation's kind comes from
 * the transformation it has, app-mode and user-code routes never fold, the settings users set are
 * held to the one set of limits, and the retry timing follows the engine's backoff.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import type { RouteConfig } from '../../lambda/shared/function-env';
import { Limits } from '../../lambda/shared/limits';
import { createPipeline, longestDeliveryMs, PipelineConfigurationError, type PipelinePorts, type PipelineSettings } from '../../lambda/transformer/pipeline';
import type { SlackPostResult } from '../../lambda/transformer/slack-client';
import { userCodeRegistryFrom } from '../../lambda/sandbox/registry';
import { UserCodeLoadError } from '../../lambda/sandbox/harness';
import { userCodeWorstCaseMs } from '../../lambda/sandbox/runner';
import { Recorder } from '../support/delivery';

const body = readFileSync(path.join(__dirname, '../fixtures/dodo/payment.succeeded.json'), 'utf8');
const webhook = (id: string): QueuedWebhook => ({ webhookId: id, webhookTimestamp: '1700000000', eventType: 'payment.succeeded', body });
const builtin = { kind: 'builtin' as const, options: {} };
const hooks: RouteConfig = { id: 'hooks', events: ['*'], slackSecretId: 'HOOKS_URL', transformation: builtin };

/** Ports with an in-process RunOnce that remembers completed keys (the contract suites test the real adapters). */
function ports(overrides: Partial<PipelinePorts> = {}): PipelinePorts {
  const done = new Map<string, 'delivered' | 'skipped'>();
  const recorder = new Recorder();
  return {
    runOnce: async (key, fn) => {
      const stored = done.get(key);
      if (stored) return { value: stored, duplicate: true };
      const value = await fn();
      done.set(key, value);
      return { value, duplicate: false };
    },
    secrets: { load: () => Promise.resolve('http://127.0.0.1:9/services/T/B/X'), minRefreshIntervalMs: 0 },
    threads: { get: () => Promise.resolve(undefined), create: () => Promise.resolve(true), replace: () => Promise.resolve(true) },
    logger: recorder,
    metrics: recorder,
    ...overrides,
  };
}

function answering(result: SlackPostResult, settings: Partial<PipelineSettings> = {}) {
  return createPipeline([hooks], ports({ postToSlack: () => Promise.resolve(result) }), { maxReceiveCount: 5, deliveryRatePerSecond: 1000, deliveryBurst: 1000, allowInsecureLocalhostSlack: true, ...settings });
}

describe('retry timing is the engine\'s backoff, doubling; a 429 waits what Slack said', () => {
  test.each([
    [1, 0.25],
    [2, 0.5],
    [3, 1],
  ])('a 500 on attempt %i is retried after %f s (sub-second steps kept)', async (receiveCount, expected) => {
    const { processor } = answering({ kind: 'response', status: 500, body: 'rollup_error' }, { baseBackoffSeconds: 0.25 });
    const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook(`msg_${receiveCount}`), receiveCount }]);
    expect(outcomes.get('r')).toMatchObject({ kind: 'retry', delaySeconds: expected, reason: 'Slack answered 500 rollup_error' });
  });

  test("a 429 is retried after Slack's Retry-After, not the backoff", async () => {
    const { processor } = answering({ kind: 'response', status: 429, body: 'rate_limited', retryAfterSeconds: 3 }, { baseBackoffSeconds: 0.25 });
    const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook('msg_429'), receiveCount: 1 }]);
    expect(outcomes.get('r')).toMatchObject({ kind: 'retry', delaySeconds: 3 });
  });

  test('the default backoff is 30 s, as on AWS', async () => {
    const { processor, settings } = answering({ kind: 'response', status: 503, body: 'busy' });
    expect(settings.baseBackoffSeconds).toBe(30);
    expect((await processor.processBatch([{ id: 'r', webhook: webhook('msg_503'), receiveCount: 1 }])).get('r')).toMatchObject({ kind: 'retry', delaySeconds: 30 });
  });
});

/** A queued event of this type (the fold decisions read only its type, mode and body). */
const webhookOf = (eventType: string): QueuedWebhook => ({ webhookId: `msg_${eventType}`, webhookTimestamp: '1765000000', eventType, body: '{}' });

describe('what may fold is decided by the route, whichever engine runs it', () => {
  const dashboardCode = 'function handler(webhook) { webhook.payload = { text: "paid " + webhook.payload.data.payment_id }; return webhook; }';
  const routes: RouteConfig[] = [
    hooks,
    { id: 'app', events: ['subscription.*'], slackSecretId: 'APP_TOKEN', slackChannelId: 'C0123456789', transformation: builtin },
    { id: 'code', events: ['payment.*'], slackSecretId: 'CODE_URL', transformation: { kind: 'code', codeId: 'sales.js', timeoutMs: 1000 } },
    { id: 'risk', events: ['dispute.*'], slackSecretId: 'RISK_URL', transformation: builtin },
  ];
  const posted: string[] = [];
  const { rollups, processor } = createPipeline(routes, ports({ userCode: userCodeRegistryFrom({ 'sales.js': dashboardCode }), postToSlack: (_url, message) => (posted.push(message.text), Promise.resolve({ kind: 'response', status: 200, body: 'ok' })) }), { maxReceiveCount: 3, allowInsecureLocalhostSlack: true, deliveryRatePerSecond: 1000, deliveryBurst: 1000 });

  test('incoming-webhook routes with the built-in templates fold; an app-mode route (threads) and a user-code route never do', () => {
    expect(rollups.matchingRoutes(webhookOf('payment.succeeded')).map((route) => route.id)).toEqual(['hooks', 'code']);
    expect(rollups.foldingRoutes(webhookOf('subscription.renewed')).map((route) => route.id)).toEqual(['hooks']);
    expect(rollups.foldingRoutes(webhookOf('payment.succeeded')).map((route) => route.id)).toEqual(['hooks']);
    // Never-fold types keep their own messages on every route.
    expect(rollups.foldingRoutes(webhookOf('dispute.opened'))).toEqual([]);
  });

  test('an incoming-webhook URL on http://127.0.0.1 is refused unless the engine allows it (serve, stand-ins)', async () => {
    const strict = createPipeline([hooks], ports({ postToSlack: () => Promise.resolve({ kind: 'response', status: 200, body: 'ok' }) }), { maxReceiveCount: 3 });
    expect((await strict.processor.processBatch([{ id: 'r', webhook: webhook('msg_http'), receiveCount: 1 }])).get('r')).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/https/) as unknown });
  });

  test("every route that takes the event gets it, a user-code route's message from its code", async () => {
    const outcome = (await processor.processBatch([{ id: 'r', webhook: webhook('msg_code'), receiveCount: 1 }])).get('r');
    expect(outcome).toMatchObject({ kind: 'done' });
    expect(outcome).toMatchObject({ routes: [{ routeId: 'hooks', result: 'delivered' }, { routeId: 'code', result: 'delivered' }] });
    expect(posted).toContain(`paid ${(JSON.parse(body) as { data: { payment_id: string } }).data.payment_id}`);
  });
});

describe('settings', () => {
  test('defaults come from Defaults; what users set is held to Limits, every problem named at once', () => {
    expect(answering({ kind: 'response', status: 200, body: 'ok' }, {}).settings).toMatchObject({ slackTimeoutMs: 5000, rollupAfterSeconds: 30, secretCacheTtlSeconds: 300 });
    expect(() => answering({ kind: 'response', status: 200, body: 'ok' }, { deliveryRatePerSecond: 0, deliveryBurst: 1.5, rollupAfterSeconds: Limits.rollupAfterSeconds.max + 1 })).toThrow(
      new PipelineConfigurationError(
        'pipeline settings: deliveryRatePerSecond must be more than 0 and at most 1000 messages per second, got 0; deliveryBurst must be a whole number from 1 to 1000 messages, got 1.5; rollupAfterSeconds must be a number from 0 to 86400 seconds, got 86401',
      ),
    );
    expect(() => createPipeline([hooks], ports(), { maxReceiveCount: 0 })).toThrow(/maxReceiveCount must be a whole number from 1 to 1000 attempts, got 0/);
  });

  test('an app-mode route needs a thread store', () => {
    const app: RouteConfig = { id: 'app', events: ['*'], slackSecretId: 'T', slackChannelId: 'C0123456789', transformation: builtin };
    expect(() => createPipeline([app], { ...ports(), threads: undefined }, { maxReceiveCount: 3 })).toThrow(/app mode.*no thread store/);
  });

  test('user code that does not load: the workbench hears it at start with file and line; Lambda retries its events', async () => {
    const broken: RouteConfig = { id: 'code', events: ['*'], slackSecretId: 'X', transformation: { kind: 'code', codeId: 'broken.js', timeoutMs: 1000 } };
    const userCode = userCodeRegistryFrom({ 'broken.js': 'throw new Error("boom at load");\nfunction handler(w) { return w; }\n//# sourceURL=broken.js\n' });
    expect(() => createPipeline([broken], ports({ userCode }), { maxReceiveCount: 3, userCodeLoadFailure: 'throw' })).toThrow(UserCodeLoadError);
    expect(() => createPipeline([broken], ports({ userCode }), { maxReceiveCount: 3, userCodeLoadFailure: 'throw' })).toThrow(/broken\.js:1/);
    const { processor } = createPipeline([broken], ports({ userCode }), { maxReceiveCount: 3 });
    expect((await processor.processBatch([{ id: 'r', webhook: webhook('msg_broken'), receiveCount: 1 }])).get('r')).toMatchObject({ kind: 'retry', reason: expect.stringContaining('could not be loaded') as unknown });
  });

  test('the longest delivery is the worst user code of any route plus every Slack call it may make', () => {
    expect(longestDeliveryMs([hooks], 5000)).toBe(5000);
    const code: RouteConfig = { id: 'code', events: ['*'], slackSecretId: 'X', transformation: { kind: 'code', codeId: 'c', timeoutMs: 2000 } };
    expect(longestDeliveryMs([hooks, code], 5000)).toBe(userCodeWorstCaseMs(2000) + 5000);
    // App mode: two posts, each with a lookup before and after, and a card update.
    const app: RouteConfig = { id: 'app', events: ['*'], slackSecretId: 'T', slackChannelId: 'C0123456789', transformation: builtin };
    expect(longestDeliveryMs([hooks, app], 5000)).toBe(7 * 5000);
  });
});

describe('routing rules apply before the transformation and before roll-ups', () => {
  const payment = (id: string, amount: number): QueuedWebhook => {
    const parsed = JSON.parse(body) as { data: Record<string, unknown> };
    return { webhookId: id, webhookTimestamp: '1700000000', eventType: 'payment.succeeded', body: JSON.stringify({ ...parsed, data: { ...parsed.data, total_amount: amount } }) };
  };
  const big: RouteConfig = { id: 'big', events: ['payment.*'], slackSecretId: 'BIG_URL', transformation: builtin, filter: { 'data.total_amount': { $gte: 50_000 } }, mentions: [{ mention: '@here', filter: { 'data.total_amount': { $gte: 100_000 } } }] };
  const liveOnly: RouteConfig = { id: 'live', events: ['*'], slackSecretId: 'LIVE_URL', transformation: builtin, modes: ['live'] };

  function pipeline() {
    const posted: { url: string; text: string }[] = [];
    const built = createPipeline(
      [big, liveOnly],
      ports({
        secrets: { load: (name) => Promise.resolve(`http://127.0.0.1:9/services/T/B/${name}`), minRefreshIntervalMs: 0 },
        postToSlack: (url, message) => (posted.push({ url, text: message.text }), Promise.resolve({ kind: 'response', status: 200, body: 'ok' })),
      }),
      { maxReceiveCount: 3, allowInsecureLocalhostSlack: true, deliveryRatePerSecond: 1000, deliveryBurst: 1000 },
    );
    return { ...built, posted };
  }

  test('routesTaking and the processor agree: filter and modes decide, mentions follow their own filter', async () => {
    const { processor, routesTaking, posted } = pipeline();
    expect(routesTaking(payment('a', 2_999)).map((route) => route.id)).toEqual(['live']);
    expect(routesTaking(payment('b', 150_000)).map((route) => route.id)).toEqual(['big', 'live']);
    expect(routesTaking({ ...payment('c', 150_000), mode: 'test' }).map((route) => route.id)).toEqual(['big']);
    const outcomes = await processor.processBatch([
      { id: '1', webhook: payment('a', 2_999), receiveCount: 1 },
      { id: '2', webhook: payment('b', 60_000), receiveCount: 1 },
      { id: '3', webhook: { ...payment('c', 150_000), mode: 'test' }, receiveCount: 1 },
      { id: '4', webhook: payment('d', 150_000), receiveCount: 1 },
    ]);
    expect([...outcomes.values()].map((outcome) => (outcome.kind === 'done' ? outcome.routes.map((route) => route.routeId) : outcome.kind))).toEqual([['live'], ['big', 'live'], ['big'], ['big', 'live']]);
    expect(posted.map((post) => [post.url.split('/').pop(), post.text.startsWith('<!here> ')])).toEqual([
      ['LIVE_URL', false],
      ['BIG_URL', false],
      ['LIVE_URL', false],
      // A test payment is marked and pages nobody.
      ['BIG_URL', false],
      ['BIG_URL', true],
      ['LIVE_URL', false],
    ]);
    expect(posted[3].text).toMatch(/^\[TEST\] /);
  });

  test('a record for one route (serve keeps one per route) goes to that route only; a route no longer configured is a dead letter with its reason', async () => {
    const { processor, posted } = pipeline();
    const outcomes = await processor.processBatch([
      { id: '1', webhook: payment('d', 150_000), receiveCount: 1, routeId: 'live' },
      { id: '2', webhook: payment('e', 150_000), receiveCount: 1, routeId: 'gone' },
    ]);
    expect(outcomes.get('1')).toEqual({ kind: 'done', routes: [{ routeId: 'live', result: 'delivered' }] });
    expect(outcomes.get('2')).toMatchObject({ kind: 'dead-letter', routeId: 'gone', reason: expect.stringContaining('route "gone", which this configuration does not have') as unknown });
    expect(posted.map((post) => post.url.split('/').pop())).toEqual(['LIVE_URL']);
  });

  test('a roll-up covers only the events its route takes, and carries the mentions any of them earns', async () => {
    const { rollups, posted } = pipeline();
    const records = [payment('f', 2_999), payment('g', 60_000), payment('h', 70_000), payment('i', 120_000)].map((webhook, index) => ({ id: String(index), webhook, receiveCount: 1 }));
    expect(records.filter((record) => rollups.foldingRoutes(record.webhook).some((route) => route.id === 'big')).map((record) => record.webhook.webhookId)).toEqual(['g', 'h', 'i']);
    const outcome = await rollups.deliver('big', records);
    expect(outcome).toMatchObject({ kind: 'posted', covered: ['g', 'h', 'i'] });
    expect(posted).toHaveLength(1);
    expect(posted[0].text).toMatch(/^<!here> 3 events rolled up/);
  });
});
