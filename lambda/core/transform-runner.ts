/**
 * Runs user transformation code written for the Dodo dashboard, unchanged:
 *
 *     function handler(webhook) { …; webhook.payload = { text: '…' }; return webhook; }
 *
 * `webhook` is `{ eventType, payload, method, url, headers, cancel }` with `payload` the parsed Dodo
 * body; the returned `payload` is the Slack message, `cancel = true` (or returning null) skips it.
 *
 * Isolation, and what state is kept (documented in docs/transformations.md):
 * - The code runs in its own node:vm context, created once per code. It sees only JavaScript's
 *   built-ins (plus a captured `console`): no `require`, `process`, environment, timers, network,
 *   `eval`/`new Function`, and no object of the handler's realm, so it cannot reach the handler's
 *   state (secrets, caches, the real Slack URL; `webhook.url` is a redacted placeholder).
 * - Every event gets a fresh `webhook` parsed inside the context from JSON, so nothing one event
 *   does to its input is visible to the next.
 * - The code's own top-level variables persist between events on one warm instance, exactly like
 *   module state in any Lambda function. They are not shared between instances and reset on a cold
 *   start, so code must not depend on them for correctness (a cache is fine, a counter is not).
 * - Each event is limited to `timeoutMs` of synchronous work plus promise jobs
 *   (`microtaskMode: 'afterEvaluate'`); there are no timers or I/O in the context, so a promise
 *   that is still pending afterwards can never settle and is reported as such.
 *
 * node:vm is not a security boundary against hostile code; the code is the operator's own,
 * reviewed and deployed with the stack. The isolation protects the handler from mistakes.
 */
import * as vm from 'node:vm';
import type { CoreLogger, TransformInput } from './contracts';

/** What user code gets as `webhook.url`: the real Slack URL is a secret and never enters the sandbox. */
export const REDACTED_SLACK_URL = 'https://hooks.slack.com/services/REDACTED';

/** Default per-event time limit of user code. */
export const DEFAULT_USER_CODE_TIMEOUT_MS = 1000;

/** Console lines kept per event (each cut to {@link MAX_CONSOLE_LINE_CHARS}); the rest are counted. */
export const MAX_CONSOLE_LINES_PER_EVENT = 20;
export const MAX_CONSOLE_LINE_CHARS = 1000;

/** The code cannot be loaded: syntax error, top-level throw, or no `handler` function. Message names file and line. */
export class UserCodeLoadError extends Error {
  override name = 'UserCodeLoadError';
}

/** What user code did with one event, before the result is checked as a Slack message. */
export type UserCodeResult =
  /** The handler returned; `value` is the returned value, deep-copied out of the sandbox (undefined = nothing). */
  | { readonly status: 'returned'; readonly value: unknown }
  | { readonly status: 'threw'; readonly message: string; readonly location?: string }
  | { readonly status: 'timed-out'; readonly timeoutMs: number }
  | { readonly status: 'never-settled' }
  | { readonly status: 'unserializable'; readonly message: string };

/** Compiled user code: run it once per event. */
export interface UserCodeRunner {
  /** File name used in messages and stack traces (`payment_notifs.js`, `inline transformation`, …). */
  readonly filename: string;
  readonly timeoutMs: number;
  run(input: TransformInput): UserCodeResult;
}

export interface UserCodeOptions {
  /** Per-event time limit. @default 1000 */
  readonly timeoutMs?: number;
  /** Receives the code's console output (one entry per line, with the event type). @default - dropped */
  readonly logger?: CoreLogger;
}

// Names of the harness's globals inside the context; unlikely to clash with user code.
const RUN = '__dodoSlackRun';
const META = '__dodoSlackMeta';
const BODY = '__dodoSlackBody';
const OUT = '__dodoSlackOut';

/**
 * Installed in the context before the user code. It captures `JSON` and builds `console` first, so
 * user code replacing them cannot break the harness, and does all work on user values inside the
 * context, so only strings cross the boundary.
 */
