/**
 * The logging and metrics ports of the pure modules: Powertools Logger and Metrics fit them on
 * Lambda, the terminal and counters in `dodo-slack serve`, recorders in tests.
 */
import type { MetricName } from './metrics';

/** Logging port (Powertools Logger fits it; tests pass a recorder). Never pass secrets. */
export interface CoreLogger {
  debug(message: string, extra?: Record<string, unknown>): void;
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Metrics port (Powertools Metrics on Lambda, counters locally). */
export interface CoreMetrics {
  count(name: MetricName, value?: number): void;
  milliseconds(name: MetricName, value: number): void;
  /**
   * High-cardinality fields of this invocation (ids, outcome), written with its metrics: on Lambda
   * they are EMF metadata, in the metrics document's log line (searchable, never dimensions).
   * Optional: counters that only count ignore them.
   */
  annotate?(fields: Readonly<Record<string, string | number | undefined>>): void;
}

/** Does nothing: for callers that do not care about logs or metrics. */
export const silentLogger: CoreLogger = { debug() {}, info() {}, warn() {}, error() {} };
export const noMetrics: CoreMetrics = { count() {}, milliseconds() {} };
