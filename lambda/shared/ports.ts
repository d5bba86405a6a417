/**
 * The logging, metrics and credential ports of the pure modules: Powertools Logger and Metrics
 * and Secrets Manager fit them on Lambda; the terminal, counters and the environment in
 * `dodo-slack serve`; recorders in tests.
 */
import type { MetricName } from './metrics';
import type { KnownNames, NamesWanted } from './names';
import type { WebhookMode } from './webhook';

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

/** Where credentials (Slack URLs, bot tokens, signing keys) are read from: Secrets Manager on AWS, the environment in serve. */
export interface SecretSource {
  /** The raw value of the credential named `secretId` (an ARN, or an environment variable's name). Never logged. */
  load(secretId: string): Promise<string>;
  /**
   * Shortest time between two reads forced by an answer that says the credential no longer works
   * (Slack 403/404/410, `invalid_auth`). A source that cannot change while the process runs (an
   * environment variable) says 0: a re-read then shows at once that there is nothing new.
   */
  readonly minRefreshIntervalMs: number;
}

/**
 * Names for the IDs a message shows (product names, an abandoned checkout's payment), from the Dodo
 * API through a cache (lambda/shared/dodo-names.ts). Never in the way: it answers within its time
 * limit whatever the API does, leaving out what it could not find, and never rejects.
 */
export interface NameLookup {
  /** What is known about `wanted` in `mode`'s Dodo (test and live objects are apart). */
  find(wanted: NamesWanted, mode: WebhookMode): Promise<KnownNames>;
  /** Longest `find` may take (its time limit): engines with a deadline reserve it per record. */
  readonly timeLimitMs: number;
}

/** Does nothing: for callers that do not care about logs or metrics. */
export const silentLogger: CoreLogger = { debug() {}, info() {}, warn() {}, error() {} };
export const noMetrics: CoreMetrics = { count() {}, milliseconds() {} };