function harnessSource(filename: string): string {
  return `(function () {
  'use strict';
  var parse = JSON.parse, stringify = JSON.stringify, g = globalThis;
  var fileLine = new RegExp(${JSON.stringify(escapeRegExp(filename))} + ':(\\\\d+)');
  var logs = [], dropped = 0, currentRun = 0;
  function text(value) {
    if (typeof value === 'string') return value;
    try { var json = stringify(value); return json === undefined ? String(value) : json; } catch (e) { return String(value); }
  }
  function capture(level) {
    return function () {
      if (logs.length >= ${MAX_CONSOLE_LINES_PER_EVENT}) { dropped++; return; }
      var parts = [];
      for (var i = 0; i < arguments.length; i++) parts.push(text(arguments[i]));
      logs.push({ level: level, text: parts.join(' ').slice(0, ${MAX_CONSOLE_LINE_CHARS}) });
    };
  }
  g.console = { log: capture('info'), info: capture('info'), debug: capture('debug'), trace: capture('debug'),
                warn: capture('warn'), error: capture('error') };
  function location(error) {
    var stack = error !== null && typeof error === 'object' && typeof error.stack === 'string' ? error.stack : '';
    var match = fileLine.exec(stack);
    return match ? match[1] : undefined;
  }
  function finish(result) { result.logs = logs; result.dropped = dropped; g['${OUT}'] = stringify(result); }
  // A promise left pending by an earlier event must not overwrite a later event's result.
  function settleFor(run, settle) { return function (value) { if (run === currentRun) settle(value); }; }
  function returned(value) {
    var json;
    try { json = stringify(value); } catch (e) { finish({ status: 'unserializable', message: String(e && e.message || e) }); return; }
    finish({ status: 'returned', json: json });
  }
  function threw(error) {
    var message = error !== null && typeof error === 'object' && 'message' in error ? String(error.message) : String(error);
    finish({ status: 'threw', message: message, line: location(error) });
  }
  Object.defineProperty(g, '${RUN}', { enumerable: false, configurable: false, writable: false, value: function () {
    var run = ++currentRun;
    logs = []; dropped = 0; g['${OUT}'] = undefined;
    var webhook = parse(g['${META}']);
    webhook.payload = parse(g['${BODY}']);
    var result;
    try {
      if (typeof handler !== 'function') throw new TypeError('handler is not a function');
      result = handler(webhook);
    } catch (error) { threw(error); return; }
    if (result !== null && typeof result === 'object' && typeof result.then === 'function') {
      result.then(settleFor(run, returned), settleFor(run, threw));
    } else {
      returned(result);
    }
  } });
})();`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `message` and `stack` of an error from any realm (jest and vm contexts make `instanceof Error` unreliable). */
function errorParts(error: unknown): { message: string; stack: string } {
  if (error !== null && typeof error === 'object') {
    const { message, stack } = error as { message?: unknown; stack?: unknown };
    return { message: typeof message === 'string' ? message : String(error), stack: typeof stack === 'string' ? stack : '' };
  }
  return { message: String(error), stack: '' };
}

/** `file:line` of a SyntaxError thrown by `new vm.Script(…, { filename })`, with the offending line. */
function describeSyntaxError(error: unknown, filename: string): string {
  const { message, stack } = errorParts(error);
  // V8 puts "file:line", the source line and a caret above the message.
  const lines = stack.split('\n');
  const located = lines[0]?.startsWith(`${filename}:`) === true;
  const excerpt = located && lines[1] !== undefined ? `\n${lines[1]}\n${lines[2] ?? ''}` : '';
  return `${located ? lines[0] : filename}: SyntaxError: ${message}${excerpt}`;
}

/** Where (file:line) an error thrown by user code at the top level happened, from its stack. */
function describeTopLevelError(error: unknown, filename: string): string {
  const { message, stack } = errorParts(error);
  const match = new RegExp(`${escapeRegExp(filename)}:(\\d+)`).exec(stack);
  return `${match ? `${filename}:${match[1]}` : filename}: top-level code threw: ${message}`;
}

function isTimeout(error: unknown): boolean {
  return error !== null && typeof error === 'object' && (error as { code?: unknown }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
}

/**
 * Compiles dashboard-style code once: checks its syntax, runs its top level, and checks that it
 * defines `handler`. Throws {@link UserCodeLoadError} with `file:line` when any of that fails, so the
 * construct can call it at synth time and the transformer at cold start.
 */
export function compileUserCode(source: string, filename: string, options: UserCodeOptions = {}): UserCodeRunner {
  const timeoutMs = options.timeoutMs ?? DEFAULT_USER_CODE_TIMEOUT_MS;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new RangeError(`timeoutMs must be a positive whole number of milliseconds, got ${timeoutMs}`);
  }
  const logger = options.logger;

  let userScript: vm.Script;
  try {
    userScript = new vm.Script(source, { filename });
  } catch (error) {
    throw new UserCodeLoadError(describeSyntaxError(error, filename));
  }

  const context = vm.createContext(Object.create(null) as object, {
    name: filename,
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate',
  });
  new vm.Script(harnessSource(filename), { filename: 'dodo-slack-harness' }).runInContext(context);
  try {
    userScript.runInContext(context, { timeout: timeoutMs });
  } catch (error) {
    if (isTimeout(error)) throw new UserCodeLoadError(`${filename}: top-level code timed out after ${timeoutMs} ms`);
    throw new UserCodeLoadError(describeTopLevelError(error, filename));
  }
  const handlerType = new vm.Script('typeof handler').runInContext(context) as string;
  if (handlerType !== 'function') {
    throw new UserCodeLoadError(
      `${filename}: no function named "handler" (found ${handlerType === 'undefined' ? 'nothing' : `a ${handlerType}`}); ` +
        'a dashboard transformation defines `function handler(webhook) { …; return webhook; }` at the top level',
    );
  }

  const runScript = new vm.Script(`${RUN}()`, { filename: 'dodo-slack-harness-run' });
  const sandbox = context as Record<string, unknown>;

  return {
    filename,
    timeoutMs,
    run(input: TransformInput): UserCodeResult {
      sandbox[META] = JSON.stringify({
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
      sandbox[BODY] = input.rawBody.length > 0 ? input.rawBody : JSON.stringify(input.envelope);
      try {
        runScript.runInContext(context, { timeout: timeoutMs });
      } catch (error) {
        if (isTimeout(error)) return { status: 'timed-out', timeoutMs };
        // Only the harness itself can throw here (e.g. a body that is not JSON).
        return { status: 'threw', message: errorParts(error).message };
      } finally {
        sandbox[META] = undefined;
        sandbox[BODY] = undefined;
      }
      const out = sandbox[OUT];
      if (typeof out !== 'string') return { status: 'never-settled' };
      const parsed = JSON.parse(out) as {
        status: 'returned' | 'threw' | 'unserializable';
        json?: string;
        message?: string;
        line?: string;
        logs: { level: 'debug' | 'info' | 'warn' | 'error'; text: string }[];
        dropped: number;
      };
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
    },
  };
}
