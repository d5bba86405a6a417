/**
 * Alerts on DynamoDB (AWS adapter), in the summaries' table (under the notifier's key):
 *
 *   pk = "alert", sk = "<rule>"   the rule's open episode: its id, when it opened, what resolves
 *                                 it, and the message not yet known to be queued
 *
 * and the source the rules read: the aggregates' 15-minute slots (dynamodb-aggregates.ts). A window
 * is widened to whole slots (the last hour is the slots that overlap it), and the last accepted
 * webhook is the end of the latest slot with a counted event (at most now): on AWS the rules see
 * what the transformer has counted, at slot granularity. Totals of whole UTC days before today are
 * kept in memory while the function stays warm (a closed day changes only by late arrivals, which
 * the next cold start picks up).
 */
import { DeleteItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SummaryTableKey } from '../shared/function-env';
import type { SlackMessage } from '../shared/transformation';
import { dynamoSummaryStore, SLOT_MS } from '../summaries/dynamodb-aggregates';
import { addCounters, type Counters } from '../summaries/facts';
import type { AlertRule } from './rules';
import type { AlertSource, AlertStore, StoredAlertEpisode } from './run';

const ALERT_PK = 'alert';
const AGGREGATE_PK = 'agg';
const DAY_MS = 86_400_000;

const key = (rule: string): Record<string, AttributeValue> => ({ [SummaryTableKey.partition]: { S: ALERT_PK }, [SummaryTableKey.sort]: { S: rule } });

export function dynamoAlertStore(client: DynamoDBClient, tableName: string): AlertStore {
  return {
    async list() {
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': SummaryTableKey.partition },
          ExpressionAttributeValues: { ':pk': { S: ALERT_PK } },
          ConsistentRead: true,
        }),
      );
      return (page.Items ?? [])
        .map(
          (item): StoredAlertEpisode => ({
            rule: item[SummaryTableKey.sort].S as AlertRule,
            id: item.id?.S ?? '',
            openedAtMs: Number(item.openedAtMs?.N ?? 0),
            ...(item.detail?.S === undefined ? {} : { detail: JSON.parse(item.detail.S) as Record<string, number | string> }),
            ...(item.pendingKind?.S === undefined || item.pendingMessage?.S === undefined
              ? {}
              : { pending: { kind: item.pendingKind.S as 'alert' | 'resolved', message: JSON.parse(item.pendingMessage.S) as SlackMessage } }),
          }),
        )
        .sort((a, b) => a.openedAtMs - b.openedAtMs || a.rule.localeCompare(b.rule));
    },
    async open(episode, message) {
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              ...key(episode.rule),
              id: { S: episode.id },
              openedAtMs: { N: String(episode.openedAtMs) },
              ...(episode.detail === undefined ? {} : { detail: { S: JSON.stringify(episode.detail) } }),
              pendingKind: { S: 'alert' },
              pendingMessage: { S: JSON.stringify(message) },
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': SummaryTableKey.partition },
          }),
        );
        return true;
      } catch (error) {
        if ((error as { name?: unknown }).name === 'ConditionalCheckFailedException') return false;
        throw error;
      }
    },
    async resolve(episode, message) {
      await client.send(
        new UpdateItemCommand({
          TableName: tableName,
          Key: key(episode.rule),
          UpdateExpression: 'SET pendingKind = :kind, pendingMessage = :message',
          ConditionExpression: 'id = :id',
          ExpressionAttributeValues: { ':kind': { S: 'resolved' }, ':message': { S: JSON.stringify(message) }, ':id': { S: episode.id } },
        }),
      );
    },
    async sent(episode, kind) {
      try {
        if (kind === 'resolved') {
          await client.send(new DeleteItemCommand({ TableName: tableName, Key: key(episode.rule), ConditionExpression: 'id = :id', ExpressionAttributeValues: { ':id': { S: episode.id } } }));
        } else {
          await client.send(
            new UpdateItemCommand({
              TableName: tableName,
              Key: key(episode.rule),
              UpdateExpression: 'REMOVE pendingKind, pendingMessage',
              ConditionExpression: 'id = :id AND pendingKind = :alert',
              ExpressionAttributeValues: { ':id': { S: episode.id }, ':alert': { S: 'alert' } },
            }),
          );
        }
      } catch (error) {
        // Another run got there first: nothing is left to do.
        if ((error as { name?: unknown }).name === 'ConditionalCheckFailedException') return;
        throw error;
      }
    },
  };
}

