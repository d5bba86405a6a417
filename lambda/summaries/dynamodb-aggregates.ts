/**
 * The summaries' aggregates on DynamoDB (AWS adapter). One table, two kinds of items:
 *
 *   pk = "agg",    sk = "<15-minute slot start, ISO>#<shard>"   atomic counters (`ADD`), one
 *                  attribute per counter name (lambda/summaries/facts.ts), plus one marker
 *                  attribute `w:<hash of webhook-id>` per webhook counted in it
 *   pk = "posted", sk = "<kind>|<time zone>|<route>|<first day>"   a posted summary: what it
 *                  reported, its message, and when it was queued
 *
 * Counting is ONE UpdateItem per event: `ADD` the event's counters and `SET` its marker, on the
 * condition that the marker is absent. A second delivery of the same webhook-id (Dodo's retries,
 * SQS redelivery, a redrive, several routes) fails the condition and adds nothing, atomically.
 * The marker lives in the item of the event's own slot, so this relies on a webhook-id keeping
 * its envelope `timestamp` (Dodo resends the same event). Slots are 15 minutes (every current
 * IANA offset is a multiple of 15 minutes, so any zone's day is a whole number of slots); the
 * webhook-id's hash picks one of 8 shards per slot, which keeps an item under DynamoDB's 400 KB
 * for about 60,000 events per 15 minutes.
 */
import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { SummaryTableKey } from '../shared/function-env';
import type { QueuedWebhook } from '../shared/webhook';
import { postedSummaryKey, type PostedSummary, type SummarySource, type SummarySpec } from './compose';
import { summaryFactsOfWebhook, UNCOUNTED, type Counters } from './facts';

export const SLOT_MS = 15 * 60_000;
const SHARDS = 8;
const AGGREGATE_PK = 'agg';
const POSTED_PK = 'posted';
const MARKER_PREFIX = 'w:';


function webhookHash(webhookId: string): Buffer {
  return createHash('sha256').update(webhookId).digest();
}

/** Sort key of the item an event is counted in: its slot and the shard its webhook-id picks. */
export function slotKey(eventMs: number, webhookId: string): string {
  const slot = Math.floor(eventMs / SLOT_MS) * SLOT_MS;
  return `${new Date(slot).toISOString()}#${webhookHash(webhookId)[0] % SHARDS}`;
}

/** Name of the attribute that says "this webhook-id is counted here". */
export function markerName(webhookId: string): string {
  return `${MARKER_PREFIX}${webhookHash(webhookId).subarray(0, 16).toString('base64url')}`;
}

/**
 * The transformer's `countForSummaries` port on DynamoDB. Resolves when the event is counted
 * (now or before); rejects when DynamoDB fails (the record is retried).
 */
export function dynamoSummaryCounter(client: DynamoDBClient, tableName: string, now: () => number = Date.now): (webhook: QueuedWebhook) => Promise<void> {
  return async (webhook) => {
    const { occurredAtMs, counters } = summaryFactsOfWebhook(webhook.body, webhook.webhookTimestamp, now(), webhook.mode);
    const names: Record<string, string> = { '#w': markerName(webhook.webhookId) };
    const values: Record<string, AttributeValue> = { ':one': { N: '1' } };
    const adds = Object.entries(counters).map(([name, value], index) => {
      names[`#c${index}`] = name;
      values[`:v${index}`] = { N: String(value) };
      return `#c${index} :v${index}`;
    });
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: {
            [SummaryTableKey.partition]: { S: AGGREGATE_PK },
            [SummaryTableKey.sort]: { S: slotKey(occurredAtMs, webhook.webhookId) },
          },
          UpdateExpression: `SET #w = :one ADD ${adds.join(', ')}`,
          ConditionExpression: 'attribute_not_exists(#w)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as { name?: unknown }).name === 'ConditionalCheckFailedException') return; // counted before
      throw error;
    }
  };
}

/**
 * The `countGivenUp` port on DynamoDB: adds one to `uncounted` in the event's slot, unless the
 * webhook-id was counted after all or is marked already (a marker beside the counted one).
 */
