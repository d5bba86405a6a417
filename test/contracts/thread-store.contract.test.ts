/**
 * App mode's thread store and every adapter of it, held to one contract: the DynamoDB table (the
 * Lambda's, against dynalite on a table shaped like the construct's) and serve's SQLite store. One
 * create per key, a replace only at the version read, routes apart, and a thread past its TTL gone
 * for reads and creatable again.
 */
import { createDynamoDbThreadStore } from '../../lambda/transformer/dynamodb-thread-store';
import { emptyCard } from '../../lambda/transformer/threads/card';
import type { ThreadStore } from '../../lambda/transformer/threads/thread-store';
import { startThreadDynalite, type ThreadDynalite } from '../support/dynalite-threads';
import { useScratchStores } from '../support/scratch-stores';

jest.setTimeout(20_000);

const TTL_SECONDS = 60;

interface Adapter {
  readonly name: string;
  /** A fresh store whose clock is `now()`. */
  make(now: () => number): Promise<ThreadStore>;
}

let db: ThreadDynalite;
beforeAll(async () => {
  db = await startThreadDynalite();
});
afterAll(() => db.stop());
const scratchStore = useScratchStores();

const ADAPTERS: Adapter[] = [
  { name: 'DynamoDB (dynalite)', make: async (now) => createDynamoDbThreadStore({ tableName: await db.createThreadTable(), ttlSeconds: TTL_SECONDS, client: db.client, now }) },
  {
    name: "serve's SQLite store",
    make: (now) => Promise.resolve(scratchStore().threads({ ttlSeconds: TTL_SECONDS, now })),
  },
];

const record = { channel: 'C0TESTCHAN', ts: '1773480000.000001', card: emptyCard('payment:pay_1'), lastEventAt: 5, version: 1 };

describe.each(ADAPTERS)('$name', (adapter) => {
  let now: number;
  let threads: ThreadStore;
  beforeEach(async () => {
    now = Date.parse('2026-03-14T09:00:00Z');
    threads = await adapter.make(() => now);
  });

  test('one create per key; the record reads back as written', async () => {
    expect(await threads.get('default', 'payment:pay_1')).toBeUndefined();
    expect(await threads.create('default', 'payment:pay_1', record)).toBe(true);
    expect(await threads.create('default', 'payment:pay_1', { ...record, ts: '2.000002' })).toBe(false);
    expect(await threads.get('default', 'payment:pay_1')).toEqual(record);
  });

  test('routes keep their own threads', async () => {
    await threads.create('default', 'payment:pay_1', record);
    expect(await threads.get('Risk', 'payment:pay_1')).toBeUndefined();
    expect(await threads.create('Risk', 'payment:pay_1', { ...record, ts: '3.000003' })).toBe(true);
    expect((await threads.get('default', 'payment:pay_1'))?.ts).toBe(record.ts);
  });

  test('a replace succeeds only at the version read (two writers never overwrite each other)', async () => {
    await threads.create('default', 'payment:pay_1', record);
    expect(await threads.replace('default', 'payment:pay_1', { ...record, lastEventAt: 9, version: 2 }, 1)).toBe(true);
    expect(await threads.replace('default', 'payment:pay_1', { ...record, lastEventAt: 7, version: 2 }, 1)).toBe(false);
    expect(await threads.get('default', 'payment:pay_1')).toMatchObject({ lastEventAt: 9, version: 2 });
    expect(await threads.replace('default', 'payment:pay_2', { ...record, version: 2 }, 1)).toBe(false);
  });

  test('past its TTL after the last write a thread is gone for reads and may be created again; a write keeps it alive', async () => {
    await threads.create('default', 'payment:pay_1', record);
    now += (TTL_SECONDS - 10) * 1000;
    expect(await threads.replace('default', 'payment:pay_1', { ...record, version: 2 }, 1)).toBe(true);
    now += (TTL_SECONDS - 10) * 1000;
    expect(await threads.get('default', 'payment:pay_1')).toMatchObject({ version: 2 });
    now += TTL_SECONDS * 1000;
    expect(await threads.get('default', 'payment:pay_1')).toBeUndefined();
    expect(await threads.create('default', 'payment:pay_1', { ...record, ts: '3.000003' })).toBe(true);
    expect((await threads.get('default', 'payment:pay_1'))?.ts).toBe('3.000003');
  });
});
