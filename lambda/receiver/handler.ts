/**
 * Receiver Lambda: API Gateway REST proxy event -> the core receiver (lambda/receiver/webhook-receiver.ts).
 * Thin wiring only: raw body, headers, environment, Secrets Manager, SQS, and the telemetry every
 * function of the construct has (Powertools Logger and Metrics under middy, withTelemetry).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ReceiverEnv } from '../shared/function-env';
import { ServiceName } from '../shared/metrics';
import { createTelemetry, withTelemetry, type LambdaHandler } from '../shared/aws/telemetry';
import { createWebhookReceiver, signingKeyParser, type ReceiverRequest } from './webhook-receiver';
import { CachedSecret } from '../shared/secret-cache';
import { globProblems } from '../shared/event-glob';
import { secretsManagerLoader } from '../shared/aws/secrets-manager';
import { sqsWebhookQueue } from './sqs-webhook-queue';
import { normaliseHeaders } from './headers';
import { EnvConfigReader } from '../shared/env-config';
import { Defaults } from '../shared/defaults';
import { Limits } from '../shared/limits';

/**
 * One Logger and one Metrics for the Lambda instance, shared by every handler built here, so the
 * ColdStart metric and the logs' `cold_start: true` mark the instance's first invocation only.
 * What a webhook writes: the EMF document Powertools Metrics flushes after the invocation (the
 * request's counts, with the answer's webhookId, eventType, outcome, statusCode and bodyBytes as
 * metadata), and for a refusal or failure a WARN or ERROR line besides; an accepted webhook's own
 * "Webhook answered" line is DEBUG, so at the default level it writes that one document only.
 * The construct's metricXxx() methods filter on this `service` dimension: one constant for both.
 */
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
    toleranceSeconds: config.limited(ReceiverEnv.TimestampToleranceSeconds, Defaults.timestampToleranceSeconds, Limits.timestampToleranceSeconds),
    secretCacheTtlSeconds: config.limited(ReceiverEnv.SecretCacheTtlSeconds, Defaults.secretCacheTtlSeconds, Limits.secretCacheTtlSeconds),
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

/**
 * The body exactly as Dodo sent it: base64 decoded to its bytes, plain text as it is (see
 * ReceiverRequest.body). A lone surrogate, which no UTF-8 byte sequence decodes to, becomes U+FFFD,
 * as encoding the text to bytes does (what was signed); SQS would refuse it in a message body.
 */
export function requestBody(event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>): Buffer | string {
  if (event.body === null || event.body === undefined) return '';
  if (event.isBase64Encoded) return Buffer.from(event.body, 'base64');
  // ES2024 String methods (Node 20+), not in the ES2022 lib this project compiles against.
  const text = event.body as string & { isWellFormed(): boolean; toWellFormed(): string };
  return text.isWellFormed() ? text : text.toWellFormed();
}

export type ReceiverHandler = LambdaHandler<APIGatewayProxyEvent, APIGatewayProxyResult>;

/**
 * The Lambda handler for one configuration; `handler` below is this over the function's environment.
 * Every handler shares the module's telemetry: one Lambda instance, one ColdStart metric.
 */
export function createReceiverHandler(config: ReceiverConfig): ReceiverHandler {
  sqs ??= new SQSClient({});
  const receive = createWebhookReceiver({
    signingKeys: new CachedSecret({
      load: secretsManagerLoader(config.signingSecretId),
      parse: signingKeyParser(telemetry.coreLogger),
      ttlMs: config.secretCacheTtlSeconds * 1000,
    }),
    enqueue: sqsWebhookQueue(sqs, config.queueUrl),
    eventGlobs: config.eventGlobs,
    toleranceSeconds: config.toleranceSeconds,
    logger: telemetry.coreLogger,
    metrics: telemetry.coreMetrics,
  });

  return withTelemetry(telemetry, async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const request: ReceiverRequest = { headers: requestHeaders(event), body: requestBody(event) };
    // The correlation id comes from the lower-cased headers rather than injectLambdaContext's
    // correlationIdPath: that JMESPath lookup would need the jmespath package in the bundle and
    // matches header names case-sensitively, while senders and proxies spell them in any case.
    // withTelemetry removes it after the invocation, with every other key set during it.
    const webhookId = request.headers['webhook-id'];
    if (webhookId) telemetry.logger.setCorrelationId(webhookId);
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
