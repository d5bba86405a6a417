import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type ServiceName } from '../metrics';
import { type CoreLogger, type CoreMetrics } from '../ports';

/** One of the `ServiceName` values: the `service` dimension the construct's metrics filter on. */
export type TelemetryServiceName = (typeof ServiceName)[keyof typeof ServiceName];

/**
 * Powertools Logger (JSON) and Metrics (EMF) for one Lambda function, plus the same two seen
 * through the core's ports. Create once per function, at module level; flush metrics once per
 * invocation with `metrics.publishStoredMetrics()`.
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
  const coreLogger: CoreLogger = {
    debug: (message, extra) => (extra ? logger.debug(message, extra) : logger.debug(message)),
    info: (message, extra) => (extra ? logger.info(message, extra) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra) : logger.error(message)),
  };
  const coreMetrics: CoreMetrics = {
    count: (name, value = 1) => metrics.addMetric(name, MetricUnit.Count, value),
    milliseconds: (name, value) => metrics.addMetric(name, MetricUnit.Milliseconds, value),
  };
  return { logger, metrics, coreLogger, coreMetrics };
}
