/**
 * Receiver Lambda: API Gateway REST proxy event -> the core receiver (lambda/receiver/webhook-receiver.ts).
 * Thin wiring only: raw body, headers, environment, Secrets Manager, SQS, Powertools Logger, EMF metrics.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { ReceiverEnv } from '../shared/function-env';
import { METRICS_NAMESPACE, ServiceName } from '../shared/metrics';
import { EmfRequestMetrics } from '../shared/aws/request-metrics';
import { coreLoggerOf } from '../shared/aws/logger-port';
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
 * The receiver's telemetry, leaner than the other functions' Powertools middlewares (telemetry.ts)
 * because it runs once per webhook rather than once per batch: the request's metrics and fields are
 * one EMF document (request-metrics.ts), and Powertools Logger, which writes the warnings and
 * errors, is given the Lambda context and the correlation id only when the request logs something.
 * Module state holds the one invocation in flight: a standard Lambda instance runs one at a time
 * (Lambda Managed Instances' concurrent invocations, which the construct does not use, would need more).
 * Without Powertools' middleware, POWERTOOLS_LOGGER_SAMPLE_RATE and POWERTOOLS_LOGGER_LOG_EVENT are
 * not applied here (the construct sets neither); POWERTOOLS_LOG_LEVEL is, read once at start.
 * The construct's metricXxx() methods filter on this `service` dimension: one constant for both.
 */
const logger = new Logger({ serviceName: ServiceName.Receiver });
const coldStart = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: ServiceName.Receiver });
const requestMetrics = new EmfRequestMetrics(METRICS_NAMESPACE, ServiceName.Receiver);
/** Debug lines (an accepted webhook's "Webhook answered") are built only when the level shows them. */
const debugLogged = ['TRACE', 'DEBUG'].includes(logger.getLevelName());
let coldStartCounted = false;
/** The invocation running now; `logging` once the logger has been given its context. */
let current: { readonly context: Context; webhookId?: string; logging: boolean } | undefined;

function giveLoggerContext(invocation: NonNullable<typeof current>): void {
  invocation.logging = true;
  logger.addContext(invocation.context);
  if (invocation.webhookId) logger.setCorrelationId(invocation.webhookId);
}

const coreLogger = coreLoggerOf(logger, {
  beforeLine: () => {
    if (current !== undefined && !current.logging) giveLoggerContext(current);
  },
  debugLines: debugLogged,
});
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

export type ReceiverHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/**
 * The Lambda handler for one configuration; `handler` below is this over the function's environment.
 * Every handler shares the module's telemetry: one Lambda instance, one ColdStart metric.
 */
export function createReceiverHandler(config: ReceiverConfig): ReceiverHandler {
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
    metrics: requestMetrics,
  });

  return async (event: APIGatewayProxyEvent, context: Context): Promise<APIGatewayProxyResult> => {
    const request: ReceiverRequest = { headers: requestHeaders(event), body: requestBody(event) };
    // The correlation id comes from the lower-cased headers rather than injectLambdaContext's
    // correlationIdPath: that JMESPath lookup would need the jmespath package in the bundle and
    // matches header names case-sensitively, while senders and proxies spell them in any case.
    current = { context, webhookId: request.headers['webhook-id'], logging: false };
    if (!coldStartCounted) {
      coldStartCounted = true;
      coldStart.captureColdStartMetric(context.functionName);
      // Powertools marks the first addContext() of an instance `cold_start: true`: that must be
      // the cold invocation, not the first one that happens to log.
      giveLoggerContext(current);
    }
    try {
      const response = await receive(request);
      return { statusCode: response.statusCode, headers: { 'content-type': 'application/json' }, body: response.body };
    } finally {
      // Also when receive() threw: the metrics recorded so far are written, and no log key of this
      // invocation (the correlation id) is left for the next one.
      requestMetrics.flush();
      if (current.logging) logger.resetKeys();
      current = undefined;
    }
  };
}

let fromEnvironment: ReceiverHandler | undefined;

/** API Gateway REST proxy entry point. Built on the first invocation, then reused (secret cache included). */
export const handler: ReceiverHandler = (event, context) => {
  fromEnvironment ??= createReceiverHandler(receiverConfigFromEnv(process.env));
  return fromEnvironment(event, context);
};
