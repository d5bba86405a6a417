/**
 * Summaries over serve's SQLite store: counted once per webhook-id by the event's own time (the
 * counter port the pipeline calls), posted once, late arrivals noted once by the next summary, an
 * older store migrated and counted, and a scheduled summary delivered through serve's own delivery
 * path to a Slack stand-in.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Sqlite from 'better-sqlite3';
import { openStore, STORE_FILE, type LocalStore } from '../../lambda/local/store';
import { postScheduledSummary, startSummaryScheduler, summaryOnDemand } from '../../lambda/local/summaries';
import { startLocalServer } from '../../lambda/local/server';
import { signWebhook, parseSigningKeys } from '../../lambda/receiver/signature';
import { parseSummarySchedule } from '../../lambda/summaries/schedule';
import type { DodoWebhookEnvelope } from '../../lambda/shared/webhook';
import { DAY_MIX, dodoEvent, PREVIOUS_DAY } from '../support/summary-events';
import { testServerOptions } from '../support/local-server';
import { FakeSlack } from '../support/fake-slack';

let dir: string;
let store: LocalStore;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'dodo-slack-summaries-')), 'data');
  store = openStore(dir);
});
afterEach(() => {
  store.close();
  rmSync(path.dirname(dir), { recursive: true, force: true });
});

/** What the pipeline does with an event it is about to deliver: count it (once per webhook-id). */
const accept = (id: string, envelope: DodoWebhookEnvelope, receivedAt = Date.parse(envelope.timestamp) + 1000) =>
  store.summaries.count({ webhookId: id, webhookTimestamp: String(Math.floor(receivedAt / 1000)), eventType: envelope.type, body: JSON.stringify(envelope) }, receivedAt);
const spec = { kind: 'day' as const, timeZone: 'UTC', routeId: 'default' };
const daily = parseSummarySchedule('daily@09:00');
const summaryText = async (date: string, timeZone = 'UTC', kind: 'day' | 'week' = 'day') =>
  JSON.stringify(await summaryOnDemand(store.summaries, { kind, date, timeZone, routeId: 'default', nowMs: Date.parse('2026-12-02T09:00:00Z') }));

test('re-sent ids count once, whatever order the events come in', async () => {
  // Out of order: the last event of the day first, the previous day's event last.
  const shuffled = [...DAY_MIX].reverse();
  for (const { id, envelope } of shuffled) await accept(id, envelope);
  // Dodo retries, an SQS-style redelivery and a re-send with a changed body: none adds anything.
  for (const { id, envelope } of DAY_MIX.slice(0, 4)) await accept(id, envelope, Date.parse('2026-12-01T20:00:00Z'));
  await accept('msg_jpy1', dodoEvent('payment.succeeded', { timestamp: '2026-12-01T01:00:00.000Z', currency: 'JPY', amount: 999_999 }));
  for (const { id, envelope } of PREVIOUS_DAY) await accept(id, envelope);
  expect(store.summaries.totals(Date.parse('2026-12-01T00:00:00Z'), Date.parse('2026-12-02T00:00:00Z'))).toMatchObject({
    events: 12,
    'pay.n|JPY': 2,
    'pay.gross|JPY': 1500,
    'pay.gross|KWD': 12345,
    'pay.gross|EUR': 124456,
    'refund.amount|EUR': 1000,
    'pay.gross|USD': 2999,
  });
  const text = await summaryText('2026-12-01');
  expect(text).toContain('6 payments · net €1,234.56, ¥1,500, KWD 12.345, $29.99');
  expect(text).toContain('▲ 50% vs previous day');
});

test("each event lands in its own period in the chosen time zone (Berlin: 23:59:59Z is the next day)", async () => {
  for (const { id, envelope } of DAY_MIX) await accept(id, envelope);
  expect(await summaryText('2026-12-01', 'Europe/Berlin')).toContain('5 payments · net €1,234.56, ¥1,500, KWD 12.345"');
  expect(await summaryText('2026-12-02', 'Europe/Berlin')).toContain('1 payment · net $29.99');
  expect(await summaryText('2026-11-30', 'UTC', 'week')).toContain('Weekly summary · week of Mon 30 Nov 2026: 6 payments');
  expect(await summaryText('2026-11-29')).toContain('Daily summary · Sun 29 Nov 2026: no events in this period.');
});

