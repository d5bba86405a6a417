/**
 * Runs user transformation code written for the Dodo dashboard, unchanged:
 *
 *     function handler(webhook) { …; webhook.payload = { text: '…' }; return webhook; }
 *
 * `webhook` is `{ eventType, payload, method, url, headers, cancel }` with `payload` the parsed Dodo
 * body; the returned `payload` is the Slack message, `cancel = true` (or returning null) skips it.
 *
 * Isolation, and what state is kept (documented in docs/transformations.md):
 * - The code runs in a worker thread of its own (one per compiled code), inside a node:vm context
 *   there. It sees only JavaScript's built-ins (plus a captured `console`): no `require`,
 *   `process`, environment, timers, network, `eval`/`new Function`, and no object of the handler's
 *   realm, so it cannot reach the handler's state (secrets, caches, the real Slack URL;
 *   `webhook.url` is a redacted placeholder).
 * - Each event is limited to `timeoutMs`, enforced from this thread by terminating the worker:
 *   an endless loop ends the same way whether it is synchronous, after an `await` or in a chain
 *   of promise jobs. (A vm `timeout` firing inside a promise job aborts the whole process when
 *   async hooks are on, as Powertools' AsyncLocalStorage turns them on: nodejs/node#38503. The
 *   worker never runs with async hooks, and this thread never runs user code.) A runaway
 *   allocation hits the worker's heap limit and ends only the worker; memory outside the heap
 *   (typed arrays, Intl objects) is bounded by watching the process's RSS from this thread while
 *   the event runs. The next event starts a fresh worker.
 * - Every event gets a fresh `webhook` parsed inside the context from JSON, so nothing one event
 *   does to its input is visible to the next.
 * - The code's own top-level variables persist between events while its worker lives, like
 *   module state in a warm Lambda function. They reset on a cold start and after a timeout or a
 *   crash (a new worker), so code must not depend on them for correctness.
 * - There are no timers or I/O in the context and promise jobs run right after the handler
 *   (`microtaskMode: 'afterEvaluate'`), so a promise still pending afterwards can never settle and
 *   is reported as such.
 *
 * node:vm is not a security boundary against hostile code; the code is the operator's own,
 * reviewed and deployed with the stack. The isolation protects the handler from mistakes.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { CoreLogger } from '../shared/ports';
import type { TransformInput } from '../shared/transformation';
import { Defaults } from '../shared/defaults';
import { describeLoadFailure, checkSyntax, errorParts, harnessSource, USER_CODE_WORKER_HEAP_MB, UserCodeLoadError, type LoadReport } from './harness';
import { USER_CODE_WORKER_SOURCE } from './worker-source';

/** What user code gets as `webhook.url`: the real Slack URL is a secret and never enters the sandbox. */
export const REDACTED_SLACK_URL = 'https://hooks.slack.com/services/REDACTED';

/** What user code did with one event, before the result is checked as a Slack message. */
export type UserCodeResult =
  /** The handler returned; `value` is the returned value, deep-copied out of the sandbox (undefined = nothing). */
  | { readonly status: 'returned'; readonly value: unknown }
  | { readonly status: 'threw'; readonly message: string; readonly location?: string }
  | { readonly status: 'timed-out'; readonly timeoutMs: number }
  | { readonly status: 'never-settled' }
  | { readonly status: 'unserializable'; readonly message: string }
  /** The worker running the code died (heap limit, or it could not be restarted); `message` says why. */
  | { readonly status: 'crashed'; readonly message: string };

/** Compiled user code: run it once per event. */
export interface UserCodeRunner {
  /** File name used in messages and stack traces (`payment_notifs.js`, `inline transformation`, …). */
  readonly filename: string;
  readonly timeoutMs: number;
  /** Runs one event. Never rejects; events are run one at a time, in call order. */
  run(input: TransformInput): Promise<UserCodeResult>;
  /** Ends the worker. Later runs are reported as crashed. Not needed for the process to exit (an idle worker is unref'd). */
  close(): Promise<void>;
}

