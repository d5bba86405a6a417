/**
 * The summaries' counter port and every adapter of it, held to one contract: DynamoDB's conditional
 * counters (the Lambda's, against dynalite on a table shaped like the construct's) and serve's
 * SQLite store. For the same events, whatever their order, repetition or concurrency, both give
 * exactly the totals of each webhook-id counted once (its first body), in the period of its own
 * time: the sum of what lambda/summaries/facts.ts says each event adds. A test-mode event adds
 * nothing to the figures, only one to the period's count of test-mode events left out.
 */
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import { promiseOf } from '../../lambda/shared/promise';
import { dynamoSummaryCounter, dynamoSummaryStore } from '../../lambda/summaries/dynamodb-aggregates';
import { addCounters, summaryFactsOfWebhook, TEST_LEFT_OUT, type Counters } from '../../lambda/summaries/facts';
import { startDynalite, type Dynalite } from '../support/dynalite';
import { DAY_MIX, dodoEvent, PREVIOUS_DAY } from '../support/summary-events';
import { useScratchStores } from '../support/scratch-stores';

jest.setTimeout(30_000);

interface Counter {
  count(webhook: QueuedWebhook): Promise<void>;
  totals(startMs: number, endMs: number): Promise<Counters>;
}
interface Adapter {
  readonly name: string;
  make(): Promise<Counter>;
}

let db: Dynalite;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(() => db.stop());
const scratchStore = useScratchStores();

let made = 0;
const ADAPTERS: Adapter[] = [
  {
    name: 'DynamoDB conditional counters (dynalite)',
    make: async () => {
      const table = `summaries-${++made}`;
      await db.createSummaryTable(table);
      const store = dynamoSummaryStore(db.client, table);
      return { count: dynamoSummaryCounter(db.client, table), totals: (start, end) => store.totals(start, end) };
    },
  },
  {
    name: "serve's SQLite store",
    make: () => {
      const { summaries } = scratchStore();
      return Promise.resolve({ count: (webhook) => summaries.count(webhook), totals: (start, end) => promiseOf(() => summaries.totals(start, end)) });
    },
  },
];

const queued = (id: string, envelope: { type: string }): QueuedWebhook => ({ webhookId: id, webhookTimestamp: '1764547200', eventType: envelope.type, body: JSON.stringify(envelope) });
const MIX = [...DAY_MIX, ...PREVIOUS_DAY].map(({ id, envelope }) => queued(id, envelope));
const day = (date: string) => [Date.parse(`${date}T00:00:00Z`), Date.parse(`${date}T00:00:00Z`) + 86_400_000] as const;

/** What the totals must be: each distinct webhook-id's facts once, in the period of its own time. */
function expectedTotals(webhooks: readonly QueuedWebhook[], [start, end]: readonly [number, number]): Counters {
  const first = new Map<string, QueuedWebhook>();
  for (const webhook of webhooks) if (!first.has(webhook.webhookId)) first.set(webhook.webhookId, webhook);
  let sum: Counters = {};
  for (const webhook of first.values()) {
    const facts = summaryFactsOfWebhook(webhook.body, webhook.webhookTimestamp, 0, webhook.mode);
    if (facts.occurredAtMs >= start && facts.occurredAtMs < end) sum = addCounters(sum, facts.counters);
  }
  return sum;
}

describe.each(ADAPTERS)('$name', (adapter) => {
  test('each webhook-id counts once, in its own period, whatever the order and however often it comes', async () => {
    const counter = await adapter.make();
    for (const webhook of [...MIX].reverse()) await counter.count(webhook);
    for (const webhook of MIX.slice(0, 5)) await counter.count(webhook);
    const totals = await counter.totals(...day('2026-12-01'));
    expect(totals).toEqual(expectedTotals(MIX, day('2026-12-01')));
    expect(totals).toMatchObject({ events: 12, 'pay.n|JPY': 2, 'pay.gross|JPY': 1500, 'pay.gross|KWD': 12345, 'pay.gross|EUR': 124456, 'refund.amount|EUR': 1000, 'mrr.gained|USD': 1000 });
    expect(await counter.totals(...day('2026-11-30'))).toEqual({ events: 1, 'pay.n|USD': 1, 'pay.gross|USD': 1999, 'product|USD|pdt_R8AWMPiV8RyJElcCKvAID': 1999 });
    expect(await counter.totals(...day('2026-12-02'))).toEqual({});
  });

  test('the same webhook-id counted by several consumers at once counts once', async () => {
    const counter = await adapter.make();
    await Promise.all(Array.from({ length: 8 }, () => Promise.all(MIX.map((webhook) => counter.count(webhook)))));
    expect(await counter.totals(...day('2026-12-01'))).toEqual(expectedTotals(MIX, day('2026-12-01')));
  });

  test("a re-sent webhook-id whose body changed since (Dodo sends the object's latest state) keeps its first count", async () => {
    const counter = await adapter.make();
    await counter.count(MIX[0]);
    await counter.count(queued(MIX[0].webhookId, dodoEvent('payment.succeeded', { timestamp: '2026-12-01T01:00:00.000Z', currency: 'JPY', amount: 999_999 })));
    expect(await counter.totals(...day('2026-12-01'))).toEqual(expectedTotals([MIX[0]], day('2026-12-01')));
  });

  test('a body that is not a Dodo object counts as one event at its webhook-timestamp', async () => {
    const counter = await adapter.make();
    await counter.count({ webhookId: 'msg_not_json', webhookTimestamp: String(Date.parse('2026-12-01T12:00:00Z') / 1000), eventType: 'payment.succeeded', body: 'not json' });
    expect(await counter.totals(...day('2026-12-01'))).toEqual({ events: 1 });
  });

  test('test-mode events add nothing to the figures; each webhook-id adds one to the left-out count of its own period, however often and concurrently it comes', async () => {
    const counter = await adapter.make();
    const testMode = MIX.map((webhook): QueuedWebhook => ({ ...webhook, webhookId: `test_${webhook.webhookId}`, mode: 'test' }));
    await Promise.all(Array.from({ length: 4 }, () => Promise.all([...testMode, ...MIX].map((webhook) => counter.count(webhook)))));
    for (const webhook of testMode.slice(0, 3)) await counter.count(webhook);
    const totals = await counter.totals(...day('2026-12-01'));
    // The mix has 12 events on 1 December and one on 30 November: so have their test-mode twins.
    expect(totals).toEqual({ ...expectedTotals(MIX, day('2026-12-01')), [TEST_LEFT_OUT]: 12 });
    expect(totals).toEqual(expectedTotals([...testMode, ...MIX], day('2026-12-01')));
    expect(await counter.totals(...day('2026-11-30'))).toEqual({ events: 1, 'pay.n|USD': 1, 'pay.gross|USD': 1999, 'product|USD|pdt_R8AWMPiV8RyJElcCKvAID': 1999, [TEST_LEFT_OUT]: 1 });
  });

  test('only test-mode events in a period: no figures at all, only how many were left out', async () => {
    const counter = await adapter.make();
    await counter.count({ ...MIX[0], webhookId: 'test_only', mode: 'test' });
    await counter.count({ ...MIX[0], webhookId: 'test_only', mode: 'test' });
    expect(await counter.totals(...day('2026-12-01'))).toEqual({ [TEST_LEFT_OUT]: 1 });
  });
});