test('a summary is posted once; the next one notes late arrivals of the posted period, once', async () => {
  for (const { id, envelope } of PREVIOUS_DAY) await accept(id, envelope);
  const runNov30 = Date.parse('2026-12-01T09:00:00Z');
  expect(await postScheduledSummary(store.summaries, spec, daily, runNov30, runNov30)).toBe('2026-11-30');
  expect(await postScheduledSummary(store.summaries, spec, daily, runNov30, runNov30 + 60_000)).toBeUndefined();
  const queued = () => {
    const ids: string[] = [];
    for (let event = store.events.nextDue(Number.MAX_SAFE_INTEGER); event; event = store.events.nextDue(Number.MAX_SAFE_INTEGER)) {
      if (event.precomposed) ids.push(event.webhookId);
      store.events.finish(event.id, 'delivered');
    }
    return ids;
  };
  expect(queued()).toEqual(['summary_day_default_UTC_2026-11-30']);

  // A late Nov 30 event (Dodo retried it for a day), then Dec 1's run.
  await accept('msg_late', dodoEvent('payment.succeeded', { timestamp: '2026-11-30T23:00:00.000Z', currency: 'EUR', amount: 2500 }), Date.parse('2026-12-01T15:00:00Z'));
  await accept('msg_dec1', dodoEvent('payment.succeeded', { timestamp: '2026-12-01T10:00:00.000Z', currency: 'EUR', amount: 100 }));
  const runDec1 = Date.parse('2026-12-02T09:00:00Z');
  expect(await postScheduledSummary(store.summaries, spec, daily, runDec1, runDec1)).toBe('2026-12-01');
  const dec1 = store.summaries.posted('day|UTC|default|2026-12-01')!;
  expect(JSON.stringify(dec1.message)).toContain('1 late event for Mon 30 Nov 2026 arrived after its summary was posted (net +€25.00)');
  // The late event is counted in its own day, and the ▲/▼ compares against the corrected day.
  expect(store.summaries.posted('day|UTC|default|2026-11-30')!.reported).toMatchObject({ events: 2, 'pay.gross|EUR': 2500 });
  queued();

  // Dec 2's summary does not note it again.
  const runDec2 = Date.parse('2026-12-03T09:00:00Z');
  expect(await postScheduledSummary(store.summaries, spec, daily, runDec2, runDec2)).toBe('2026-12-02');
  expect(JSON.stringify(store.summaries.posted('day|UTC|default|2026-12-02')!.message)).not.toContain('late event');
});

test('a store written before summaries existed (schema 1) is migrated and its events counted once', () => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const old = new Sqlite(path.join(dir, STORE_FILE));
  old.exec(`CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, route TEXT NOT NULL, webhook_id TEXT NOT NULL, webhook_timestamp TEXT NOT NULL,
      event_type TEXT NOT NULL, body TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
      received_at INTEGER NOT NULL, finished_at INTEGER, reason TEXT, last_slack_response TEXT);
    CREATE TABLE dedup (key TEXT PRIMARY KEY, status TEXT NOT NULL, value TEXT, expires_at INTEGER NOT NULL);
    PRAGMA user_version = 1;`);
  const insert = old.prepare(`INSERT INTO events (route, webhook_id, webhook_timestamp, event_type, body, state, next_attempt_at, received_at) VALUES ('default', ?, '1', ?, ?, 'delivered', 0, 0)`);
  for (const { id, envelope } of [...DAY_MIX, DAY_MIX[0]]) insert.run(id, envelope.type, JSON.stringify(envelope));
  insert.run('msg_not_json', 'payment.succeeded', 'not json');
  old.close();

  store = openStore(dir);
  const totals = store.summaries.totals(Date.parse('2026-12-01T00:00:00Z'), Date.parse('2026-12-02T00:00:00Z'));
  expect(totals).toMatchObject({ events: 12, 'pay.gross|JPY': 1500 });
  expect(store.events.get(1)).toMatchObject({ webhookId: 'msg_jpy1', state: 'delivered', precomposed: false });
});

