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
import { awsNameLookup } from '../shared/aws/dodo-api-key';
import { Defaults } from '../shared/defaults';
import type { NameLookup } from '../shared/ports';
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
  // One per instance: its key and the names it found are cached across invocations.
  let names: { readonly arn: string; readonly lookup: NameLookup } | undefined;
  return withTelemetry(telemetry, async (event: unknown) => {
    const config = new EnvConfigReader(options.env ?? process.env);
    const tableName = config.required(SummariesEnv.SummaryTableName);
    const queueUrl = config.required(SummariesEnv.QueueUrl);
    const keyArn = config.optional(SummariesEnv.DodoApiKeySecretArn);
    const apiUrl = config.optional(SummariesEnv.DodoApiUrl);
    config.throwIfProblems('summary function configuration');
    if (keyArn !== undefined && names?.arn !== keyArn) {
      names = {
        arn: keyArn,
        lookup: awsNameLookup({
          secretArn: keyArn,
          ...(apiUrl === undefined ? {} : { apiUrl }),
          secretCacheTtlSeconds: Defaults.secretCacheTtlSeconds,
          minRefreshIntervalMs: 10_000,
          logger: telemetry.coreLogger,
          metrics: telemetry.coreMetrics,
        }),
      };
    }
    const input = parseScheduledSummaryEvent(event);
    const sqs = options.sqs ?? new SQSClient({});
    const result = await runScheduledSummary(input, {
      store: dynamoSummaryStore(options.dynamodb ?? new DynamoDBClient({}), tableName),
      enqueue: async (webhook) => {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSqsMessage(webhook) }));
      },
      ...(options.now ? { now: options.now } : {}),
      ...(keyArn !== undefined && names !== undefined ? { names: names.lookup } : {}),
    });
    telemetry.logger.info('Summary', { ...result, kind: input.kind, timeZone: input.timeZone, routeId: input.routeId });
    return result;
  });
}

export const handler = createSummaryHandler();
