/**
 * Summary Lambda, invoked by EventBridge Scheduler (one schedule per daily/weekly summary, in the
 * summaries' time zone): a thin adapter over scheduled.ts, with the DynamoDB aggregates and the
 * transformer's SQS queue as its ports. The message is delivered by the transformer like every
 * event: pacing, retries, dead letters, deduplication, metrics and alarms.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { EnvConfigReader } from '../shared/env-config';
import { SummariesEnv } from '../shared/function-env';
import { ServiceName } from '../shared/metrics';
import { toSqsMessage } from '../shared/aws/sqs-message';
import { createTelemetry, withTelemetry, type LambdaHandler, type Telemetry } from '../shared/aws/telemetry';
import { dynamoSummaryStore } from './dynamodb-aggregates';
import { parseScheduledSummaryEvent, runScheduledSummary, type ScheduledSummaryResult } from './scheduled';

export interface SummaryHandlerOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly dynamodb?: DynamoDBClient;
  readonly sqs?: SQSClient;
  readonly telemetry?: Telemetry;
  readonly now?: () => number;
}

export function createSummaryHandler(options: SummaryHandlerOptions = {}): LambdaHandler<unknown, ScheduledSummaryResult> {
  const telemetry = options.telemetry ?? createTelemetry(ServiceName.Summaries);
  return withTelemetry(telemetry, async (event: unknown) => {
    const config = new EnvConfigReader(options.env ?? process.env);
    const tableName = config.required(SummariesEnv.SummaryTableName);
    const queueUrl = config.required(SummariesEnv.QueueUrl);
    config.throwIfProblems('summary function configuration');
    const input = parseScheduledSummaryEvent(event);
    const sqs = options.sqs ?? new SQSClient({});
    const result = await runScheduledSummary(input, {
      store: dynamoSummaryStore(options.dynamodb ?? new DynamoDBClient({}), tableName),
      enqueue: async (webhook) => {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSqsMessage(webhook) }));
      },
      ...(options.now ? { now: options.now } : {}),
    });
    telemetry.logger.info('Summary', { ...result, kind: input.kind, timeZone: input.timeZone, routeId: input.routeId });
    return result;
  });
}

export const handler = createSummaryHandler();