export interface UserCodeOptions {
  /** Per-event time limit. @default 1000 */
  readonly timeoutMs?: number;
  /** Receives the code's console output (one entry per line, with the event type). @default - dropped */
  readonly logger?: CoreLogger;
}

/**
 * How much the process's resident memory may grow while one event runs. The heap limit above does
 * not cover memory outside the V8 heap (typed arrays and ArrayBuffers, Intl objects), which user
 * code can fill by gigabytes within its time limit, killing the whole function with its batch.
 * This budget is above what a full 64 MB heap costs in RSS, and far below the transformer's memory.
 */
export const USER_CODE_MEMORY_GROWTH_MB = 192;

/** How often the process's memory is checked while user code runs an event. */
const MEMORY_CHECK_INTERVAL_MS = 5;

/**
 * Time a worker gets to start, on top of the top-level time limit: thread and isolate start-up
 * take ~20 ms (more on a busy machine); this only bounds a worker that never reports.
 */
const WORKER_START_BUDGET_MS = 5_000;

/**
 * The longest one event can take in user code with this time limit: restarting a worker that an
 * earlier event ended (its start budget plus the top-level limit) and then the event itself. The
 * transformer keeps this much time in reserve before starting a record.
 */
export function userCodeWorstCaseMs(timeoutMs: number): number {
  return WORKER_START_BUDGET_MS + 2 * timeoutMs;
}

/** The worker's answer to one event, or what this thread saw instead. */
type EventReply =
  | { readonly out?: string; readonly harnessError?: string }
  | { readonly crashed: string }
  | 'timed-out';

