/**
 * The DynamoDB thread store against dynalite, on a table shaped like the construct's: what is its
 * own. What every thread store must do is the contract suite's (test/contracts/thread-store.contract.test.ts).
 */
import { createDynamoDbThreadStore } from '../../lambda/transformer/dynamodb-thread-store';
import { emptyCard } from '../../lambda/transformer/threads/card';
import { startThreadDynalite, type ThreadDynalite } from '../support/dynalite-threads';

jest.setTimeout(20_000);

let db: ThreadDynalite;
beforeAll(async () => {
  db = await startThreadDynalite();
});
afterAll(() => db.stop());

test('a DynamoDB failure other than a failed condition is thrown (the delivery retries), not read as "exists"', async () => {
  const threads = createDynamoDbThreadStore({ tableName: 'no-such-table', ttlSeconds: 60, client: db.client });
  await expect(threads.create('default', 'payment:pay_1', { channel: 'C0TESTCHAN', ts: '1.1', card: emptyCard('payment:pay_1'), lastEventAt: 0, version: 1 })).rejects.toThrow(/resource not found/i);
});
