/**
 * App mode's thread store (threads/thread-store.ts) on DynamoDB: one item per route and thread key,
 * written with conditions (a new thread only where none is, a card only over the version read), and
 * expired by the table's TTL (`expiration`, epoch seconds) after the thread's last event.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { CardState } from './threads/card';
import { THREAD_TABLE_PARTITION_KEY, THREAD_TABLE_TTL_ATTRIBUTE, type ThreadRecord, type ThreadStore } from './threads/thread-store';


export interface DynamoDbThreadStoreOptions {
  readonly tableName: string;
  readonly ttlSeconds: number;
  /** @default a DynamoDBClient from the environment (region, credentials, AWS_ENDPOINT_URL_DYNAMODB) */
  readonly client?: DynamoDBClient;
  readonly now?: () => number;
}

interface Item {
  readonly pk: string;
  readonly channel: string;
  readonly ts: string;
  readonly card: string;
  readonly lastEventAt: number;
  readonly version: number;
  readonly expiration: number;
}

export function createDynamoDbThreadStore(options: DynamoDbThreadStoreOptions): ThreadStore {
  const documents = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}));
  const now = options.now ?? Date.now;
  const nowSeconds = () => Math.floor(now() / 1000);
  // The route id is letters and digits (checked at synth), so `#` cannot appear in it.
  const pk = (route: string, key: string) => `${route}#${key}`;
  const item = (route: string, key: string, record: ThreadRecord): Item => ({
    pk: pk(route, key),
    channel: record.channel,
    ts: record.ts,
    card: JSON.stringify(record.card),
    lastEventAt: record.lastEventAt,
    version: record.version,
    expiration: nowSeconds() + options.ttlSeconds,
  });
  const conditional = async (put: PutCommand): Promise<boolean> => {
    try {
      await documents.send(put);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as { name?: unknown }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  };

  return {
    async get(route, key) {
      const { Item: found } = await documents.send(new GetCommand({ TableName: options.tableName, Key: { [THREAD_TABLE_PARTITION_KEY]: pk(route, key) }, ConsistentRead: true }));
      const stored = found as Item | undefined;
      // TTL deletes lazily: an item past its expiration is already forgotten.
      if (stored === undefined || stored.expiration <= nowSeconds()) return undefined;
      return { channel: stored.channel, ts: stored.ts, card: JSON.parse(stored.card) as CardState, lastEventAt: stored.lastEventAt, version: stored.version };
    },
    create(route, key, record) {
      return conditional(
        new PutCommand({
          TableName: options.tableName,
          Item: item(route, key, record),
          ConditionExpression: 'attribute_not_exists(#pk) OR #expiration <= :now',
          ExpressionAttributeNames: { '#pk': THREAD_TABLE_PARTITION_KEY, '#expiration': THREAD_TABLE_TTL_ATTRIBUTE },
          ExpressionAttributeValues: { ':now': nowSeconds() },
        }),
      );
    },
    replace(route, key, record, expectedVersion) {
      return conditional(
        new PutCommand({
          TableName: options.tableName,
          Item: item(route, key, record),
          ConditionExpression: '#version = :expected',
          ExpressionAttributeNames: { '#version': 'version' },
          ExpressionAttributeValues: { ':expected': expectedVersion },
        }),
      );
    },
  };
}
