import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { openStore, StoreError, STORE_FILE } from '../../lambda/local/store';
import { DeliveryInProgressError } from '../../lambda/transformer/delivery';

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'dodo-slack-store-')), 'data');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

const webhook = (n: number) => ({ webhookId: `msg_${n}`, webhookTimestamp: '1700000000', eventType: 'payment.succeeded', body: `{"n":${n}}` });

test('an accepted event is pending and due at once; events come out oldest due first, and state survives a reopen', () => {
  const { events, close } = openStore(dir, { owner: true });
  const a = events.accept('default', webhook(1), 1000);
  const b = events.accept('default', webhook(2), 1000);
  expect(events.nextDue(1000)?.id).toBe(a);
  events.retryAt(a, 5000, 'Slack answered 503');
  expect(events.nextDue(1000)?.id).toBe(b);
  events.finish(b, 'delivered', undefined, 1200);
  expect(events.nextDue(4999)).toBeUndefined();
  expect(events.nextDueAt()).toBe(5000);
  close();

  const reopened = openStore(dir, { owner: true });
  expect(reopened.events.get(a)).toMatchObject({ state: 'pending', nextAttemptAt: 5000, reason: 'Slack answered 503', body: '{"n":1}' });
  expect(reopened.events.get(b)).toMatchObject({ state: 'delivered', finishedAt: 1200 });
  expect(reopened.events.count('pending')).toBe(1);
  reopened.close();
});

test('attempts count up before an attempt, reset on requeue and redrive; dead letters keep reason and Slack answer', () => {
  const store = openStore(dir, { owner: true });
  const { events } = store;
  const id = events.accept('default', webhook(1));
  expect(events.startAttempt(id)).toBe(1);
  expect(events.startAttempt(id)).toBe(2);
  events.requeue(id, 0, 'no time left');
  expect(events.get(id)?.attempts).toBe(0);
  events.startAttempt(id);
  events.deadLetter(id, 'Slack answered 404 channel_not_found', 1, '404 channel_not_found', 2000);
  expect(events.deadLetters()).toEqual([
    expect.objectContaining({ id, state: 'dead-lettered', attempts: 1, reason: 'Slack answered 404 channel_not_found', lastSlackResponse: '404 channel_not_found', finishedAt: 2000 }),
  ]);
  expect(events.redrive(id + 1)).toBe(false);
  expect(events.redrive(id, 3000)).toBe(true);
  expect(events.get(id)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: 3000 });
  expect(events.redrive(id)).toBe(false); // pending, not a dead letter
  events.deadLetter(id, 'again', 1);
  expect(events.redriveAll()).toBe(1);
  store.close();
});

test('the folder is 0700 and the database 0600: they hold whole bodies with customer emails', () => {
  openStore(dir, { owner: true }).close();
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  expect(statSync(path.join(dir, STORE_FILE)).mode & 0o777).toBe(0o600);
});

test('one serve per data dir: a second owner is refused while the first runs, the read-only commands are not; a pid file left behind blocks nothing', () => {
  const first = openStore(dir, { owner: true });
  expect(() => openStore(dir, { owner: true })).toThrow(StoreError);
  // The dead-letters commands may read and redrive beside it.
  openStore(dir, { readOnly: true }).close();
  openStore(dir).close();
  first.close();
  // What an earlier version's lock, or a serve killed at once, leaves: a file naming a pid (here one that could even be alive).
  writeFileSync(path.join(dir, 'serve.pid'), String(process.ppid));
  openStore(dir, { owner: true }).close();
});

test('the read-only commands say where to start when there is no store yet', () => {
  expect(() => openStore(dir, { readOnly: true })).toThrow(/no store in .*start `dodo-slack serve --data-dir/);
});

test('a store written by a newer version is refused with what to do, not changed', () => {
  const store = openStore(dir, { owner: true });
  store.close();
  const db = new Database(path.join(dir, STORE_FILE));
  db.pragma('user_version = 99');
  db.close();
  expect(() => openStore(dir, { owner: true })).toThrow(/written by a newer dodo-slack \(schema 99, this one knows \d+\)/);
  // The lock was released with the refusal.
  expect(() => openStore(dir, { owner: true })).toThrow(/newer dodo-slack/);
});

test('deduplication: an in-progress record a crash left behind is cleared at start, and only those', async () => {
  const store = openStore(dir, { owner: true });
  const dedup = store.runOnce({ deduplicationWindowSeconds: 60, inProgressTimeoutMs: 60_000 });
  await dedup.runOnce('default:msg_done', () => Promise.resolve('delivered'));
  let finish: () => void = () => undefined;
  const first = dedup.runOnce('default:msg_2', () => new Promise((resolve) => (finish = () => resolve('delivered'))));
  await expect(dedup.runOnce('default:msg_2', () => Promise.resolve('delivered'))).rejects.toBeInstanceOf(DeliveryInProgressError);
  expect(dedup.clearInProgress()).toBe(1);
  expect(await dedup.runOnce('default:msg_2', () => Promise.resolve('delivered'))).toEqual({ value: 'delivered', duplicate: false });
  expect(await dedup.runOnce('default:msg_done', () => Promise.resolve('skipped'))).toEqual({ value: 'delivered', duplicate: true });
  finish();
  await first;
  store.close();
});
