/**
 * The Lambda path of the summaries against a real DynamoDB implementation (dynalite), not a mock:
 * the transformer's delivery core counts each webhook-id once with one conditional UpdateItem, the
 * summary function composes, records and queues the summary once, and the queued summary is
 * delivered by the same delivery core to a Slack stand-in.
 */
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { fromSqsRecord, toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import { dynamoSummaryCounter, dynamoSummaryStore, dynamoUncountedMarker, markerName, slotKey } from '../../lambda/summaries/dynamodb-aggregates';
import { buildSummaryMessage } from '../../lambda/summaries/message';
import { parseCalendarDate, periodOf } from '../../lambda/summaries/period';
import { runScheduledSummary } from '../../lambda/summaries/scheduled';
import { FakeSlack } from '../support/fake-slack';
import { processorFor, route } from '../support/delivery';
import { startDynalite, type Dynalite } from '../support/dynalite';
import { DAY_MIX, dodoEvent, PREVIOUS_DAY } from '../support/summary-events';
import { createTransform } from '../../lambda/transformer/transform';

let db: Dynalite;
let slack: FakeSlack;
let table: string;
let tables = 0;
beforeAll(async () => {
  db = await startDynalite();
  slack = await new FakeSlack().start();
});
afterAll(async () => {
  await db.stop();
  await slack.stop();
});
beforeEach(async () => {
  table = `summaries-${++tables}`;
  await db.createSummaryTable(table);
  slack.requests.length = 0;
});

const queued = (id: string, envelope: { type: string }): QueuedWebhook => ({ webhookId: id, webhookTimestamp: '1764547200', eventType: envelope.type, body: JSON.stringify(envelope) });
/** The parts of a queued summary's body these tests read: the precomposed message, its last block's text. */
type SummaryBody = { readonly message: { readonly text: string; readonly attachments: { readonly blocks: { readonly elements: { readonly text: string }[] }[] }[] } };
const summaryBody = (webhook: QueuedWebhook) => JSON.parse(webhook.body) as SummaryBody;
const day = (date: string) => ({ start: Date.parse(`${date}T00:00:00Z`), end: Date.parse(`${date}T00:00:00Z`) + 86_400_000 });

function pipeline() {
  const builtin = createTransform({ kind: 'builtin', options: {} });
  const { processor, recorder } = processorFor([route('default', () => slack.url(), { transform: builtin })], {
    countForSummaries: dynamoSummaryCounter(db.client, table),
  });
  let n = 0;
  const deliver = async (webhooks: readonly QueuedWebhook[], receiveCount = 1) =>
    processor.processBatch(webhooks.map((webhook) => ({ id: `r${++n}`, webhook, receiveCount })));
  return { deliver, recorder };
}

test('each webhook-id is counted once: Dodo retries, SQS redelivery, concurrent consumers, out of order', async () => {
  const { deliver } = pipeline();
  const mix = [...DAY_MIX, ...PREVIOUS_DAY].map(({ id, envelope }) => queued(id, envelope));
  await deliver([...mix].reverse()); // out of order
  await deliver(mix.slice(0, 5), 2); // SQS redelivery / a redrive
  await Promise.all([deliver(mix.slice(5)), deliver(mix.slice(5))]); // two consumers at once
  // A Dodo retry whose body changed since (data is the latest state): the first one counted stays.
  await deliver([queued('msg_jpy1', dodoEvent('payment.succeeded', { timestamp: '2026-12-01T01:00:00.000Z', currency: 'JPY', amount: 999_999 }))]);

  const store = dynamoSummaryStore(db.client, table);
  const { start, end } = day('2026-12-01');
  const totals = await store.totals(start, end);
  expect(totals).toMatchObject({ events: 12, 'pay.n|JPY': 2, 'pay.gross|JPY': 1500, 'pay.gross|KWD': 12345, 'pay.gross|EUR': 124456, 'refund.amount|EUR': 1000, 'pay.gross|USD': 2999, 'mrr.gained|USD': 1000, 'mrr.lost|USD': 1900 });
  expect(await store.totals(day('2026-11-30').start, day('2026-11-30').end)).toEqual({ events: 1, 'pay.n|USD': 1, 'pay.gross|USD': 1999, 'product|USD|pdt_R8AWMPiV8RyJElcCKvAID': 1999 });
  // The markers are in the items, never summed.
  expect(Object.keys(totals).some((name) => name.startsWith('w:'))).toBe(false);
});

test('one UpdateItem per event, in the slot of its own timestamp and a shard of its id', async () => {
  const counter = dynamoSummaryCounter(db.client, table);
  const webhook = queued('msg_slot', dodoEvent('payment.succeeded', { timestamp: '2026-12-01T08:14:59.000Z' }));
  let sends = 0;
  const counting = new Proxy(db.client, {
    get: (target, name): unknown => (name === 'send' ? (command: never) => (sends++, target.send(command)) : Reflect.get(target, name)),
  });
  await dynamoSummaryCounter(counting, table)(webhook);
  await counter(webhook);
  expect(sends).toBe(1);
  const items = await db.client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': { S: 'agg' } } }));
  expect(items.Items).toHaveLength(1);
  expect(items.Items![0].sk.S).toBe(slotKey(Date.parse('2026-12-01T08:14:59Z'), 'msg_slot'));
  expect(items.Items![0].sk.S).toMatch(/^2026-12-01T08:00:00\.000Z#[0-7]$/);
  expect(items.Items![0][markerName('msg_slot')]).toEqual({ N: '1' });
  expect(items.Items![0]['pay.gross|USD']).toEqual({ N: '2999' });
});

test('when DynamoDB cannot count, the event is posted at once and the record comes back to count; the last receive gives the count up, never the event', async () => {
  const unreachable = new DynamoDBClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, maxAttempts: 1 });
  const { processor, recorder } = processorFor([route('default', () => slack.url())], { countForSummaries: dynamoSummaryCounter(unreachable, table) });
  const outcomes = await processor.processBatch([{ id: 'r1', webhook: queued('msg_x', DAY_MIX[0].envelope), receiveCount: 1 }]);
  expect(outcomes.get('r1')).toMatchObject({ kind: 'retry', reason: expect.stringMatching(/^delivered; counting for the summaries failed \(.*\), tried again$/) as unknown });
  expect(slack.requests).toHaveLength(1);
  // The next receive: the route is a duplicate (nothing posted twice), the count is tried again.
  const again = await processor.processBatch([{ id: 'r2', webhook: queued('msg_x', DAY_MIX[0].envelope), receiveCount: 2 }]);
  expect(again.get('r2')).toMatchObject({ kind: 'retry' });
  expect(slack.requests).toHaveLength(1);
  const last = await processor.processBatch([{ id: 'r3', webhook: queued('msg_x', DAY_MIX[0].envelope), receiveCount: 3 }]);
  expect(last.get('r3')).toEqual({ kind: 'done', routes: [{ routeId: 'default', result: 'duplicate' }] });
  expect(recorder.metric('MessageDeadLettered')).toBe(0);
  expect(recorder.text()).toContain('the summaries leave this event out');
  unreachable.destroy();
});

