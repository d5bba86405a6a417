/**
 * Deduplication on DynamoDB itself: Powertools' DynamoDBPersistenceLayer (what the transformer
 * uses on AWS) against dynalite, on a table shaped like the construct's: the item the table
 * actually holds and its id. What every deduplication adapter must do (once, failures, concurrent
 * consumers, in-progress expiry, the window) is the contract suite's
 * (test/contracts/run-once.contract.test.ts), which runs this adapter too.
 */
import { GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { createHash } from 'node:crypto';
import { createIdempotentRunOnce } from '../../lambda/transformer/idempotency';
import { deduplicationTableDefinition, startDynalite, type Dynalite } from '../support/dynalite';

let db: Dynalite;
beforeAll(async () => {
  db = await startDynalite();
});
afterAll(async () => {
  await db.stop();
});
afterEach(() => jest.restoreAllMocks());

async function dedupOnNewTable(expiresAfterSeconds = 172_800, inProgressTimeoutMs = 10_000) {
  const tableName = await db.createDeduplicationTable();
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: db.client });
  return { tableName, ...createIdempotentRunOnce({ persistenceStore, expiresAfterSeconds, inProgressTimeoutMs }) };
}

const items = async (tableName: string) => (await db.client.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
/** The id Powertools stores for a key: the prefix and the md5 of the JSON payload. */
const storedId = (key: string) => `slack-delivery#${createHash('md5').update(JSON.stringify(key)).digest('base64')}`;

test('the construct\'s table has the key and TTL attribute the Powertools layer writes', () => {
  const { input, ttlAttribute } = deduplicationTableDefinition();
  expect(input.KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
  expect(ttlAttribute).toBe('expiration');
});

test('a delivered key is stored COMPLETED with its expiry, and the second run is a duplicate', async () => {
  const { tableName, runOnce } = await dedupOnNewTable(3600);
  const work = jest.fn(() => Promise.resolve('delivered' as const));
  const before = Math.floor(Date.now() / 1000);
  expect(await runOnce('default:msg_1', work)).toEqual({ value: 'delivered', duplicate: false });
  expect(await runOnce('default:msg_1', work)).toEqual({ value: 'delivered', duplicate: true });
  expect(work).toHaveBeenCalledTimes(1);
  const stored = await items(tableName);
  expect(stored).toHaveLength(1);
  expect(stored[0].status).toEqual({ S: 'COMPLETED' });
  const expiration = Number(stored[0].expiration.N);
  expect(expiration).toBeGreaterThanOrEqual(before + 3600);
  expect(expiration).toBeLessThanOrEqual(before + 3602);
  expect(stored[0].data).toEqual({ M: { value: { S: 'delivered' } } });
});

test('the stored id is the one Powertools derives from the key (so a redeploy keeps recognising old records)', async () => {
  const { tableName, runOnce } = await dedupOnNewTable();
  await runOnce('Risk:msg_7', () => Promise.resolve('skipped' as const));
  const [item] = await items(tableName);
  // Powertools hashes the JMESPath result ("Risk:msg_7") as JSON.
  expect(item.id.S).toMatch(/^slack-delivery#/);
  const byId = await db.client.send(new GetItemCommand({ TableName: tableName, Key: { id: { S: item.id.S! } } }));
  expect(byId.Item?.status).toEqual({ S: 'COMPLETED' });
  expect(storedId('Risk:msg_7')).toBe(item.id.S);
});
