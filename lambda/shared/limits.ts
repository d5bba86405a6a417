/**
 * The one source of each range a setting may take, as `Defaults` (./defaults.ts) is for the
 * defaults: the construct's prop validation (lib/props.ts), the CLI's flag checks (`dodo-slack
 * serve`) and the handlers' environment readers all take their ranges from here, so a value one of
 * them accepts is never refused by another. test/shared/limits.test.ts probes each range through
 * all three.
 */

/** An inclusive range of numbers, optionally whole numbers only, with the unit said in messages. */
export interface Limit {
  readonly min: number;
  readonly max: number;
  /** `min` itself is not allowed (a rate must be more than 0). */
  readonly minExclusive?: boolean;
  /** Only whole numbers (counts, whole seconds). */
  readonly integer?: boolean;
  /** How a value is read in messages: `seconds`, `messages per second`, … */
  readonly unit: string;
}

export const Limits = {
  /** How far `webhook-timestamp` may be from the receiver's clock. */
  timestampToleranceSeconds: { min: 1, max: 3600, integer: true, unit: 'seconds' },
  /** How long secrets are cached: 0 would mean a Secrets Manager call per message. */
  secretCacheTtlSeconds: { min: 1, max: 3600, integer: true, unit: 'seconds' },
  /** Deliveries of one message before it is dead-lettered (SQS's own maximum is 1000). */
  maxReceiveCount: { min: 1, max: 1000, integer: true, unit: 'attempts' },
  /** How long a delivered `webhook-id` is remembered: at least an hour, at most a year. */
  deduplicationWindowSeconds: { min: 3600, max: 365 * 24 * 3600, integer: true, unit: 'seconds' },
  /** Timeout of one Slack request: Slack answers within a second or two, and a batch must fit the function's timeout. */
  slackTimeoutMs: { min: 1000, max: 10_000, integer: true, unit: 'milliseconds' },
  /**
   * Messages per second to one Slack destination. Slack takes about one; more is for stand-ins,
   * proxies and Slack plans with higher limits.
   */
  deliveryRatePerSecond: { min: 0, minExclusive: true, max: 1000, unit: 'messages per second' },
  /** Messages that may go at once before the rate applies (token bucket size). */
  deliveryBurst: { min: 1, max: 1000, integer: true, unit: 'messages' },
  /** Predicted wait beyond which a route folds its backlog into roll-ups; 0 turns roll-ups off. */
  rollupAfterSeconds: { min: 0, max: 86_400, unit: 'seconds' },
  /** Slack app mode: how long a thread is remembered after its last event (whole days). */
  threadTtlSeconds: { min: 24 * 3600, max: 3650 * 24 * 3600, integer: true, unit: 'seconds' },
  /** Slack app mode: calls per minute to each Tier 3 method. */
  slackTier3CallsPerMinute: { min: 1, max: 10_000, integer: true, unit: 'calls per minute' },
  /** Per-event time limit of user transformation code: a batch of events must fit the function's timeout. */
  userCodeTimeoutMs: { min: 1, max: 10_000, integer: true, unit: 'milliseconds' },
} as const satisfies Record<string, Limit>;

export type LimitName = keyof typeof Limits;

/** Whether `value` is within `limit`. */
export function withinLimit(limit: Limit, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (limit.integer === true && !Number.isInteger(value)) return false;
  if (limit.minExclusive === true ? value <= limit.min : value < limit.min) return false;
  return value <= limit.max;
}

/** The range in words, e.g. `a whole number from 1 to 1000` or `more than 0 and at most 1000`. */
export function describeLimit(limit: Limit): string {
  if (limit.minExclusive === true) return `more than ${limit.min} and at most ${limit.max} ${limit.unit}`;
  return `${limit.integer === true ? 'a whole number' : 'a number'} from ${limit.min} to ${limit.max} ${limit.unit}`;
}