test('a count given up marks its period incomplete when the table takes that much, once, and the summary says so', async () => {
  const counter = dynamoSummaryCounter(db.client, table);
  const marker = dynamoUncountedMarker(db.client, table);
  // The counter fails on every receive (throttled, say) while the table still takes the mark.
  const { processor } = processorFor([route('default', () => slack.url())], { countForSummaries: () => Promise.reject(new Error('ThrottlingException')), countGivenUp: marker });
  const webhook = queued('msg_given_up', dodoEvent('payment.succeeded', { timestamp: '2026-12-05T10:00:00.000Z' }));
  for (const receiveCount of [1, 2, 3, 3]) await processor.processBatch([{ id: `g${receiveCount}`, webhook, receiveCount }]);
  const day = [Date.parse('2026-12-05T00:00:00Z'), Date.parse('2026-12-06T00:00:00Z')] as const;
  expect(await dynamoSummaryStore(db.client, table).totals(...day)).toEqual({ uncounted: 1 });
  // Counted after all: the mark adds nothing more.
  const other = queued('msg_counted_later', dodoEvent('payment.succeeded', { timestamp: '2026-12-05T11:00:00.000Z' }));
  await counter(other);
  await marker(other);
  expect((await dynamoSummaryStore(db.client, table).totals(...day)).uncounted).toBe(1);
  const message = buildSummaryMessage({ period: periodOf('day', parseCalendarDate('2026-12-05'), 'UTC'), totals: await dynamoSummaryStore(db.client, table).totals(...day), previous: {}, computedAtMs: day[1] });
  expect(JSON.stringify(message.attachments ?? message.blocks)).toContain('Incomplete: 1 event could not be counted (the counters were unavailable); these figures leave them out');
});