/** Whole UTC days' totals, while the function is warm. */
const dayCache = new Map<string, Counters>();
/** The longest gap, read at most every 6 hours while the function is warm (it reads every slot of four weeks). */
const gapCache = new Map<string, { readonly atMs: number; readonly gapMs: number | undefined }>();
const GAP_REFRESH_MS = 6 * 3_600_000;

export function dynamoAlertSource(client: DynamoDBClient, tableName: string, now: () => number = Date.now): AlertSource {
  const aggregates = dynamoSummaryStore(client, tableName);
  const slotTotals = (startMs: number, endMs: number) => aggregates.totals(Math.floor(startMs / SLOT_MS) * SLOT_MS, Math.ceil(endMs / SLOT_MS) * SLOT_MS);
  /** Sorted slot starts that hold counted events in `[startMs, endMs)`, newest first when `newestFirst`. */
  const slots = async (startMs: number, endMs: number, newestFirst: boolean, limit?: number): Promise<number[]> => {
    const found: number[] = [];
    let exclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
          ExpressionAttributeNames: { '#pk': SummaryTableKey.partition, '#sk': SummaryTableKey.sort },
          ExpressionAttributeValues: { ':pk': { S: AGGREGATE_PK }, ':from': { S: new Date(startMs).toISOString() }, ':to': { S: new Date(endMs - 1).toISOString() } },
          ProjectionExpression: '#sk',
          ScanIndexForward: !newestFirst,
          ...(limit === undefined ? {} : { Limit: limit }),
          ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) found.push(Date.parse(item[SummaryTableKey.sort].S!.split('#')[0]));
      exclusiveStartKey = limit === undefined ? page.LastEvaluatedKey : undefined;
    } while (exclusiveStartKey);
    return found;
  };
  return {
    async totals(startMs, endMs) {
      const today = Math.floor(now() / DAY_MS) * DAY_MS;
      const firstWholeDay = Math.ceil(startMs / DAY_MS) * DAY_MS;
      const lastWholeDay = Math.min(Math.floor(endMs / DAY_MS) * DAY_MS, today);
      if (lastWholeDay - firstWholeDay < DAY_MS) return slotTotals(startMs, endMs);
      const parts: Promise<Counters>[] = [];
      if (startMs < firstWholeDay) parts.push(slotTotals(startMs, firstWholeDay));
      for (let day = firstWholeDay; day < lastWholeDay; day += DAY_MS) {
        const cacheKey = `${tableName}|${day}`;
        const cached = dayCache.get(cacheKey);
        parts.push(
          cached !== undefined
            ? Promise.resolve(cached)
            : aggregates.totals(day, day + DAY_MS).then((totals) => {
                dayCache.set(cacheKey, totals);
                return totals;
              }),
        );
      }
      if (lastWholeDay < endMs) parts.push(slotTotals(lastWholeDay, endMs));
      return (await Promise.all(parts)).reduce<Counters>((sum, totals) => addCounters(sum, totals), {});
    },
    async lastAcceptedMs(nowMs) {
      // The newest slot with a counted event in the last 35 days (one item per shard: a few reads).
      const [latest] = await slots(nowMs - 35 * DAY_MS, nowMs + SLOT_MS, true, 1);
      return latest === undefined ? undefined : Math.min(latest + SLOT_MS, nowMs);
    },
    async longestGapMs(sinceMs, nowMs) {
      const cached = gapCache.get(tableName);
      if (cached !== undefined && nowMs - cached.atMs < GAP_REFRESH_MS) return cached.gapMs;
      const starts = [...new Set(await slots(sinceMs, nowMs, false))];
      let longest: number | undefined;
      for (let index = 1; index < starts.length; index += 1) longest = Math.max(longest ?? 0, starts[index] - starts[index - 1] - SLOT_MS);
      gapCache.set(tableName, { atMs: nowMs, gapMs: longest });
      return longest;
    },
  };
}
