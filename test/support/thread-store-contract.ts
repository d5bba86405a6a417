import { emptyCard } from '../../lambda/transformer/threads/card';
import type { ThreadStore } from '../../lambda/transformer/threads/thread-store';

/**
 * What every ThreadStore (serve's SQLite one, the DynamoDB one) must do: one create per key, a
 * replace only at the version read, routes apart, and a thread past its TTL gone for reads and
 * creatable again. `advanceMs` moves the store's clock.
 */
export async function expectThreadStoreContract(threads: ThreadStore, advanceMs: (ms: number) => void, ttlSeconds: number): Promise<void> {
  const record = { channel: 'C0TESTCHAN', ts: '1773480000.000001', card: emptyCard('payment:pay_1'), lastEventAt: 5, version: 1 };

  expect(await threads.create('default', 'payment:pay_1', record)).toBe(true);
  expect(await threads.create('default', 'payment:pay_1', { ...record, ts: '2.000002' })).toBe(false);
  expect(await threads.get('default', 'payment:pay_1')).toEqual(record);
  // Routes keep their own threads.
  expect(await threads.get('Risk', 'payment:pay_1')).toBeUndefined();

  expect(await threads.replace('default', 'payment:pay_1', { ...record, lastEventAt: 9, version: 2 }, 1)).toBe(true);
  expect(await threads.replace('default', 'payment:pay_1', { ...record, lastEventAt: 7, version: 2 }, 1)).toBe(false);
  expect((await threads.get('default', 'payment:pay_1'))?.lastEventAt).toBe(9);

  // Past its TTL the thread is gone for reads, and a new one may be created over it.
  advanceMs(ttlSeconds * 1000 + 1000);
  expect(await threads.get('default', 'payment:pay_1')).toBeUndefined();
  expect(await threads.create('default', 'payment:pay_1', { ...record, ts: '3.000003' })).toBe(true);
  expect((await threads.get('default', 'payment:pay_1'))?.ts).toBe('3.000003');
}