test('when the count fails only once, the record comes back and the event is counted once, posted once', async () => {
  let failures = 1;
  const counter = dynamoSummaryCounter(db.client, table);
  const flaky = (webhook: QueuedWebhook) => (failures-- > 0 ? Promise.reject(new Error('ProvisionedThroughputExceededException')) : counter(webhook));
  const { processor } = processorFor([route('default', () => slack.url())], { countForSummaries: flaky });
  const webhook = queued('msg_flaky_count', dodoEvent('payment.succeeded', { timestamp: '2026-12-02T08:00:00.000Z' }));
  expect((await processor.processBatch([{ id: 'a', webhook, receiveCount: 1 }])).get('a')).toMatchObject({ kind: 'retry' });
  expect((await processor.processBatch([{ id: 'b', webhook, receiveCount: 2 }])).get('b')).toMatchObject({ kind: 'done' });
  expect(slack.requests.filter((request) => request.body.includes('payment'))).toHaveLength(1);
  const items = await db.client.send(new QueryCommand({ TableName: table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :day)', ExpressionAttributeValues: { ':pk': { S: 'agg' }, ':day': { S: '2026-12-02T08' } } }));
  expect(items.Items?.map((item) => item[markerName('msg_flaky_count')])).toEqual([{ N: '1' }]);
});

test('the summary function records, queues and the transformer posts a summary once; a re-run posts nothing more', async () => {
  const { deliver, recorder } = pipeline();
  await deliver([...DAY_MIX, ...PREVIOUS_DAY].map(({ id, envelope }) => queued(id, envelope)));
  slack.requests.length = 0;
  const store = dynamoSummaryStore(db.client, table);
  const sent: QueuedWebhook[] = [];
  // The queue as SQS carries it: attributes and back, so the precomposed flag survives the trip.
  const enqueue = (webhook: QueuedWebhook) => {
    const message = toSqsMessage(webhook);
    sent.push(fromSqsRecord({ messageId: 'm', body: message.MessageBody, messageAttributes: Object.fromEntries(Object.entries(message.MessageAttributes).map(([k, v]) => [k, { dataType: 'String', stringValue: v.StringValue }])) } as unknown as SQSRecord));
    return Promise.resolve();
  };
  const event = { kind: 'day' as const, timeZone: 'UTC', routeId: 'default', scheduledTime: '2026-12-02T09:00:00Z' };
  const now = () => Date.parse('2026-12-02T09:00:03Z');
  expect(await runScheduledSummary(event, { store, enqueue, now })).toMatchObject({ outcome: 'queued', period: '2026-12-01' });
  expect(await runScheduledSummary(event, { store, enqueue, now })).toEqual({ outcome: 'already-queued', period: '2026-12-01' });
  expect(sent).toHaveLength(1);
  expect(sent[0]).toMatchObject({ precomposed: true, eventType: 'dodo_slack.summary', webhookId: 'summary_day_default_UTC_2026-12-01' });

  await deliver(sent);
  await deliver(sent, 2); // an SQS redelivery of the summary: deduplicated
  expect(slack.requests).toHaveLength(1);
  expect(slack.requests[0].json.text).toBe('Daily summary · Tue 1 Dec 2026: 6 payments · net €1,234.56, ¥1,500, KWD 12.345, $29.99');
  expect(slack.requests[0].body).toContain('▲ 50% vs previous day');
  expect(recorder.metric('DuplicateSuppressed')).toBe(1);
  // A summary is not counted in the summaries.
  expect((await store.totals(day('2026-12-02').start, day('2026-12-03').end)).events).toBeUndefined();
});

test('a summary recorded but not queued (SQS failed) is re-sent unchanged by the retry; late arrivals are noted next time', async () => {
  const { deliver } = pipeline();
  await deliver(PREVIOUS_DAY.map(({ id, envelope }) => queued(id, envelope)));
  const store = dynamoSummaryStore(db.client, table);
  const sent: QueuedWebhook[] = [];
  let failNext = true;
  const enqueue = (webhook: QueuedWebhook) => {
    if (failNext) {
      failNext = false;
      return Promise.reject(new Error('SQS unavailable'));
    }
    sent.push(webhook);
    return Promise.resolve();
  };
  const nov30 = { kind: 'day' as const, timeZone: 'UTC', routeId: 'default', scheduledTime: '2026-12-01T09:00:00Z' };
  await expect(runScheduledSummary(nov30, { store, enqueue, now: () => Date.parse('2026-12-01T09:00:01Z') })).rejects.toThrow('SQS unavailable');
  expect(await runScheduledSummary(nov30, { store, enqueue, now: () => Date.parse('2026-12-01T09:05:00Z') })).toMatchObject({ outcome: 'queued-again' });
  expect(summaryBody(sent[0]).message.attachments[0].blocks.at(-1)!.elements[0].text).toContain('computed 2026-12-01 09:00 UTC');

  // A Nov 30 event arrives late, after its summary; Dec 1's summary notes it, Dec 2's does not.
  await deliver([queued('msg_late', dodoEvent('payment.succeeded', { timestamp: '2026-11-30T23:30:00.000Z', currency: 'KWD', amount: 1500 }))]);
  await runScheduledSummary({ ...nov30, scheduledTime: '2026-12-02T09:00:00Z' }, { store, enqueue, now: () => Date.parse('2026-12-02T09:00:01Z') });
  expect(sent[1].body).toContain('1 late event for Mon 30 Nov 2026 arrived after its summary was posted (net +KWD 1.500)');
  await runScheduledSummary({ ...nov30, scheduledTime: '2026-12-03T09:00:00Z' }, { store, enqueue, now: () => Date.parse('2026-12-03T09:00:01Z') });
  expect(sent[2].body).not.toContain('late event');
  expect(summaryBody(sent[2]).message.text).toBe('Daily summary · Wed 2 Dec 2026: no events in this period.');
});

test('a precomposed message naming a route the deployment does not have is dead-lettered with the reason', async () => {
  const { deliver } = pipeline();
  const outcomes = await deliver([{ webhookId: 'summary_x', webhookTimestamp: '1', eventType: 'dodo_slack.summary', body: JSON.stringify({ route: 'Gone', message: { text: 'x' } }), precomposed: true }]);
  expect([...outcomes.values()][0]).toMatchObject({ kind: 'dead-letter', reason: expect.stringContaining('names the route "Gone"') as unknown });
  expect(slack.requests).toHaveLength(0);
});

test("a DST change on the Lambda path: Berlin's 23-hour 29 March sums exactly its slots", async () => {
  const { deliver } = pipeline();
  const at = (id: string, timestamp: string) => queued(id, dodoEvent('payment.succeeded', { timestamp, currency: 'EUR', amount: 100 }));
  await deliver([at('d_before', '2026-03-28T22:59:59.000Z'), at('d_first', '2026-03-28T23:00:00.000Z'), at('d_last', '2026-03-29T21:59:59.000Z'), at('d_after', '2026-03-29T22:00:00.000Z')]);
  const store = dynamoSummaryStore(db.client, table);
  const { periodOf, parseCalendarDate } = await import('../../lambda/summaries/period');
  const day29 = periodOf('day', parseCalendarDate('2026-03-29'), 'Europe/Berlin');
  expect(await store.totals(day29.startMs, day29.endMs)).toEqual({ events: 2, 'pay.n|EUR': 2, 'pay.gross|EUR': 200, 'product|EUR|pdt_R8AWMPiV8RyJElcCKvAID': 200 });
});
