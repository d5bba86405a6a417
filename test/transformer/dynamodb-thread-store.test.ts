/** The DynamoDB thread store against dynalite, on a table shaped like the construct's. */
import { createDynamoDbThreadStore } from '../../lambda/transformer/dynamodb-thread-store';
import { emptyCard } from '../../lambda/transformer/threads/card';
import { startThreadDynalite, type ThreadDynalite } from '../support/dynalite-threads';

jest.setTimeout(20_000);

let db: ThreadDynalite;
beforeAll(async () => {
  db = await startThreadDynalite();
});
afterAll(() => db.stop());

test('one create per key, replace only at the version read, forgotten after the TTL', async () => {
  let now = Date.parse('2026-03-14T09:00:00Z');
  const threads = createDynamoDbThreadStore({ tableName: await db.createThreadTable(), ttlSeconds: 60, client: db.client, now: () => now });
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
  now += 61_000;
  expect(await threads.get('default', 'payment:pay_1')).toBeUndefined();
  expect(await threads.create('default', 'payment:pay_1', { ...record, ts: '3.000003' })).toBe(true);
  expect((await threads.get('default', 'payment:pay_1'))?.ts).toBe('3.000003');
});

test('a DynamoDB failure other than a failed condition is thrown (the delivery retries), not read as "exists"', async () => {
  const threads = createDynamoDbThreadStore({ tableName: 'no-such-table', ttlSeconds: 60, client: db.client });
  await expect(threads.create('default', 'payment:pay_1', { channel: 'C0TESTCHAN', ts: '1.1', card: emptyCard('payment:pay_1'), lastEventAt: 0, version: 1 })).rejects.toThrow(/resource not found/i);
});
