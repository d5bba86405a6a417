/**
 * Roll-ups in `serve`'s delivery loop: before the delivery loop takes its next event, it
 * asks here whether that event's route is behind. When the route's foldable backlog ÷ the rate
 * would keep events waiting longer than rollupAfter, the due foldable events are claimed into a
 * roll-up in one store transaction and posted as one message, through the same pacing and
 * deduplication as single deliveries; the outcome is written in one transaction. A roll-up that
 * fails is retried as a whole (backoff, Retry-After); after the last attempt, or when Slack refuses
 * it (4xx), its events go out as their own messages. An open roll-up a crash cut short is resumed
 * as a whole when serve starts again.
 */
import type { DeliveryRecord } from '../transformer/delivery';
import type { QueuedWebhook } from '../shared/webhook';
import { MIN_ROLLUP_EVENTS, mayFold, type RollupOutcome, type RollupProcessor } from '../transformer/rollup';
import type { OpenRollup, RollupMember, RollupStore } from './store';

export interface StoreRollupsOptions {
  readonly rollups: RollupStore;
  readonly processor: RollupProcessor;
  /** Messages per second to Slack (the same pace the single deliveries keep). */
  readonly ratePerSecond: number;
  /** Attempts of a roll-up before its events fall back to their own messages. */
  readonly maxAttempts: number;
  /** First retry delay; doubled per attempt. */
  readonly retryDelayMs: number;
  /** Told after each roll-up attempt (a progress line). */
  readonly onOutcome?: (rollup: OpenRollup, attempt: number, outcome: RollupOutcome, events: number, ms: number, next: 'closed' | 'retry' | 'fall-back') => void;
}

export interface StoreRollups {
  /** Runs an open roll-up that is due (a retry, or one a crash cut short); false when there is none. */
  resumeDue(now: number): Promise<boolean>;
  /** Folds `event`'s route when it is behind; false when `event` should go out on its own. */
  foldFor(event: { readonly id: number; readonly route: string; readonly webhook: QueuedWebhook }, now: number): Promise<boolean>;
  /** When the next open roll-up is due, if any. */
  nextDueAt(): number | undefined;
  /**
   * Milliseconds until `route` may post again. The engine waits them out before deciding between a
   * single message and a roll-up, so the decision sees the backlog as it is when the post can go.
   */
  paceWaitMs(route: string): Promise<number>;
}

export function createStoreRollups(options: StoreRollupsOptions): StoreRollups {
  const { rollups, processor } = options;
  const { policy } = processor;

  async function run(rollup: OpenRollup): Promise<void> {
    const attempt = rollups.startAttempt(rollup.id);
    const members = rollups.members(rollup.id);
    const started = Date.now();
    if (members.length === 0) {
      rollups.posted(rollup.id, { covered: [], duplicates: [], released: [] }, Date.now());
      return;
    }
    const byWebhook = new Map<string, number[]>();
    for (const member of members) byWebhook.set(member.webhookId, [...(byWebhook.get(member.webhookId) ?? []), member.id]);
    const ids = (webhookIds: readonly string[]) => webhookIds.flatMap((webhookId) => byWebhook.get(webhookId) ?? []);
    let outcome: RollupOutcome;
    try {
      outcome = await processor.deliver(rollup.route, members.map((member) => toRecord(member, attempt)));
    } catch (error) {
      // deliver() does not throw by design; if it does, retry like any failure.
      outcome = { kind: 'not-posted', reason: `the roll-up failed: ${error instanceof Error ? error.message : String(error)}`, retryable: true, released: [], duplicates: [], elsewhere: [] };
    }
    const now = Date.now();
    const ms = now - started;
    if (outcome.kind === 'posted') {
      rollups.posted(rollup.id, { covered: ids(outcome.covered), duplicates: ids(outcome.duplicates), released: ids(outcome.elsewhere) }, now);
      options.onOutcome?.(rollup, attempt, outcome, members.length, ms, 'closed');
      return;
    }
    if (outcome.retryable && attempt < options.maxAttempts) {
      const backoffMs = options.retryDelayMs * 2 ** (attempt - 1);
      const delayMs = Math.max(backoffMs, (outcome.retryAfterSeconds ?? 0) * 1000);
      rollups.retryAt(rollup.id, now + delayMs, outcome.reason, { duplicates: ids(outcome.duplicates), released: ids(outcome.elsewhere) }, now);
      options.onOutcome?.(rollup, attempt, outcome, members.length, ms, 'retry');
      return;
    }
    // Never both: the released claims left no record, so each event's own message is its only one.
    rollups.fallBack(rollup.id, outcome.reason, ids(outcome.duplicates), now);
    options.onOutcome?.(rollup, attempt, outcome, members.length, ms, 'fall-back');
  }

  return {
    async resumeDue(now) {
      const rollup = rollups.due(now);
      if (!rollup) return false;
      await run(rollup);
      return true;
    },
    async foldFor(event, now) {
      if (!policy.enabled || processor.foldingRoutes(event.webhook).every((route) => route.id !== event.route)) return false;
      const candidates = rollups.candidates(event.route, now).filter((candidate) => policy.isFoldable(candidate.eventType) && mayFold(candidate));
      if (!candidates.some((candidate) => candidate.id === event.id)) return false;
      const distinct = new Set(candidates.map((candidate) => candidate.webhookId));
      if (!policy.shouldFold(distinct.size, options.ratePerSecond)) return false;
      // Oldest first, at most maxEvents distinct webhook-ids (a redelivery still pending rides along with its original).
      const chosen: number[] = [];
      const taken = new Set<string>();
      for (const candidate of candidates) {
        if (!taken.has(candidate.webhookId) && taken.size >= policy.maxEvents) continue;
        taken.add(candidate.webhookId);
        chosen.push(candidate.id);
      }
      const rollup = rollups.open(event.route, chosen, now, MIN_ROLLUP_EVENTS);
      if (!rollup) return false;
      await run(rollup);
      return true;
    },
    nextDueAt: () => rollups.nextDueAt(),
    paceWaitMs: (route) => (policy.enabled ? processor.paceWaitMs(route) : Promise.resolve(0)),
  };
}

function toRecord(member: RollupMember, attempt: number): DeliveryRecord {
  return {
    id: String(member.id),
    webhook: { webhookId: member.webhookId, webhookTimestamp: member.webhookTimestamp, eventType: member.eventType, body: member.body, mode: member.mode },
    receiveCount: attempt,
  };
}
