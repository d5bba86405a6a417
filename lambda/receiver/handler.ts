/**
 * Receiver Lambda: API Gateway REST proxy event -> the core receiver (lambda/receiver/webhook-receiver.ts).
 * Thin wiring only: raw body bytes, headers, environment, Secrets Manager, SQS, Powertools (through middy).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ReceiverEnv } from '../shared/function-env';
import { ServiceName } from '../shared/metrics';
import { createWebhookReceiver, signingKeyParser, type ReceiverRequest } from './webhook-receiver';
import { CachedSecret } from '../shared/secret-cache';
import { globProblems } from '../shared/event-glob';
import { secretsManagerLoader } from '../shared/aws/secrets-manager';
import { createTelemetry, withTelemetry } from '../shared/aws/telemetry';
import { sqsWebhookQueue } from './sqs-webhook-queue';
import { normaliseHeaders } from './headers';
import { EnvConfigReader } from '../shared/env-config';
import { Defaults } from '../shared/defaults';

// The construct's metricXxx() methods filter on this `service` dimension: one constant for both.
const telemetry = createTelemetry(ServiceName.Receiver);
let sqs: SQSClient | undefined;

export interface ReceiverConfig {
  readonly signingSecretId: string;
  readonly queueUrl: string;
  readonly eventGlobs: readonly string[];
  readonly toleranceSeconds: number;
  readonly secretCacheTtlSeconds: number;
}

/** Reads the receiver's configuration (set by the construct); throws once, naming every problem. */
export function receiverConfigFromEnv(env: NodeJS.ProcessEnv): ReceiverConfig {
  const config = new EnvConfigReader(env);
  const { problems } = config;
  const seconds = (name: string, fallback: number): number =>
    config.number(name, fallback, (value) => Number.isInteger(value) && value >= 0, 'a whole number of seconds');
  let eventGlobs: string[] = ['*'];
  const filter = config.optional(ReceiverEnv.EventFilter);
  if (filter !== undefined) {
    try {
      const parsed: unknown = JSON.parse(filter);
      if (!Array.isArray(parsed) || !parsed.every((glob): glob is string => typeof glob === 'string')) throw new Error('not an array of strings');
      eventGlobs = parsed;
      problems.push(...parsed.flatMap(globProblems));
    } catch {
      problems.push(`${ReceiverEnv.EventFilter} must be a JSON array of event-type globs, got ${JSON.stringify(filter)}`);
    }
  }
  const receiverConfig: ReceiverConfig = {
    signingSecretId: config.required(ReceiverEnv.SigningSecretArn),
    queueUrl: config.required(ReceiverEnv.QueueUrl),
    eventGlobs,
    toleranceSeconds: seconds(ReceiverEnv.TimestampToleranceSeconds, Defaults.timestampToleranceSeconds),
    secretCacheTtlSeconds: seconds(ReceiverEnv.SecretCacheTtlSeconds, Defaults.secretCacheTtlSeconds),
  };
  config.throwIfProblems('Receiver configuration is invalid');
  return receiverConfig;
}

/**
 * Header names lower-cased; a header sent several times is joined with a space (so two
 * `webhook-signature` lines read as one signature list). `multiValueHeaders` holds every line of a
 * header and wins; `headers` (the last line only) fills in names it lacks. The same normalisation
 * as `dodo-slack serve` (./headers.ts).
 */
export function requestHeaders(event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>): Record<string, string> {
  return normaliseHeaders(event.multiValueHeaders, event.headers);
}

/** The body exactly as Dodo sent it. */
export function requestBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

export type ReceiverHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The Lambda handler for one configuration; `handler` below is this over the function's environment.
 * Every handler shares the module's telemetry: one Lambda instance, one ColdStart metric.
 */
export function createReceiverHandler(config: ReceiverConfig): ReceiverHandler {
  const { logger, coreLogger, coreMetrics } = telemetry;
  sqs ??= new SQSClient({});
  const receive = createWebhookReceiver({
    signingKeys: new CachedSecret({
      load: secretsManagerLoader(config.signingSecretId),
      parse: signingKeyParser(coreLogger),
      ttlMs: config.secretCacheTtlSeconds * 1000,
    }),
    enqueue: sqsWebhookQueue(sqs, config.queueUrl),
    eventGlobs: config.eventGlobs,
    toleranceSeconds: config.toleranceSeconds,
    logger: coreLogger,
    metrics: coreMetrics,
  });

  return withTelemetry(telemetry, async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const request: ReceiverRequest = { headers: requestHeaders(event), body: requestBody(event) };
    // Set here from the lower-cased headers rather than with injectLambdaContext's correlationIdPath:
    // that JMESPath lookup would need the jmespath package in the bundle and matches header names
    // case-sensitively, while senders and proxies spell them in any case. Removed after the
    // invocation by the middleware (resetKeys).
    const webhookId = request.headers['webhook-id'];
    if (webhookId) logger.setCorrelationId(webhookId);
    const response = await receive(request);
    return { statusCode: response.statusCode, headers: { 'content-type': 'application/json' }, body: response.body };
  });
}

let fromEnvironment: ReceiverHandler | undefined;

/** API Gateway REST proxy entry point. Built on the first invocation, then reused (secret cache included). */
export const handler: ReceiverHandler = (event, context) => {
  fromEnvironment ??= createReceiverHandler(receiverConfigFromEnv(process.env));
  return fromEnvironment(event, context);
};