test('serve posts a scheduled summary through its own delivery path, and not again after a restart', async () => {
  store.close();
  const slack = await new FakeSlack().start();
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const output: string[] = [];
  // A clock 300 ms before Berlin's 09:00 on Dec 2 when the scheduled serve starts: the run fires within the test.
  let offset = 0;
  const clock = () => Date.now() + offset;
  const options = testServerOptions(secret, path.dirname(dir), output, {
    dataDir: dir,
    slackWebhookUrl: slack.url(),
    summaries: { schedules: [daily], timeZone: 'Europe/Berlin', clock },
  });
  // The events are accepted by a serve without the schedule first: on a loaded machine three POSTs
  // can take longer than the 300 ms before the run, and the summary would be computed without them.
  const accepting = await startLocalServer({ ...options, summaries: undefined });
  try {
    const key = parseSigningKeys(secret).keys[0].bytes;
    for (const { id, envelope } of DAY_MIX.slice(0, 3)) {
      const body = Buffer.from(JSON.stringify(envelope));
      const timestamp = Math.floor(Date.now() / 1000);
      const answer = await fetch(accepting.url, { method: 'POST', body, headers: { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(key, id, timestamp, body) } });
      expect(answer.status).toBe(200);
    }
    await accepting.idle();
  } finally {
    await accepting.close();
  }
  offset = Date.parse('2026-12-02T08:00:00Z') - 300 - Date.now();
  const server = await startLocalServer(options);
  try {
    await waitFor(() => slack.requests.some((request) => request.body.includes('Daily summary')));
    await server.idle();
  } finally {
    await server.close();
  }
  const posted = slack.requests.filter((request) => request.body.includes('Daily summary'));
  expect(posted).toHaveLength(1);
  expect((JSON.parse(posted[0].body) as { text: string }).text).toBe('Daily summary · Tue 1 Dec 2026: 3 payments · net ¥1,500, KWD 12.345');
  expect(output.join('')).toContain('daily summary of 2026-12-01 (Europe/Berlin) queued');

  // Restarted after the run: the period is posted already, and the next run is tomorrow.
  const again: string[] = [];
  const restarted = await startLocalServer({ ...options, print: (text) => void again.push(text), printError: (text) => void again.push(text) });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await restarted.close();
  expect(again.join('')).toContain('summary daily@09:00: next at 2026-12-03 09:00 Europe/Berlin');
  expect(slack.requests.filter((request) => request.body.includes('Daily summary'))).toHaveLength(1);
  await slack.stop();
  store = openStore(dir);
}, 20_000);

test('the scheduler catches up a run missed while serve was down, only where it ran before', async () => {
  for (const { id, envelope } of PREVIOUS_DAY) await accept(id, envelope);
  const queued: string[] = [];
  const start = (nowMs: number) =>
    startSummaryScheduler({ store: store.summaries, schedules: [daily], timeZone: 'UTC', routeId: 'default', onQueued: (_s, day) => void queued.push(day), onError: (_s, error) => { throw error; }, now: () => nowMs });
  // First start ever, after a run time: nothing is back-filled.
  start(Date.parse('2026-12-01T10:00:00Z')).stop();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(queued).toEqual([]);
  await postScheduledSummary(store.summaries, spec, daily, Date.parse('2026-12-01T09:00:00Z'));
  // Down over Dec 2's 09:00: started at 11:00, Dec 1's summary is posted at once.
  start(Date.parse('2026-12-02T11:00:00Z')).stop();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(queued).toEqual(['2026-12-01']);
});

async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test("a DST change: Berlin's 23-hour 29 March takes exactly the events of its local day", async () => {
  const at = (id: string, timestamp: string) => accept(id, dodoEvent('payment.succeeded', { timestamp, currency: 'EUR', amount: 100 }));
  await at('msg_before', '2026-03-28T22:59:59.000Z'); // 23:59:59 CET on the 28th
  await at('msg_first', '2026-03-28T23:00:00.000Z'); // 00:00 CET on the 29th
  await at('msg_last', '2026-03-29T21:59:59.000Z'); // 23:59:59 CEST on the 29th
  await at('msg_after', '2026-03-29T22:00:00.000Z'); // 00:00 CEST on the 30th
  const text = await summaryText('2026-03-29', 'Europe/Berlin');
  expect(text).toContain('Daily summary · Sun 29 Mar 2026: 2 payments · net €2.00');
  expect(text).toContain('(UTC+01:00 → UTC+02:00, 23 h: the clocks changed)');
  expect(await summaryText('2026-03-30', 'Europe/Berlin')).toContain('1 payment · net €1.00');
});

test('a count given up in serve marks its period incomplete once; a later count of that webhook-id adds nothing', async () => {
  const webhook = { webhookId: 'msg_given_up', webhookTimestamp: '1764547200', eventType: 'payment.succeeded', body: JSON.stringify(dodoEvent('payment.succeeded', { timestamp: '2026-12-05T10:00:00.000Z' })) };
  await store.summaries.giveUp(webhook);
  await store.summaries.giveUp(webhook);
  await store.summaries.count(webhook);
  expect(store.summaries.totals(Date.parse('2026-12-05T00:00:00Z'), Date.parse('2026-12-06T00:00:00Z'))).toEqual({ uncounted: 1 });
});
