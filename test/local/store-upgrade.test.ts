/**
 * A data dir written by every earlier version opens as it is (test/fixtures/stores/: real databases
 * each version's own store code wrote), is migrated to this version's schema in place, and keeps
 * what it held: delivered and dead-lettered events with their reasons, pending events (then
 * delivered by `serve`), deduplication records, summary counts, threads, and a roll-up a crash cut
 * short (resumed as a whole).
 */
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, queuedWebhookOf, STORE_FILE } from '../../lambda/local/store';
import { SCHEMA_VERSION } from '../../lambda/local/store/schema';
import { startLocalServer } from '../../lambda/local/server';
import { FakeSlack } from '../support/fake-slack';
import { testServerOptions } from '../support/local-server';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'stores');
const VERSIONS = readdirSync(FIXTURES, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
const T0 = Date.UTC(2026, 10, 30, 9, 0, 0);

let work: string;
let dataDir: string;
beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'store-upgrade-'));
  dataDir = path.join(work, 'serve-data');
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** Versions whose data dir holds an open roll-up (schema 4 has roll-ups in its migrations). */
const hasRollup = (version: string): boolean => version.endsWith('-rollups') || version === 'schema-4' || version === 'schema-5';
const copyOf = (version: string): void => cpSync(path.join(FIXTURES, version), dataDir, { recursive: true });
const userVersion = (): number => {
  const db = new Database(path.join(dataDir, STORE_FILE), { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
};

test('there is a data dir of each earlier schema, with and without roll-ups', () => {
  expect(VERSIONS).toEqual(['schema-1', 'schema-2', 'schema-2-rollups', 'schema-3', 'schema-3-rollups', 'schema-4', 'schema-5']);
  expect(SCHEMA_VERSION).toBe(7);
});

describe.each(VERSIONS)('a data dir written at %s', (version) => {
  test('opens, is migrated to this schema, and keeps events, dead letters, deduplication, summary counts and threads', async () => {
    copyOf(version);
    expect(userVersion()).toBeLessThan(SCHEMA_VERSION);
    const store = openStore(dataDir, { owner: true });
    try {
      expect(userVersion()).toBe(SCHEMA_VERSION);
      const { events } = store;
      expect(events.count('delivered')).toBe(1);
      expect(events.count('pending')).toBe(3);
      expect(events.deadLetters()).toEqual([
        expect.objectContaining({ webhookId: 'msg_old_dead', eventType: 'dispute.opened', reason: 'Slack answered 404 channel_not_found', lastSlackResponse: '404 channel_not_found', attempts: 1 }),
      ]);
      // Schema 5: every event accepted before modes existed is live, and goes to the pipeline as such.
      const held = [1, 2, 3, 4, 5].map((id) => events.get(id)!);
      expect(held.map((event) => event.mode)).toEqual(['live', 'live', 'live', 'live', 'live']);
      expect(queuedWebhookOf(events.nextDue(Number.MAX_SAFE_INTEGER)!)).toMatchObject({ webhookId: 'msg_old_pending_0', mode: 'live' });
      if (hasRollup(version)) {
        expect(store.rollups.members(store.rollups.due(T0 + 60_000)!.id).map((member) => member.mode)).toEqual(['live', 'live']);
      }
      const dedup = store.runOnce({ deduplicationWindowSeconds: 3600, inProgressTimeoutMs: 10_000 });
      const neverRun = jest.fn(() => Promise.resolve('delivered' as const));
      expect(await dedup.runOnce('default:msg_old_delivered', neverRun)).toEqual({ value: 'delivered', duplicate: true });
      expect(neverRun).not.toHaveBeenCalled();

      // Schema 1 had no summaries: migrating counts the events it holds, once each, as later versions did at accept.
      // Counted by each event's own time (the payloads' March timestamps).
      const march = store.summaries.totals(Date.UTC(2026, 2, 1), Date.UTC(2026, 3, 1));
      expect(march.events).toBe(5);
      expect(march['pay.n|USD']).toBe(1);

      const thread = await store.threads({ ttlSeconds: 3600 }).get('default', 'payment:pay_old');
      if (version.startsWith('schema-3') || version === 'schema-4' || version === 'schema-5') expect(thread).toMatchObject({ channel: 'C0OLDCHAN', ts: '1764493200.000100', version: 1 });
      else expect(thread).toBeUndefined();

      const openRollup = store.rollups.due(T0 + 60_000);
      if (hasRollup(version)) expect(store.rollups.members(openRollup!.id).map((member) => member.webhookId)).toEqual(['msg_old_pending_1', 'msg_old_pending_2']);
      else expect(openRollup).toBeUndefined();
    } finally {
      store.close();
    }
    // Opening it again changes nothing; a test-mode event accepted now keeps its mode.
    const reopened = openStore(dataDir, { owner: true });
    try {
      const id = reopened.events.accept('default', { webhookId: 'msg_new_test', webhookTimestamp: '1796029200', eventType: 'payment.succeeded', body: '{}', mode: 'test' }, T0);
      expect(reopened.events.get(id)).toMatchObject({ webhookId: 'msg_new_test', mode: 'test' });
      expect(queuedWebhookOf(reopened.events.get(id)!).mode).toBe('test');
      // Schema 6: the look-ups' cache starts empty and keeps what it is given until it expires.
      const names = reopened.names(10);
      expect(names.get('live:product:pdt_old', T0)).toBeUndefined();
      names.set('live:product:pdt_old', 'Old plan', T0 + 1000);
      expect(names.get('live:product:pdt_old', T0)).toBe('Old plan');
      expect(names.get('live:product:pdt_old', T0 + 1000)).toBeUndefined();
    } finally {
      reopened.close();
    }
    openStore(dataDir, { owner: true }).close();
    expect(userVersion()).toBe(SCHEMA_VERSION);
  });

  test('serve on it delivers what was pending once, resumes an open roll-up as a whole, and posts nothing already delivered', async () => {
    copyOf(version);
    const slack = new FakeSlack();
    await slack.start();
    const output: string[] = [];
    const server = await startLocalServer(testServerOptions('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', work, output, { slackWebhookUrl: slack.url() }));
    try {
      await server.idle();
      const posted = slack.delivered().map((request) => JSON.stringify(request.json));
      if (hasRollup(version)) {
        // The refund alone, then the two events of the open roll-up in one message.
        expect(posted).toHaveLength(2);
        expect(posted.filter((text) => /2 events rolled up/.test(text))).toHaveLength(1);
      } else {
        expect(posted).toHaveLength(3);
      }
      expect(posted.join('\n')).not.toContain('msg_old_delivered');
    } finally {
      await server.close();
      await slack.stop();
    }
    const store = openStore(dataDir, { readOnly: true });
    try {
      expect(store.events.count('pending')).toBe(0);
      expect(store.events.count('dead-lettered')).toBe(1);
    } finally {
      store.close();
    }
  });
});
