import { createIdempotentRunOnce } from '../../lambda/transformer/idempotency';
import { MemoryPersistenceLayer } from '../support/memory-persistence';
import { createRateLimiter } from '../../lambda/transformer/rate-limiter';
import { createSlackClient } from '../../lambda/transformer/slack-client';
import { createRollupProcessor, parseRollupAfter, planRollups, rollupPolicy, type RollupSettings } from '../../lambda/transformer/rollup';
import { rollupCoverage } from '../../lambda/messages/templates/rollup';
import type { DeliveryRecord, RouteDone, RunOnce } from '../../lambda/transformer/delivery';
import { openStore } from '../../lambda/local/store';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answer, FakeSlack, ok } from '../support/fake-slack';
import { Recorder, route, webhook } from '../support/delivery';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import type { NameLookup } from '../../lambda/shared/ports';

const SLACK_PATH = '/services/T1/B1/rollup-secret';

describe('rollupPolicy', () => {
  test('folds when the foldable backlog at the rate would wait longer than rollupAfter', () => {
    const policy = rollupPolicy({ rollupAfterSeconds: 30 });
    expect(policy.shouldFold(30, 1)).toBe(false);
    expect(policy.shouldFold(31, 1)).toBe(true);
    expect(policy.shouldFold(31, 2)).toBe(false);
    expect(policy.shouldFold(1, 0.01)).toBe(false); // one event is never a roll-up
  });
  test('disputes, payout failures and the user globs never fold; 0 turns roll-ups off', () => {
    const policy = rollupPolicy({ neverFold: ['subscription.on_hold', 'refund.*'] });
    expect(['dispute.opened', 'dispute.lost', 'payout.failed', 'subscription.on_hold', 'refund.succeeded'].filter((type) => policy.isFoldable(type))).toEqual([]);
    expect(['payment.succeeded', 'payment.failed', 'payout.created'].every((type) => policy.isFoldable(type))).toBe(true);
    const off = rollupPolicy({ rollupAfterSeconds: 0 });
    expect(off.enabled).toBe(false);
    expect(off.shouldFold(10_000, 1)).toBe(false);
    expect(off.isFoldable('payment.succeeded')).toBe(false);
  });
  test('parseRollupAfter', () => {
    expect(parseRollupAfter('30')).toBe(30);
    expect(parseRollupAfter('off')).toBe(0);
    expect(parseRollupAfter('0')).toBe(0);
    expect(parseRollupAfter('2.5')).toBe(2.5);
    expect(parseRollupAfter('-1')).toBeUndefined();
    expect(parseRollupAfter('soon')).toBeUndefined();
  });
});

