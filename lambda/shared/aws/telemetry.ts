import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { METRICS_NAMESPACE, type ServiceName } from '../metrics';
import { type CoreLogger, type CoreMetrics } from '../ports';

/** One of the `ServiceName` values: the `service` dimension the construct's metrics filter on. */
export type TelemetryServiceName = (typeof ServiceName)[keyof typeof ServiceName];

/**
 * Powertools Logger (JSON) and Metrics (EMF) for one Lambda function, plus the same two seen
 * through the core's ports (their `annotate` adds EMF metadata to the invocation's metrics
 * document). Create once per function, at module level, and wrap the handler in
 * {@link withTelemetry}, which flushes the metrics and resets the log keys after each invocation.
 */
export interface Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly coreLogger: CoreLogger;
  readonly coreMetrics: CoreMetrics;
}

export function createTelemetry(serviceName: TelemetryServiceName): Telemetry {
  const logger = new Logger({ serviceName });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  const coreLogger = coreLoggerOf(logger);
  const coreMetrics: CoreMetrics = {
    count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
    milliseconds: (name, value) => metrics.addMetric(name, MetricUnit.Milliseconds, value),
    annotate: (fields) => {
      for (const key of Object.keys(fields)) {
        const value = fields[key];
        // EMF metadata: fields of the next metrics document, searchable in the logs, never
        // dimensions. Powertools types the value as a string but writes whatever it is given, so a
        // number (statusCode, bodyBytes) stays a number in the document, as queries compare it.
        // A field named like a metric would make Powertools throw while writing the document (and
        // the invocation fail): the core's fields are ids, names and outcomes, never metric names.
        if (value !== undefined) metrics.addMetadata(key, value as string);
      }
    },
  };
  return { logger, metrics, coreLogger, coreMetrics };
}

/** Powertools Logger seen through the core's logging port. */
function coreLoggerOf(logger: Logger): CoreLogger {
  return {
    debug: (message, extra) => (extra ? logger.debug(message, extra) : logger.debug(message)),
    info: (message, extra) => (extra ? logger.info(message, extra) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra) : logger.error(message)),
  };
}

export type LambdaHandler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;

/**
 * `handler` as a middy handler with Powertools' middlewares: the Lambda context on every log
 * line, log keys set during an invocation (the correlation id) removed after it, stored metrics
 * flushed after it (also when it throws: the error still fails the invocation), and the
 * `ColdStart` metric on the first invocation of the instance.
 */
export function withTelemetry<TEvent, TResult>(telemetry: Telemetry, handler: LambdaHandler<TEvent, TResult>): LambdaHandler<TEvent, TResult> {
  // No early timeout: middy would otherwise reject 5 ms before the Lambda deadline while the handler
  // keeps running. The transformer already keeps time back and defers what it cannot finish, and
  // an early rejection would turn its nearly settled batch into a function error.
  // logEvent false whatever POWERTOOLS_LOGGER_LOG_EVENT says: an event holds whole webhook bodies,
  // with customer names and emails, which the logs (kept a year) are not the place for.
  return middy<TEvent, TResult>(handler, { timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(telemetry.logger, { resetKeys: true, logEvent: false }))
    .use(logMetrics(telemetry.metrics, { captureColdStartMetric: true }));
}