export function dynamoUncountedMarker(client: DynamoDBClient, tableName: string, now: () => number = Date.now): (webhook: QueuedWebhook) => Promise<void> {
  return async (webhook) => {
    const { occurredAtMs } = summaryFactsOfWebhook(webhook.body, webhook.webhookTimestamp, now(), webhook.mode);
    try {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: { [SummaryTableKey.partition]: { S: AGGREGATE_PK }, [SummaryTableKey.sort]: { S: slotKey(occurredAtMs, webhook.webhookId) } },
          UpdateExpression: 'SET #x = :one ADD #u :one',
          ConditionExpression: 'attribute_not_exists(#w) AND attribute_not_exists(#x)',
          ExpressionAttributeNames: { '#w': markerName(webhook.webhookId), '#x': `${markerName(webhook.webhookId)}.x`, '#u': UNCOUNTED },
          ExpressionAttributeValues: { ':one': { N: '1' } },
        }),
      );
    } catch (error) {
      if ((error as { name?: unknown }).name === 'ConditionalCheckFailedException') return;
      throw error;
    }
  };
}

function postedKey(key: string): Record<string, AttributeValue> {
  return { [SummaryTableKey.partition]: { S: POSTED_PK }, [SummaryTableKey.sort]: { S: key } };
}

/** A posted summary plus whether its message reached the queue. */
export type StoredPostedSummary = PostedSummary & { readonly queuedAtMs?: number };

export interface DynamoSummaryStore extends SummarySource {
  postedRecord(spec: SummarySpec, periodFirstDay: string): Promise<StoredPostedSummary | undefined>;
  /** Records a posted summary unless one exists (false then); updates the noted periods' reported totals. */
  recordPosted(spec: SummarySpec, posted: PostedSummary, noted: readonly { readonly periodFirstDay: string; readonly reported: Counters }[]): Promise<boolean>;
  /** The summary's message is on the queue. */
  markQueued(spec: SummarySpec, periodFirstDay: string, atMs: number): Promise<void>;
}

export function dynamoSummaryStore(client: DynamoDBClient, tableName: string): DynamoSummaryStore {
  const postedRecord = async (spec: SummarySpec, periodFirstDay: string): Promise<StoredPostedSummary | undefined> => {
    const { Item: item } = await client.send(new GetItemCommand({ TableName: tableName, Key: postedKey(postedSummaryKey(spec, periodFirstDay)), ConsistentRead: true }));
    if (!item) return undefined;
    return {
      periodFirstDay,
      postedAtMs: Number(item.postedAtMs?.N ?? 0),
      reported: JSON.parse(item.reported?.S ?? '{}') as Counters,
      message: JSON.parse(item.message?.S ?? '{"text":""}') as PostedSummary['message'],
      ...(item.queuedAtMs?.N === undefined ? {} : { queuedAtMs: Number(item.queuedAtMs.N) }),
    };
  };
  return {
    async totals(startMs, endMs) {
      const sum: Record<string, number> = {};
      let exclusiveStartKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#pk': SummaryTableKey.partition, '#sk': SummaryTableKey.sort },
            ExpressionAttributeValues: { ':pk': { S: AGGREGATE_PK }, ':from': { S: new Date(startMs).toISOString() }, ':to': { S: new Date(endMs - 1).toISOString() } },
            ConsistentRead: true,
            ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          for (const [name, value] of Object.entries(item)) {
            if (name === SummaryTableKey.partition || name === SummaryTableKey.sort || name.startsWith(MARKER_PREFIX) || value.N === undefined) continue;
            sum[name] = (sum[name] ?? 0) + Number(value.N);
          }
        }
        exclusiveStartKey = page.LastEvaluatedKey;
      } while (exclusiveStartKey);
      return sum;
    },
    posted: postedRecord,
    postedRecord,
    async recordPosted(spec, posted, noted) {
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...postedKey(postedSummaryKey(spec, posted.periodFirstDay)),
              postedAtMs: { N: String(posted.postedAtMs) },
              reported: { S: JSON.stringify(posted.reported) },
              message: { S: JSON.stringify(posted.message) },
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': SummaryTableKey.partition },
          }),
        );
      } catch (error) {
        if ((error as { name?: unknown }).name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
      for (const entry of noted) {
        await client.send(
          new UpdateItemCommand({
            TableName: tableName,
            Key: postedKey(postedSummaryKey(spec, entry.periodFirstDay)),
            UpdateExpression: 'SET reported = :reported',
            ExpressionAttributeValues: { ':reported': { S: JSON.stringify(entry.reported) } },
          }),
        );
      }
      return true;
    },
    async markQueued(spec, periodFirstDay, atMs) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: postedKey(postedSummaryKey(spec, periodFirstDay)),
          UpdateExpression: 'SET queuedAtMs = :at',
          ExpressionAttributeValues: { ':at': { N: String(atMs) } },
        }),
      );
    },
  };
}