function describeWorkerError(error: unknown): string {
  if (error !== null && typeof error === 'object' && (error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `ran out of memory (the sandbox has ${USER_CODE_WORKER_HEAP_MB} MB)`;
  }
  return `its worker failed: ${errorParts(error).message}`;
}

/** A worker thread that was started for the code, and what it reported as failure, if anything. */
interface SpawnedWorker {
  readonly worker: Worker;
  readonly loadFlag: Int32Array;
  readonly loadPort: MessagePort;
  failure: string | undefined;
  /** Settles the event in flight; set only while one is. */
  inFlight: ((reply: EventReply) => void) | undefined;
}

function spawnWorker(source: string, filename: string, timeoutMs: number): SpawnedWorker {
  const loadFlag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(USER_CODE_WORKER_SOURCE, {
    eval: true,
    workerData: { source, filename, harness: harnessSource(filename), topLevelTimeoutMs: timeoutMs, loadFlag, loadPort: port2 },
    transferList: [port2],
    // The worker's own code needs none of the function's environment or command-line flags
    // (and inheriting e.g. `-r ts-node/register` would slow every start).
    env: {},
    argv: [],
    execArgv: [],
    resourceLimits: { maxOldGenerationSizeMb: USER_CODE_WORKER_HEAP_MB },
  });
  const spawned: SpawnedWorker = { worker, loadFlag, loadPort: port1, failure: undefined, inFlight: undefined };
  // Without an 'error' listener a worker error would be an uncaught exception of this process.
  worker.on('error', (error) => {
    spawned.failure = describeWorkerError(error);
  });
  worker.on('exit', (code) => {
    const settle = spawned.inFlight;
    spawned.inFlight = undefined;
    settle?.({ crashed: spawned.failure ?? `its worker exited with code ${code}` });
  });
  worker.on('message', (reply: EventReply) => spawned.inFlight?.(reply));
  // Idle workers must not keep the CLI or a test run alive; an event in flight holds its own timer.
  // (After the listeners: adding a 'message' listener refs the worker again.)
  worker.unref();
  return spawned;
}

function endWorker(spawned: SpawnedWorker): Promise<void> {
  spawned.loadPort.close();
  return spawned.worker.terminate().then(
    () => undefined,
    () => undefined,
  );
}

class WorkerUserCodeRunner implements UserCodeRunner {
  /** Events run one after another: the time limit of an event starts when the worker gets it. */
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    readonly filename: string,
    readonly timeoutMs: number,
    private readonly source: string,
    private readonly logger: CoreLogger | undefined,
    /** The live worker; undefined after a timeout or crash until the next event starts one. */
    private current: SpawnedWorker | undefined,
  ) {
    if (current) this.watch(current);
  }

  run(input: TransformInput): Promise<UserCodeResult> {
    const result = this.queue.then(() => this.runNow(input)).catch((error: unknown): UserCodeResult => ({
      status: 'crashed',
      message: `the runner failed: ${errorParts(error).message}`,
    }));
    this.queue = result;
    return result;
  }

  async close(): Promise<void> {
    this.closed = true;
    const current = this.current;
    this.current = undefined;
    if (current) {
      current.inFlight?.({ crashed: 'the transformation runner was closed' });
      await endWorker(current);
    }
  }

  private watch(spawned: SpawnedWorker): void {
    spawned.worker.once('exit', () => {
      if (this.current === spawned) this.current = undefined;
    });
    spawned.worker.unref();
  }

  /** Starts a worker for the next event after the previous one was ended. */
  private start(): Promise<SpawnedWorker | string> {
    const spawned = spawnWorker(this.source, this.filename, this.timeoutMs);
    return new Promise((resolve) => {
      let done = false;
      const finish = (outcome: SpawnedWorker | string): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        spawned.worker.off('exit', onExit);
        if (typeof outcome === 'string') void endWorker(spawned);
        else spawned.loadPort.close();
        resolve(outcome);
      };
      const timer = setTimeout(
        () => finish(describeLoadFailure(undefined, this.filename, this.timeoutMs)),
        this.timeoutMs + WORKER_START_BUDGET_MS,
      );
      const onExit = (code: number): void => finish(spawned.failure ?? `its worker exited with code ${code} while loading`);
      spawned.worker.on('exit', onExit);
      spawned.loadPort.once('message', (report: LoadReport) => {
        finish(report.status === 'loaded' ? spawned : describeLoadFailure(report, this.filename, this.timeoutMs));
      });
    });
  }

  private async runNow(input: TransformInput): Promise<UserCodeResult> {
    if (this.closed) return { status: 'crashed', message: 'the transformation runner was closed' };
    let spawned = this.current;
    if (spawned === undefined) {
      const started = await this.start();
      if (typeof started === 'string') return { status: 'crashed', message: `could not be restarted: ${started}` };
      if (this.closed) {
        await endWorker(started);
        return { status: 'crashed', message: 'the transformation runner was closed' };
      }
      spawned = started;
      this.current = spawned;
      this.watch(spawned);
    }
    const worker = spawned;
    const meta = JSON.stringify({
      eventType: input.eventType,
      method: 'POST',
      url: REDACTED_SLACK_URL,
      headers: {
        'content-type': 'application/json',
        'webhook-id': input.headers['webhook-id'] ?? input.webhookId,
        ...(input.headers['webhook-timestamp'] !== undefined ? { 'webhook-timestamp': input.headers['webhook-timestamp'] } : {}),
      },
      cancel: false,
    });
    // The raw body is parsed inside the context: a fresh copy per event, owned by the sandbox.
    const body = input.rawBody.length > 0 ? input.rawBody : JSON.stringify(input.envelope);
    const reply = await new Promise<EventReply>((resolve) => {
      const stop = (answer: EventReply): void => {
        clearTimeout(timer);
        clearInterval(memoryWatch);
        // Whatever the code is stuck in (a loop, a promise job, a getter), only ending its thread stops it.
        worker.inFlight = undefined;
        if (this.current === worker) this.current = undefined;
        void endWorker(worker);
        resolve(answer);
      };
      const timer = setTimeout(() => stop('timed-out'), this.timeoutMs);
      // Memory outside the worker's heap limit (typed arrays, Intl objects) is bounded from here.
      // Both timers run only while an event is in flight, so nothing is left pending when Lambda
      // freezes the process between invocations.
      const rssLimit = process.memoryUsage.rss() + USER_CODE_MEMORY_GROWTH_MB * 1024 * 1024;
      const memoryWatch = setInterval(() => {
        if (process.memoryUsage.rss() > rssLimit) {
          stop({ crashed: `ran out of memory (it grew the function's memory by more than ${USER_CODE_MEMORY_GROWTH_MB} MB; typed arrays and Intl objects count too)` });
        }
      }, MEMORY_CHECK_INTERVAL_MS);
      worker.inFlight = (answer) => {
        clearTimeout(timer);
        clearInterval(memoryWatch);
        worker.inFlight = undefined;
        resolve(answer);
      };
      worker.worker.postMessage({ meta, body });
    });
    return this.interpret(reply, input);
  }

  private interpret(reply: EventReply, input: TransformInput): UserCodeResult {
    if (reply === 'timed-out') return { status: 'timed-out', timeoutMs: this.timeoutMs };
    if ('crashed' in reply) return { status: 'crashed', message: reply.crashed };
    if (reply.harnessError !== undefined) return { status: 'threw', message: reply.harnessError };
    if (reply.out === undefined) return { status: 'never-settled' };
    const parsed = JSON.parse(reply.out) as {
      status: 'returned' | 'threw' | 'unserializable';
      json?: string;
      message?: string;
      line?: string;
      logs: { level: 'debug' | 'info' | 'warn' | 'error'; text: string }[];
      dropped: number;
    };
    const { filename, logger } = this;
    if (logger) {
      for (const line of parsed.logs) {
        logger[line.level]('transformation console output', { transformation: filename, eventType: input.eventType, output: line.text });
      }
      if (parsed.dropped > 0) {
        logger.warn('transformation console output truncated', { transformation: filename, eventType: input.eventType, droppedLines: parsed.dropped });
      }
    }
    switch (parsed.status) {
      case 'returned':
        return { status: 'returned', value: parsed.json === undefined ? undefined : JSON.parse(parsed.json) };
      case 'threw':
        return {
          status: 'threw',
          message: parsed.message ?? 'unknown error',
          ...(parsed.line !== undefined ? { location: `${filename}:${parsed.line}` } : {}),
        };
      case 'unserializable':
        return { status: 'unserializable', message: parsed.message ?? 'unknown error' };
    }
  }
}

