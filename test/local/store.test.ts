import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { openStore, StoreError, STORE_FILE } from '../../lambda/local/store';
import { storeRunOnce } from '../../lambda/local/store-run-once';
import { DeliveryInProgressError } from '../../lambda/transformer/delivery';

let dir: string;
beforeEach(() => {
  dir = path.join(mkdtempSync(path.join(tmpdir(), 'dodo-slack-store-')), 'data');
});
afterEach(() => rmSync(path.dirname(dir), { recursive: true, force: true }));

const webhook = (n: number) => ({ webhookId: `msg_${n}`, webhookTimestamp: '1700000000', eventType: 'payment.succeeded', body: `{"n":${n}}` });

test('an accepted event is pending and due at once; events come out oldest due first, and state survives a reopen', () => {
  const store = openStore(dir, { owner: true });
  const a = store.accept('default', webhook(1), 1000);
  const b = store.accept('default', webhook(2), 1000);
  expect(store.nextDue(1000)?.id).toBe(a);
  store.retryAt(a, 5000, 'Slack answered 503');
  expect(store.nextDue(1000)?.id).toBe(b);
  store.finish(b, 'delivered', undefined, 1200);
  expect(store.nextDue(4999)).toBeUndefined();
  expect(store.nextDueAt()).toBe(5000);
  store.close();

  const reopened = openStore(dir, { owner: true });
  expect(reopened.get(a)).toMatchObject({ state: 'pending', nextAttemptAt: 5000, reason: 'Slack answered 503', body: '{"n":1}' });
  expect(reopened.get(b)).toMatchObject({ state: 'delivered', finishedAt: 1200 });
  expect(reopened.count('pending')).toBe(1);
  reopened.close();
});

test('attempts count up before an attempt, reset on requeue and redrive; dead letters keep reason and Slack answer', () => {
  const store = openStore(dir, { owner: true });
  const id = store.accept('default', webhook(1));
  expect(store.startAttempt(id)).toBe(1);
  expect(store.startAttempt(id)).toBe(2);
  store.requeue(id, 0, 'no time left');
  expect(store.get(id)?.attempts).toBe(0);
  store.startAttempt(id);
  store.deadLetter(id, 'Slack answered 404 channel_not_found', 1, '404 channel_not_found', 2000);
  expect(store.deadLetters()).toEqual([
    expect.objectContaining({ id, state: 'dead-lettered', attempts: 1, reason: 'Slack answered 404 channel_not_found', lastSlackResponse: '404 channel_not_found', finishedAt: 2000 }),
  ]);
  expect(store.redrive(id + 1)).toBe(false);
  expect(store.redrive(id, 3000)).toBe(true);
  expect(store.get(id)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: 3000 });
  expect(store.redrive(id)).toBe(false); // pending, not a dead letter
  store.deadLetter(id, 'again', 1);
  expect(store.redriveAll()).toBe(1);
  store.close();
});

test('the folder is 0700 and the database 0600: they hold whole bodies with customer emails', () => {
  openStore(dir, { owner: true }).close();
  expect(statSync(dir).mode & 0o777).toBe(0o700);
  expect(statSync(path.join(dir, STORE_FILE)).mode & 0o777).toBe(0o600);
});

test('one serve per data dir: a second owner is refused while the first runs; a lock left by a dead process is taken over', () => {
  const first = openStore(dir, { owner: true });
  expect(() => openStore(dir, { owner: true })).toThrow(StoreError);
  // The dead-letters commands may read and redrive beside it.
  openStore(dir, { readOnly: true }).close();
  first.close();
  writeFileSync(path.join(dir, 'serve.pid'), '999999999');
  openStore(dir, { owner: true }).close();
});

test('the read-only commands say where to start when there is no store yet', () => {
  expect(() => openStore(dir, { readOnly: true })).toThrow(/no store in .*start `dodo-slack serve --data-dir/);
});

describe('storeRunOnce', () => {
  test('a completed key is a duplicate for the window, across a reopen; a failure leaves nothing behind', async () => {
    let now = 1_000_000;
    const store = openStore(dir, { owner: true });
    const runOnce = storeRunOnce({ store, deduplicationWindowSeconds: 60, inProgressTimeoutMs: 5000, now: () => now });
    await expect(runOnce('default:msg_1', async () => { throw new Error('Slack answered 503'); })).rejects.toThrow('503');
    expect(await runOnce('default:msg_1', async () => 'delivered')).toEqual({ value: 'delivered', duplicate: false });
    store.close();

    const reopened = openStore(dir, { owner: true });
    const again = storeRunOnce({ store: reopened, deduplicationWindowSeconds: 60, inProgressTimeoutMs: 5000, now: () => now });
    const neverCalled = jest.fn(async () => 'delivered' as const);
    expect(await again('default:msg_1', neverCalled)).toEqual({ value: 'delivered', duplicate: true });
    expect(neverCalled).not.toHaveBeenCalled();
    now += 61_000;
    expect(await again('default:msg_1', async () => 'skipped')).toEqual({ value: 'skipped', duplicate: false });
    reopened.close();
  });

  test('a key in progress is busy; an in-progress record a crash left behind is cleared at start', async () => {
    const store = openStore(dir, { owner: true });
    const runOnce = storeRunOnce({ store, deduplicationWindowSeconds: 60, inProgressTimeoutMs: 60_000 });
    let finish: () => void = () => undefined;
    const first = runOnce('default:msg_2', () => new Promise((resolve) => (finish = () => resolve('delivered'))));
    await expect(runOnce('default:msg_2', async () => 'delivered')).rejects.toBeInstanceOf(DeliveryInProgressError);
    expect(store.dedupClearInProgress()).toBe(1);
    expect(await runOnce('default:msg_2', async () => 'delivered')).toEqual({ value: 'delivered', duplicate: false });
    finish();
    await first;
    store.close();
  });
});
