/**
 * The delivery loop of `dodo-slack serve`: takes the pending event due first from the store,
 * runs it through the pipeline's processor (the same the transformer Lambda drives), and writes
 * the outcome back before it takes the next. What SQS and the Lambda event source do on AWS
 * (receive counts, visibility delays, redrive to the dead letters), done on the store, so a
 * restart resumes exactly where a stop or a crash left off.
 */
import type { DeliveryProcessor, RecordOutcome } from '../transformer/delivery';
import { ANY_ROUTE, queuedWebhookOf, type EventStore, type StoredEvent } from './store';
import { DEFAULT_ROUTE_ID } from '../shared/function-env';
import type { StoreRollups } from './rollup-loop';

export interface DeliveryLoopOptions {
  readonly events: EventStore;
  readonly processor: DeliveryProcessor;
  /** Attempts before an event that keeps failing is dead-lettered (SQS maxReceiveCount); must match the processor's. */
  readonly maxAttempts: number;
  /** Called once the dead letter is committed. */
  readonly onDeadLetter?: (event: StoredEvent) => void;
  /** How often an idle engine looks at the store again (`dead-letters redrive` may run in another process). @default 1000 */
  readonly idlePollMs?: number;
  /** Roll-ups when a route is behind (rollup-loop.ts). @default - every event on its own */
  readonly rollups?: StoreRollups;
  /** Ids of the routes serve runs: rows of `default` kept from a run without --config go to every route that takes them. */
  readonly routeIds: ReadonlySet<string>;
}

export interface DeliveryLoop {
  /** An event was just accepted: look now instead of at the next poll. */
  wake(): void;
  /** Resolves when no pending event is due (now or later); for tests and the benchmark. */
  idle(): Promise<void>;
  /**
   * Starts no further event and waits for the one in flight, at most `timeoutMs`. Resolves true
   * when it finished (its outcome is on disk), false when the time ran out (it stays pending).
   */
  stop(timeoutMs: number): Promise<boolean>;
}

export function startDeliveryLoop(options: DeliveryLoopOptions): DeliveryLoop {
  const { events, processor, maxAttempts, rollups } = options;
  const idlePollMs = options.idlePollMs ?? 1000;
  // A row is kept per route that took its event when it was accepted; a row of no route in particular
  // (none took it, or `default` rows of a run without --config under a configuration that has no
  // such route) goes to every route that takes it now, as one SQS message does on AWS.
  const deliversToOneRoute = (route: string) => route !== ANY_ROUTE && (route !== DEFAULT_ROUTE_ID || options.routeIds.has(DEFAULT_ROUTE_ID));
  let stopping = false;
  let wakeSleeper: (() => void) | undefined;
  let idleWaiters: (() => void)[] = [];

  const wake = (): void => {
    const sleeper = wakeSleeper;
    wakeSleeper = undefined;
    sleeper?.();
  };

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      function done(): void {
        clearTimeout(timer);
        wakeSleeper = undefined;
        resolve();
      }
      wakeSleeper = done;
    });
  }

  async function run(): Promise<void> {
    while (!stopping) {
      const now = Date.now();
      // A roll-up that is due (a retry, or one a crash cut short) goes first, as a whole.
      if (rollups && (await rollups.resumeDue(now))) continue;
      const event = events.nextDue(now);
      if (event === undefined) {
        const due = events.nextDueAt();
        if (due === undefined) {
          const waiters = idleWaiters;
          idleWaiters = [];
          waiters.forEach((resolve) => resolve());
        }
        await sleep(Math.min(idlePollMs, due === undefined ? idlePollMs : due - now));
        continue;
      }
      if (rollups) {
        // Decide single or roll-up when the post can actually go, with the backlog as it is then.
        const waitMs = await rollups.paceWaitMs(event.route);
        if (waitMs > 0) {
          await sleep(waitMs);
          continue;
        }
        if (await rollups.foldFor({ id: event.id, route: event.route, webhook: queuedWebhookOf(event) }, Date.now())) continue;
      }
      await attempt(event);
    }
  }

  async function attempt(event: StoredEvent): Promise<void> {
    const attempts = events.startAttempt(event.id);
    const id = String(event.id);
    let outcome: RecordOutcome | undefined;
    try {
      const outcomes = await processor.processBatch([
        {
          id,
          webhook: queuedWebhookOf(event),
          receiveCount: attempts,
          ...(deliversToOneRoute(event.route) ? { routeId: event.route } : {}),
        },
      ]);
      outcome = outcomes.get(id);
    } catch (error) {
      // The processor does not throw by design; if it does, keep the event (like a Lambda error).
      outcome = { kind: 'retry', delaySeconds: 1, reason: `the delivery processor failed: ${error instanceof Error ? error.message : String(error)}` };
    }
    apply(event, attempts, outcome ?? { kind: 'retry', delaySeconds: 0, reason: 'no outcome' });
  }

  function apply(event: StoredEvent, attempts: number, outcome: RecordOutcome): void {
    const now = Date.now();
    switch (outcome.kind) {
      case 'done': {
        const results = outcome.routes.map((route) => route.result);
        if (results.includes('delivered')) events.finish(event.id, 'delivered');
        else if (results.length === 0) events.finish(event.id, 'skipped', 'no route takes this event (its type, mode or the routes\' filters)');
        else if (results.every((result) => result === 'duplicate')) events.finish(event.id, 'skipped', 'duplicate: this webhook-id was already delivered');
        else events.finish(event.id, 'skipped', 'skipped by the transformation');
        return;
      }
      case 'retry':
        if (attempts >= maxAttempts) {
          // What the SQS redrive policy does at maxReceiveCount, with the reason kept.
          deadLetter(event, `exceeded ${maxAttempts} attempts: ${outcome.reason}`, attempts);
          return;
        }
        events.retryAt(event.id, now + outcome.delaySeconds * 1000, outcome.reason);
        return;
      case 'requeue':
        events.requeue(event.id, now + outcome.delaySeconds * 1000, outcome.reason);
        return;
      case 'dead-letter':
        deadLetter(event, outcome.reason, outcome.attempts, outcome.lastSlackResponse);
        return;
    }
  }

  function deadLetter(event: StoredEvent, reason: string, attempts: number, lastSlackResponse?: string): void {
    events.deadLetter(event.id, reason, attempts, lastSlackResponse);
    const stored = events.get(event.id);
    if (stored) options.onDeadLetter?.(stored);
  }

  const running = run();

  return {
    wake,
    idle() {
      if (stopping) return Promise.resolve();
      return new Promise((resolve) => {
        idleWaiters.push(resolve);
        wake();
      });
    },
    async stop(timeoutMs) {
      stopping = true;
      wake();
      const waiters = idleWaiters;
      idleWaiters = [];
      waiters.forEach((resolve) => resolve());
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        running.then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(false), timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      return finished;
    },
  };
}