/**
 * Compiles dashboard-style code once: checks its syntax here (no code runs in this thread), then
 * starts the code's worker, which runs its top level and checks that it defines `handler`. This
 * thread waits for that report (bounded by the time limit plus the worker's start-up budget), so
 * load problems throw {@link UserCodeLoadError} with `file:line` synchronously: the construct
 * calls this at synth time, the transformer at cold start, the CLI when it loads a file.
 */
export function compileUserCode(source: string, filename: string, options: UserCodeOptions = {}): UserCodeRunner {
  const timeoutMs = options.timeoutMs ?? Defaults.userCodeTimeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new RangeError(`timeoutMs must be a positive whole number of milliseconds, got ${timeoutMs}`);
  }
  checkSyntax(source, filename);

  const spawned = spawnWorker(source, filename, timeoutMs);
  Atomics.wait(spawned.loadFlag, 0, 0, timeoutMs + WORKER_START_BUDGET_MS);
  const report = receiveMessageOnPort(spawned.loadPort)?.message as LoadReport | undefined;
  if (report?.status !== 'loaded') {
    void endWorker(spawned);
    throw new UserCodeLoadError(describeLoadFailure(report, filename, timeoutMs));
  }
  spawned.loadPort.close();
  return new WorkerUserCodeRunner(filename, timeoutMs, source, options.logger, spawned);
}