describe('roll-up delivery', () => {
  const slack = new FakeSlack();
  beforeAll(() => slack.start());
  afterAll(() => slack.stop());
  beforeEach(() => {
    slack.requests.length = 0;
    slack.respond = () => ok;
  });

  function setup(options: { runOnce?: RunOnce; settings?: RollupSettings; routes?: ReturnType<typeof route>[]; countForSummaries?: (webhook: QueuedWebhook) => Promise<void>; names?: NameLookup } = {}) {
    const recorder = new Recorder();
    const runOnce = options.runOnce ?? createIdempotentRunOnce({ persistenceStore: new MemoryPersistenceLayer(), expiresAfterSeconds: 3600, inProgressTimeoutMs: 10_000 }).runOnce;
    const processor = createRollupProcessor({
      routes: options.routes ?? [route('default', () => slack.url(SLACK_PATH))],
      policy: rollupPolicy({ rollupAfterSeconds: 1, ...options.settings }),
      runOnce,
      postToSlack: createSlackClient({ timeoutMs: 500 }),
      rateLimiter: createRateLimiter({ ratePerSecond: 1000, burst: 10 }),
      logger: recorder,
      metrics: recorder,
      ...(options.countForSummaries ? { countForSummaries: options.countForSummaries } : {}),
      ...(options.names ? { names: options.names } : {}),
    });
    return { processor, recorder, runOnce };
  }
  const records = (count: number, type = 'payment.succeeded'): DeliveryRecord[] =>
    Array.from({ length: count }, (_, i) => ({ id: String(i), webhook: webhook(type), receiveCount: 1 }));

  test('one message covers every claimed event; re-sent ids post nothing and count as duplicates', async () => {
    const { processor, recorder, runOnce } = setup();
    const batch = records(40);
    const outcome = await processor.deliver('default', batch);
    expect(outcome).toMatchObject({ kind: 'posted', duplicates: [], elsewhere: [] });
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0].json.text).toMatch(/^40 events /);
    expect(rollupCoverage(slack.requests[0].json)?.sort()).toEqual(batch.map((r) => r.webhook.webhookId).sort());
    expect(recorder.metric('EventsRolledUp')).toBe(40);

    const again = await processor.deliver('default', batch);
    expect(again).toMatchObject({ kind: 'not-posted', retryable: false, released: [] });
    expect(again.duplicates).toHaveLength(40);
    expect(slack.requests).toHaveLength(1);
    // A single delivery of a covered key is a duplicate too: never both.
    let ran = false;
    const single = await runOnce(`default:${batch[0].webhook.webhookId}`, () => ((ran = true), Promise.resolve('delivered')));
    expect(single.duplicate).toBe(true);
    expect(ran).toBe(false);
  });

  test("with names, the roll-up's listed payments say what they were for; live mode, products only, one look-up per roll-up", async () => {
    const asked: unknown[] = [];
    const names: NameLookup = { timeLimitMs: 1500, find: (wanted, mode) => (asked.push({ wanted, mode }), Promise.resolve({ products: { pdt_R8AWMPiV8RyJElcCKvAID: 'Pro plan' } })) };
    const { processor } = setup({ names });
    expect(await processor.deliver('default', records(5))).toMatchObject({ kind: 'posted' });
    expect(slack.requests[0].body).toContain('Pro plan');
    expect(asked).toEqual([{ wanted: { productIds: ['pdt_R8AWMPiV8RyJElcCKvAID'], paymentIds: [] }, mode: 'live' }]);
  });

  test('a failed roll-up keeps no record: the retry covers the same events as a whole', async () => {
    const { processor } = setup();
    const batch = records(5);
    slack.respond = () => answer(503, 'service_unavailable');
    const failed = await processor.deliver('default', batch);
    expect(failed).toMatchObject({ kind: 'not-posted', retryable: true });
    if (failed.kind === 'not-posted') expect(failed.released).toHaveLength(5);
    slack.respond = () => ok;
    const retried = await processor.deliver('default', batch);
    expect(retried.kind).toBe('posted');
    if (retried.kind === 'posted') expect(retried.covered).toHaveLength(5);
    expect(slack.requests).toHaveLength(2);
    expect(slack.requests[1].json.text).toMatch(/^5 events /);
  });

  test('429 pauses and is retryable; 400 is not (the events go out singly)', async () => {
    const { processor } = setup();
    slack.respond = () => answer(429, 'rate_limited', { 'retry-after': '3' });
    expect(await processor.deliver('default', records(3))).toMatchObject({ kind: 'not-posted', retryable: true, retryAfterSeconds: 3 });
    const other = setup();
    slack.respond = () => answer(400, 'invalid_payload');
    expect(await other.processor.deliver('default', records(3))).toMatchObject({ kind: 'not-posted', retryable: false, lastSlackResponse: '400 invalid_payload' });
  });

  test('an event in progress elsewhere is left out of the roll-up (and retried later); one left is no roll-up', async () => {
    const { processor, runOnce } = setup();
    const batch = records(3);
    let release!: () => void;
    const held = runOnce(`default:${batch[0].webhook.webhookId}`, () => new Promise<RouteDone>((resolve) => (release = () => resolve('delivered'))));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const outcome = await processor.deliver('default', batch);
    expect(outcome.kind).toBe('posted');
    expect(outcome.elsewhere).toEqual([batch[0].webhook.webhookId]);
    if (outcome.kind === 'posted') expect([...outcome.covered].sort()).toEqual([batch[1].webhook.webhookId, batch[2].webhook.webhookId].sort());
    expect(slack.requests[0].json.text).toMatch(/^2 events /);
    release();
    await held;

    const two = records(2);
    await runOnce(`default:${two[0].webhook.webhookId}`, () => Promise.resolve('delivered'));
    const lonely = await processor.deliver('default', two);
    expect(lonely).toMatchObject({ kind: 'not-posted', retryable: false, released: [two[1].webhook.webhookId] });
    // Released: its single delivery can run.
    expect((await runOnce(`default:${two[1].webhook.webhookId}`, () => Promise.resolve('delivered'))).duplicate).toBe(false);
  });

  test('the same claims on serve\'s SQLite store: posted completes, failed removes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rollup-store-'));
    const store = openStore(dir);
    try {
      const { runOnce } = store.runOnce({ deduplicationWindowSeconds: 3600, inProgressTimeoutMs: 10_000 });
      const { processor } = setup({ runOnce });
      const dedupStatus = (key: string): string | undefined => {
        const db = new Database(store.file, { readonly: true });
        try {
          return (db.prepare('SELECT status FROM dedup WHERE key = ?').get(key) as { status: string } | undefined)?.status;
        } finally {
          db.close();
        }
      };
      const batch = records(4);
      slack.respond = () => answer(500, 'oops');
      await processor.deliver('default', batch);
      expect(batch.map((r) => dedupStatus(`default:${r.webhook.webhookId}`))).toEqual([undefined, undefined, undefined, undefined]);
      slack.respond = () => ok;
      expect((await processor.deliver('default', batch)).kind).toBe('posted');
      expect(batch.every((r) => dedupStatus(`default:${r.webhook.webhookId}`) === 'completed')).toBe(true);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with summaries (AWS), every event a roll-up covers is counted before the post; a failed count hands the events to the single path at once', async () => {
    const counted: string[] = [];
    let failCounting = false;
    const { processor } = setup({
      countForSummaries: (queued) => {
        if (failCounting) return Promise.reject(new Error('ProvisionedThroughputExceededException'));
        counted.push(queued.webhookId);
        return Promise.resolve();
      },
    });
    const batch = records(6);
    failCounting = true;
    // Not retryable: the roll-up is not tried again with backoff, the events go out one by one now
    // (where a failed count never holds the post back).
    expect(await processor.deliver('default', batch)).toMatchObject({ kind: 'not-posted', retryable: false, released: [] });
    expect(slack.requests).toHaveLength(0);
    failCounting = false;
    // A redelivery of the same id in the batch is counted once (the counter itself is once per webhook-id, too).
    expect(await processor.deliver('default', [...batch, { ...batch[0], id: 'again' }])).toMatchObject({ kind: 'posted' });
    expect(counted.sort()).toEqual(batch.map((r) => r.webhook.webhookId).sort());
    expect(slack.requests).toHaveLength(1);
  });

  test('planRollups never folds a precomposed record (a scheduled summary), whatever its route takes', () => {
    const { processor } = setup({ settings: { rollupAfterSeconds: 1 } });
    const summaries: DeliveryRecord[] = records(5).map((record) => ({ ...record, webhook: { ...record.webhook, eventType: 'dodo_slack.summary', precomposed: true as const } }));
    expect(planRollups(processor, summaries, 1)).toEqual([]);
    const mixed = planRollups(processor, [...summaries, ...records(5)], 1);
    expect(mixed).toHaveLength(1);
    expect(mixed[0].records.every((record) => !record.webhook.precomposed)).toBe(true);
  });

  test('planRollups: only foldable events of built-in routes, when the backlog predicts a wait, in chunks', () => {
    const codeRoute = route('code', () => slack.url(SLACK_PATH));
    const { processor } = setup({
      settings: { rollupAfterSeconds: 2, maxEvents: 4 },
      routes: [route('default', () => slack.url(SLACK_PATH)), { ...codeRoute, config: { ...codeRoute.config, transformation: { kind: 'code', codeId: 'x', timeoutMs: 100 } } }],
    });
    const batch = [...records(9), ...records(2, 'dispute.opened')];
    const plan = planRollups(processor, batch, 1);
    expect(plan.map((p) => [p.routeId, p.records.length])).toEqual([
      ['default', 4],
      ['default', 4],
    ]);
    // 9 at 1/s > 2 s: the ninth is left alone (a one-event chunk is no roll-up); disputes never fold; the code route never folds.
    expect(planRollups(processor, records(2), 1)).toEqual([]);
    expect(planRollups(processor, records(3), 1)).toHaveLength(1);
  });
});
