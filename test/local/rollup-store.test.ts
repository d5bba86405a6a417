import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, queuedWebhookOf, STORE_FILE } from '../../lambda/local/store';
import { webhook } from '../support/delivery';
import { createStoreRollups } from '../../lambda/local/rollup-loop';
import { rollupPolicy, type RollupProcessor } from '../../lambda/transformer/rollup';
import type { DeliveryRecord } from '../../lambda/transformer/delivery';

let dir: string;
beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'rollup-store-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('a schema-3 database of a build before roll-ups (no roll-up tables) opens, keeps its events, and gains the tables', () => {
  const first = openStore(dir);
  const id = first.events.accept('default', webhook());
  first.close();
  const raw = new Database(path.join(dir, STORE_FILE));
  raw.exec('DROP TABLE rollup_members; DROP TABLE rollups;');
  raw.pragma('user_version = 3');
  raw.close();

  const again = openStore(dir);
  try {
    expect(again.events.get(id)?.state).toBe('pending');
    expect(again.rollups.candidates('default', Date.now()).map((c) => c.id)).toEqual([id]);
    expect(again.rollups.count('open')).toBe(0);
  } finally {
    again.close();
  }
});

test('open → retryAt → posted: members wait with the roll-up, leave the candidates, and finish in one transaction', () => {
  const store = openStore(dir);
  try {
    const now = Date.now();
    const ids = [1, 2, 3, 4].map(() => store.events.accept('default', webhook(), now - 10));
    const rollup = store.rollups.open('default', ids.slice(0, 3), now, 2)!;
    expect(store.rollups.candidates('default', now).map((c) => c.id)).toEqual([ids[3]]);
    expect(store.rollups.startAttempt(rollup.id)).toBe(1);
    store.rollups.retryAt(rollup.id, now + 5000, 'Slack answered 503', { duplicates: [ids[0]], released: [] }, now);
    expect(store.events.get(ids[0])?.state).toBe('skipped');
    // Its events are not due before the roll-up's retry: nothing takes them singly meanwhile.
    expect(store.events.nextDue(now)?.id).toBe(ids[3]);
    expect(store.rollups.due(now)).toBeUndefined();
    expect(store.rollups.due(now + 5000)?.id).toBe(rollup.id);
    expect(store.rollups.members(rollup.id).map((m) => m.id)).toEqual([ids[1], ids[2]]);
    store.rollups.posted(rollup.id, { covered: [ids[1]], duplicates: [], released: [ids[2]] }, now + 5000);
    expect(store.events.get(ids[1])).toMatchObject({ state: 'delivered', reason: expect.stringContaining(`roll-up #${rollup.id}`) as unknown });
    expect(store.events.get(ids[2])?.state).toBe('pending');
    expect(store.rollups.candidates('default', now + 5000).map((c) => c.id)).toEqual([ids[3], ids[2]]);
    expect(store.rollups.count('posted')).toBe(1);
  } finally {
    store.close();
  }
});

test('fell back: its events go out singly and are never folded again; too few events open nothing', () => {
  const store = openStore(dir);
  try {
    const now = Date.now();
    const ids = [1, 2, 3].map(() => store.events.accept('default', webhook(), now));
    const rollup = store.rollups.open('default', ids, now, 2)!;
    store.rollups.fallBack(rollup.id, 'Slack answered 400 invalid_payload', [], now);
    expect(store.rollups.candidates('default', now)).toEqual([]);
    expect(store.events.nextDue(now)?.id).toBe(ids[0]);
    store.events.finish(ids[0], 'delivered');
    expect(store.rollups.open('default', [ids[0]], now, 2)).toBeUndefined();
    expect(store.rollups.count('open')).toBe(0);
  } finally {
    store.close();
  }
});

test('a precomposed event (a scheduled summary) is never a roll-up candidate', () => {
  const store = openStore(dir);
  try {
    const event = store.events.accept('default', webhook());
    store.events.accept('default', { ...webhook(), eventType: 'dodo_slack.summary', body: '{"route":"default","message":{"text":"summary"}}', precomposed: true });
    expect(store.rollups.candidates('default', Date.now()).map((c) => c.id)).toEqual([event]);
  } finally {
    store.close();
  }
});

test('serve folds live events only: a test-mode event, though pending beside them, is never folded and goes out on its own', async () => {
  const store = openStore(dir);
  try {
    const now = Date.now();
    const live = [1, 2, 3, 4].map(() => store.events.accept('default', webhook(), now - 10));
    const test = [1, 2, 3, 4].map(() => store.events.accept('default', { ...webhook(), mode: 'test' }, now - 10));
    expect(store.rollups.candidates('default', now).map((candidate) => candidate.mode)).toEqual(['live', 'live', 'live', 'live', 'test', 'test', 'test', 'test']);
    const delivered: DeliveryRecord[][] = [];
    const processor: RollupProcessor = {
      policy: rollupPolicy({ rollupAfterSeconds: 1 }),
      foldingRoutes: () => [{ id: 'default', events: ['*'], slackSecretId: 'X', transformation: { kind: 'builtin', options: {} } }],
      matchingRoutes: () => [],
      paceWaitMs: () => Promise.resolve(0),
      deliver: (_route, records) => {
        delivered.push([...records]);
        return Promise.resolve({ kind: 'posted', covered: records.map((record) => record.webhook.webhookId), duplicates: [], elsewhere: [] });
      },
    };
    const rollups = createStoreRollups({ rollups: store.rollups, processor, ratePerSecond: 1, maxAttempts: 3, retryDelayMs: 10 });
    expect(await rollups.foldFor({ id: test[0], route: 'default', webhook: queuedWebhookOf(store.events.get(test[0])!) }, now)).toBe(false);
    expect(await rollups.foldFor({ id: live[0], route: 'default', webhook: queuedWebhookOf(store.events.get(live[0])!) }, now)).toBe(true);
    expect(delivered).toHaveLength(1);
    expect(delivered[0].map((record) => Number(record.id))).toEqual(live);
    expect(delivered[0].every((record) => record.webhook.mode === 'live')).toBe(true);
    expect(test.map((id) => store.events.get(id)?.state)).toEqual(['pending', 'pending', 'pending', 'pending']);
  } finally {
    store.close();
  }
});
