/**
 * Paces deliveries per Slack URL: a token bucket (`ratePerSecond`, up to `burst` at once), kept as
 * a "theoretical arrival time" (GCRA) so waiters are served in order without a timer per token.
 * A 429's Retry-After pauses the key further, and the first requests after a pause come one
 * interval apart (no burst straight into a Slack that just said "slow down").
 *
 * Keys are Slack URLs; they stay in memory only and are never logged.
 */
export interface RateLimiter {
  /**
   * Resolves true when one more request to `key` may go out. When that would take longer than
   * `maxWaitMs` (a Lambda invocation that would end while waiting), resolves false at once and
   * reserves nothing.
   */
  acquire(key: string, maxWaitMs?: number): Promise<boolean>;
  /** Milliseconds until a request to `key` could go out (0: now). */
  waitMs(key: string): number;
  /** No request to `key` before `seconds` from now. */
  pause(key: string, seconds: number): void;
}

export interface RateLimiterOptions {
  /** Sustained requests per second per key. Slack documents 1 message/s per incoming webhook. */
  readonly ratePerSecond: number;
  /** Requests allowed at once after a quiet period. @default 1 */
  readonly burst?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${options.ratePerSecond}`);
  const burst = Math.max(1, Math.floor(options.burst ?? 1));
  const intervalMs = 1000 / options.ratePerSecond;
  const toleranceMs = (burst - 1) * intervalMs;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  /** Per key: the time at which the bucket would be exactly empty again. */
  const theoreticalArrival = new Map<string, number>();

  return {
    async acquire(key, maxWaitMs = Infinity) {
      const t = now();
      const tat = Math.max(theoreticalArrival.get(key) ?? t, t);
      const allowedAt = Math.max(t, tat - toleranceMs);
      if (allowedAt - t > maxWaitMs) return false;
      theoreticalArrival.set(key, tat + intervalMs);
      if (allowedAt > t) await sleep(allowedAt - t);
      return true;
    },
    waitMs(key) {
      const tat = theoreticalArrival.get(key);
      return tat === undefined ? 0 : Math.max(0, tat - toleranceMs - now());
    },
    pause(key, seconds) {
      const resumeAt = now() + Math.max(0, seconds) * 1000;
      // Push the bucket so the first request is allowed at resumeAt and the next ones one interval apart.
      const tat = Math.max(theoreticalArrival.get(key) ?? 0, resumeAt + toleranceMs);
      theoreticalArrival.set(key, tat);
    },
  };
}
