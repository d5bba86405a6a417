/**
 * App mode's thread store (threads/thread-store.ts) on DynamoDB: one item per route and thread key,
 * written with conditions (a new thread only where none is, a card only over the version read), and
 * expired by the table's TTL (`expiration`, epoch seconds) after the thread's last event.
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { CardState } from './threads/card';
import { THREAD_TABLE_PARTITION_KEY, THREAD_TABLE_TTL_ATTRIBUTE, type ThreadRecord, type ThreadStore } from './threads/thread-store';

export interface DynamoDbThreadStoreOptions {
  readonly tableName: string;
  readonly ttlSeconds: number;
  /** @default a DynamoDBClient from the environment (region, credentials, AWS_ENDPOINT_URL_DYNAMODB) */
  readonly client?: DynamoDBClient;
  readonly now?: () => number;
}

/** The item as DynamoDB stores it: flat strings and numbers, written by hand (no document client in the bundle). */
type Item = Record<string, AttributeValue>;

export function createDynamoDbThreadStore(options: DynamoDbThreadStoreOptions): ThreadStore {
  const client = options.client ?? new DynamoDBClient({});
  const now = options.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  // The route id is letters and digits (checked at synth), so `#` cannot appear in it.
  const pk = (route: string, key: string): AttributeValue => ({ S: `${route}#${key}` });
  const item = (route: string, key: string, record: ThreadRecord): Item => ({
    [THREAD_TABLE_PARTITION_KEY]: pk(route, key),
    channel: { S: record.channel },
    ts: { S: record.ts },
    card: { S: JSON.stringify(record.card) },
    lastEventAt: { N: String(record.lastEventAt) },
    version: { N: String(record.version) },
    [THREAD_TABLE_TTL_ATTRIBUTE]: { N: String(nowSeconds() + options.ttlSeconds) },
  });
  const conditional = async (put: PutItemCommand): Promise<boolean> => {
    try {
      await client.send(put);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as { name?: unknown }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  };

  return {
    async get(route, key) {
      const { Item: found } = await client.send(new GetItemCommand({ TableName: options.tableName, Key: { [THREAD_TABLE_PARTITION_KEY]: pk(route, key) }, ConsistentRead: true }));
      // TTL deletes lazily: an item past its expiration is already forgotten.
      if (found === undefined || Number(found[THREAD_TABLE_TTL_ATTRIBUTE]?.N) <= nowSeconds()) return undefined;
      return {
        channel: found.channel?.S ?? '',
        ts: found.ts?.S ?? '',
        card: JSON.parse(found.card?.S ?? '{}') as CardState,
        lastEventAt: Number(found.lastEventAt?.N ?? 0),
        version: Number(found.version?.N ?? 0),
      };
    },
    create(route, key, record) {
      return conditional(
        new PutItemCommand({
          TableName: options.tableName,
          Item: item(route, key, record),
          ConditionExpression: 'attribute_not_exists(#pk) OR #expiration <= :now',
          ExpressionAttributeNames: { '#pk': THREAD_TABLE_PARTITION_KEY, '#expiration': THREAD_TABLE_TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': { N: String(nowSeconds()) } },
        }),
      );
    },
    replace(route, key, record, expectedVersion) {
      return conditional(
        new PutItemCommand({
          TableName: options.tableName,
          Item: item(route, key, record),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
        }),
      );
    },
  };
}
