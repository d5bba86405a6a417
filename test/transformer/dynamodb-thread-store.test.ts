/** The DynamoDB thread store against dynalite, on a table shaped like the construct's. */
import { createDynamoDbThreadStore } from '../../lambda/transformer/dynamodb-thread-store';
import { emptyCard } from '../../lambda/transformer/threads/card';
import { startThreadDynalite, type ThreadDynalite } from '../support/dynalite-threads';
import { expectThreadStoreContract } from '../support/thread-store-contract';

jest.setTimeout(20_000);

let db: ThreadDynalite;
beforeAll(async () => {
  db = await startThreadDynalite();
});
afterAll(() => db.stop());

test('one create per key, replace only at the version read, forgotten after the TTL', async () => {
  let now = Date.parse('2026-03-14T09:00:00Z');
  const threads = createDynamoDbThreadStore({ tableName: await db.createThreadTable(), ttlSeconds: 60, client: db.client, now: () => now });
  await expectThreadStoreContract(threads, (ms) => (now += ms), 60);
});

test('a DynamoDB failure other than a failed condition is thrown (the delivery retries), not read as "exists"', async () => {
  const threads = createDynamoDbThreadStore({ tableName: 'no-such-table', ttlSeconds: 60, client: db.client });
  await expect(threads.create('default', 'payment:pay_1', { channel: 'C0TESTCHAN', ts: '1.1', card: emptyCard('payment:pay_1'), lastEventAt: 0, version: 1 })).rejects.toThrow(/resource not found/i);
});
