import { randomUUID } from 'node:crypto';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import type { DeliveryProcessor, RecordOutcome } from '../../lambda/transformer/delivery';

/** A message the local queue gave up on: what the SQS dead-letter queue would hold. */
export interface LocalDeadLetter {
  readonly id: string;
  readonly webhookId: string;
  readonly type: string;
  readonly reason: string;
  readonly attempts: number;
  readonly body: string;
  readonly lastSlackResponse?: string;
  readonly routeId?: string;
}

export interface LocalQueueOptions {
  /** The same delivery processor the Lambda adapter drives. */
  readonly processor: DeliveryProcessor;
  /** Receives per message before the processor dead-letters it (SQS maxReceiveCount); must match the processor's. */
  readonly maxAttempts: number;
  readonly onDeadLetter: (deadLetter: LocalDeadLetter) => void;
  /** Messages handed to the processor at once (SQS batch size). @default 10 */
  readonly batchSize?: number;
  /** Batches processed at the same time (Lambda concurrency). @default 1 */
  readonly concurrency?: number;
  /**
   * Wait this many milliseconds before every retry, whatever delay the policy asked for
   * (`dodo-slack serve --retry-delay-ms`, tests). @default - the policy's delay, times `delayScale`
   */
  readonly retryDelayMs?: number;
  /** Milliseconds waited per second of delay the policy asks for. @default 1000 */
  readonly delayScale?: number;
}

export interface LocalQueue {
  /** Queues a verified webhook; returns the message id. Throws after close(). */
  enqueue(webhook: QueuedWebhook): string;
  /** Resolves when every queued message is delivered, skipped or dead-lettered, or when the queue is closed. */
  drain(): Promise<void>;
  /** Stops taking and starting work, waits for the batches in flight; returns how many messages were left queued. */
  close(): Promise<number>;
  /** Messages waiting or in flight. */
  readonly size: number;
}

interface Entry {
  readonly id: string;
  readonly webhook: QueuedWebhook;
  receiveCount: number;
  visibleAt: number;
}

/**
 * Test support: an in-process stand-in for SQS + the Lambda event source, driving the same delivery
 * processor with batches and concurrency (which `serve`'s store engine, one event at a time, does not
 * have), so the delivery policy can be put under load and faults in a unit of seconds:
 * batches, receive counts, visibility delays, a fresh re-queue for never-attempted records and a
 * dead-letter sink. Messages live in memory only.
 */
export function createLocalQueue(options: LocalQueueOptions): LocalQueue {
  const batchSize = options.batchSize ?? 10;
  const concurrency = options.concurrency ?? 1;
  const delayScale = options.delayScale ?? 1000;
  const waiting: Entry[] = [];
  let inFlight = 0;
  let inFlightMessages = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const inFlightBatches = new Set<Promise<void>>();
  let drainWaiters: (() => void)[] = [];
  let failure: unknown;

  const delayMs = (delaySeconds: number) => options.retryDelayMs ?? delaySeconds * delayScale;

  function settleDrainWaiters(): void {
    if (waiting.length === 0 && inFlight === 0) {
      const waiters = drainWaiters;
      drainWaiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }

  function schedule(): void {
    if (closed) return;
    const now = Date.now();
    while (inFlight < concurrency) {
      const ready = waiting.filter((entry) => entry.visibleAt <= now).slice(0, batchSize);
      if (ready.length === 0) break;
      for (const entry of ready) waiting.splice(waiting.indexOf(entry), 1);
      startBatch(ready);
    }
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (waiting.length > 0 && inFlight < concurrency) {
      const next = Math.min(...waiting.map((entry) => entry.visibleAt));
      timer = setTimeout(schedule, Math.max(0, next - now));
    }
    settleDrainWaiters();
  }

  function startBatch(entries: Entry[]): void {
    inFlight += 1;
    inFlightMessages += entries.length;
    for (const entry of entries) entry.receiveCount += 1;
    const batch = (async () => {
      try {
        const outcomes = await options.processor.processBatch(
          entries.map((entry) => ({ id: entry.id, webhook: entry.webhook, receiveCount: entry.receiveCount })),
        );
        for (const entry of entries) apply(entry, outcomes.get(entry.id));
      } catch (error) {
        // The processor does not throw by design; if it does, keep the messages (like a Lambda error) and report it.
        failure ??= error;
        for (const entry of entries) apply(entry, { kind: 'retry', delaySeconds: 1, reason: 'processor failed' });
      }
    })().finally(() => {
      inFlight -= 1;
      inFlightMessages -= entries.length;
      inFlightBatches.delete(batch);
      schedule();
    });
    inFlightBatches.add(batch);
  }

  function apply(entry: Entry, outcome: RecordOutcome | undefined): void {
    if (!outcome) outcome = { kind: 'retry', delaySeconds: 0, reason: 'no outcome' };
    switch (outcome.kind) {
      case 'done':
        return;
      case 'retry':
        if (entry.receiveCount >= options.maxAttempts) {
          // What the SQS redrive policy does: moved without a reason from the policy.
          options.onDeadLetter(deadLetter(entry, `exceeded ${options.maxAttempts} receives: ${outcome.reason}`));
          return;
        }
        entry.visibleAt = Date.now() + delayMs(outcome.delaySeconds);
        waiting.push(entry);
        return;
      case 'requeue':
        waiting.push({ id: entry.id, webhook: entry.webhook, receiveCount: 0, visibleAt: Date.now() + delayMs(outcome.delaySeconds) });
        return;
      case 'dead-letter':
        options.onDeadLetter(
          deadLetter(entry, outcome.reason, outcome.attempts, outcome.lastSlackResponse, outcome.routeId),
        );
        return;
    }
  }

  function deadLetter(entry: Entry, reason: string, attempts = entry.receiveCount, lastSlackResponse?: string, routeId?: string): LocalDeadLetter {
    return {
      id: entry.id,
      webhookId: entry.webhook.webhookId,
      type: entry.webhook.eventType,
      reason,
      attempts,
      body: entry.webhook.body,
      ...(lastSlackResponse === undefined ? {} : { lastSlackResponse }),
      ...(routeId === undefined ? {} : { routeId }),
    };
  }

  return {
    enqueue(webhook) {
      if (closed) throw new Error('the local queue is closed');
      const id = randomUUID();
      waiting.push({ id, webhook, receiveCount: 0, visibleAt: Date.now() });
      queueMicrotask(schedule);
      return id;
    },
    async drain() {
      // After close() nothing runs any more: waiting would never end.
      if (closed) await Promise.all([...inFlightBatches]);
      else if (waiting.length > 0 || inFlight > 0) await new Promise<void>((resolve) => drainWaiters.push(resolve));
      if (failure) {
        const error = failure;
        failure = undefined;
        throw error;
      }
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await Promise.all([...inFlightBatches]);
      const left = waiting.length;
      const waiters = drainWaiters;
      drainWaiters = [];
      waiters.forEach((resolve) => resolve());
      return left;
    },
    get size() {
      return waiting.length + inFlightMessages;
    },
  };
}
