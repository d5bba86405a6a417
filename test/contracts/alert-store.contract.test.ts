/**
 * The alert store port and both adapters, held to one contract: DynamoDB (the alerts' items in the
 * summaries' table, against dynalite) and serve's SQLite store. One open episode per rule; a
 * message is pending until it is marked sent; a resolved episode is gone once its message is sent;
 * a run that evaluates twice with the same counters opens nothing twice.
 */
import { dynamoAlertStore } from '../../lambda/alerts/dynamodb-alerts';
import type { AlertEpisode } from '../../lambda/alerts/rules';
import { runAlerts, type AlertSource, type AlertStore } from '../../lambda/alerts/run';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import { startDynalite, type Dynalite } from '../support/dynalite';
import { useScratchStores } from '../support/scratch-stores';

jest.setTimeout(30_000);

let db: Dynalite;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(() => db.stop());
const scratchStore = useScratchStores();

let made = 0;
const ADAPTERS: { readonly name: string; make(): Promise<AlertStore> }[] = [
  {
    name: 'DynamoDB (dynalite)',
    make: async () => {
      const table = `alerts-${++made}`;
      await db.createSummaryTable(table);
      return dynamoAlertStore(db.client, table);
    },
  },
  { name: "serve's SQLite store", make: () => Promise.resolve(scratchStore().alerts) },
];

const episode = (rule: AlertEpisode['rule'], id: string): AlertEpisode => ({ rule, id, openedAtMs: 1000, detail: { lastAcceptedMs: 5 } });
const message = (text: string) => ({ text });

describe.each(ADAPTERS)('$name', (adapter) => {
  test('one open episode per rule; its alert is pending until sent', async () => {
    const store = await adapter.make();
    expect(await store.list()).toEqual([]);
    expect(await store.open(episode('silence', 'silence_1'), message('Alert: a'))).toBe(true);
    expect(await store.open(episode('silence', 'silence_2'), message('Alert: b'))).toBe(false);
    expect(await store.open(episode('failures', 'failures_1'), message('Alert: c'))).toBe(true);
    // Oldest first, then by rule.
    expect(await store.list()).toEqual([
      { ...episode('failures', 'failures_1'), pending: { kind: 'alert', message: message('Alert: c') } },
      { ...episode('silence', 'silence_1'), pending: { kind: 'alert', message: message('Alert: a') } },
    ]);
    await store.sent(episode('silence', 'silence_1'), 'alert');
    expect((await store.list())[1]).toEqual(episode('silence', 'silence_1'));
  });

  test('a resolved message is pending, then the episode is gone; the rule may open again', async () => {
    const store = await adapter.make();
    await store.open(episode('disputes', 'disputes_1'), message('Alert: a'));
    await store.sent(episode('disputes', 'disputes_1'), 'alert');
    await store.resolve(episode('disputes', 'disputes_1'), message('Resolved: a'));
    expect(await store.list()).toEqual([{ ...episode('disputes', 'disputes_1'), pending: { kind: 'resolved', message: message('Resolved: a') } }]);
    // A late "alert sent" does not take the resolved message back.
    await store.sent(episode('disputes', 'disputes_1'), 'alert');
    expect((await store.list())[0].pending?.kind).toBe('resolved');
    await store.sent(episode('disputes', 'disputes_1'), 'resolved');
    expect(await store.list()).toEqual([]);
    expect(await store.open(episode('disputes', 'disputes_2'), message('Alert: b'))).toBe(true);
  });

  test('runs over it open once per episode, resend what was not queued, and resolve once', async () => {
    const store = await adapter.make();
    const now = Date.parse('2026-12-07T12:00:00Z');
    let lastHour = { 'pay.n|USD': 30, 'failreason|card_declined': 20 };
    const source: AlertSource = {
      totals: (start) => Promise.resolve(start >= now - 3_600_000 - 1 ? lastHour : {}),
      lastAcceptedMs: () => Promise.resolve(now),
      longestGapMs: () => Promise.resolve(undefined),
    };
    const queued: QueuedWebhook[] = [];
    let failSends = 1;
    const run = (at: number) =>
      runAlerts({
        settings: { failures: {} },
        source,
        store,
        routeId: 'default',
        nowMs: at,
        enqueue: (webhook) => {
          if (failSends > 0) {
            failSends -= 1;
            return Promise.reject(new Error('queue unreachable'));
          }
          queued.push(webhook);
          return Promise.resolve();
        },
      });
    await expect(run(now)).rejects.toThrow('queue unreachable');
    expect(await run(now + 1000)).toEqual({ opened: [], resolved: [], resent: 1 });
    expect(await run(now + 2000)).toEqual({ opened: [], resolved: [], resent: 0 });
    lastHour = { 'pay.n|USD': 30, 'failreason|card_declined': 0 };
    expect(await run(now + 3000)).toEqual({ opened: [], resolved: ['failures'], resent: 0 });
    expect(await run(now + 4000)).toEqual({ opened: [], resolved: [], resent: 0 });
    expect(queued.map((webhook) => [webhook.webhookId, (JSON.parse(webhook.body) as { message: { text: string } }).message.text.slice(0, 24)])).toEqual([
      [`alert_failures_${now}_alert`, 'Alert: payment failures:'],
      [`alert_failures_${now}_resolved`, 'Resolved: payment failur'],
    ]);
  });
});
