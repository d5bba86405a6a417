/**
 * Alerts Lambda, invoked by EventBridge Scheduler every few minutes: a thin adapter over run.ts,
 * with the summaries' DynamoDB table (counters and open episodes) and the transformer's SQS queue
 * as its ports. An alert is delivered by the transformer like every event: pacing, retries, dead
 * letters, deduplication by its id.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient, SendMessageCommand } from '@aws-sdk/client-sqs';
import { EnvConfigReader } from '../shared/env-config';
import { AlertsEnv } from '../shared/function-env';
import { ServiceName } from '../shared/metrics';
import { toSqsMessage } from '../shared/aws/sqs-message';
import { createTelemetry, withTelemetry, type LambdaHandler, type Telemetry } from '../shared/aws/telemetry';
import { dynamoAlertSource, dynamoAlertStore } from './dynamodb-alerts';
import type { AlertSettings } from './rules';
import { runAlerts, type AlertRunResult } from './run';

export interface AlertHandlerOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly dynamodb?: DynamoDBClient;
  readonly sqs?: SQSClient;
  readonly telemetry?: Telemetry;
  readonly now?: () => number;
}

export function createAlertHandler(options: AlertHandlerOptions = {}): LambdaHandler<unknown, AlertRunResult> {
  const telemetry = options.telemetry ?? createTelemetry(ServiceName.Alerts);
  return withTelemetry(telemetry, async () => {
    const config = new EnvConfigReader(options.env ?? process.env);
    const tableName = config.required(AlertsEnv.SummaryTableName);
    const queueUrl = config.required(AlertsEnv.QueueUrl);
    const routeId = config.required(AlertsEnv.RouteId);
    const settingsText = config.required(AlertsEnv.Settings);
    config.throwIfProblems('alerts function configuration');
    const settings = JSON.parse(settingsText) as AlertSettings;
    const now = options.now ?? Date.now;
    const dynamodb = options.dynamodb ?? new DynamoDBClient({});
    const sqs = options.sqs ?? new SQSClient({});
    const result = await runAlerts({
      settings,
      source: dynamoAlertSource(dynamodb, tableName, now),
      store: dynamoAlertStore(dynamodb, tableName),
      routeId,
      nowMs: now(),
      enqueue: async (webhook) => {
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, ...toSqsMessage(webhook) }));
      },
    });
    telemetry.logger.info('Alerts', { ...result });
    return result;
  });
}

export const handler = createAlertHandler();
