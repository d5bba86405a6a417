/**
 * What the two ways of loading user code share: the harness installed in the vm context before
 * the code (console capture, the per-event entry point), the load report and the messages that
 * name file and line. The worker (runner.ts) and the synth-time check (load-check.ts) both use it,
 * so `cdk synth` and a cold start describe a broken transformation in the same words.
 */
import * as vm from 'node:vm';
import { HARNESS_GLOBALS } from './worker-source';
import { escapeRegExp } from '../shared/regexp';

/** The code cannot be loaded: syntax error, top-level throw, or no `handler` function. Message names file and line. */
export class UserCodeLoadError extends Error {
  override name = 'UserCodeLoadError';
}

/** Heap of the sandbox (the worker, and the synth-time check): a runaway allocation ends the worker, not the function. */
export const USER_CODE_WORKER_HEAP_MB = 64;

/** Console lines kept per event (each cut to {@link MAX_CONSOLE_LINE_CHARS}); the rest are counted. */
export const MAX_CONSOLE_LINES_PER_EVENT = 20;
export const MAX_CONSOLE_LINE_CHARS = 1000;

const { run: RUN, meta: META, body: BODY, out: OUT } = HARNESS_GLOBALS;

/**
 * Installed in the context before the user code. It captures `JSON` and builds `console` first, so
 * user code replacing them cannot break the harness, and does all work on user values inside the
 * context, so only strings cross the boundary.
 */
export function harnessSource(filename: string): string {
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

/** `message` and `stack` of an error from any realm (jest and vm contexts make `instanceof Error` unreliable). */
export function errorParts(error: unknown): { message: string; stack: string } {
  if (error !== null && typeof error === 'object') {
    const { message, stack } = error as { message?: unknown; stack?: unknown };
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- a thrown object without a string message: its own toString() (an Error from another realm has one), else [object Object]
    return { message: typeof message === 'string' ? message : String(error), stack: typeof stack === 'string' ? stack : '' };
  }
  return { message: String(error), stack: '' };
}

/** `file:line` of a SyntaxError thrown by `new vm.Script(…, { filename })`, with the offending line. */
export function describeSyntaxError(error: unknown, filename: string): string {
  const { message, stack } = errorParts(error);
  // V8 puts "file:line", the source line and a caret above the message.
  const lines = stack.split('\n');
  const located = lines[0]?.startsWith(`${filename}:`) === true;
  const excerpt = located && lines[1] !== undefined ? `\n${lines[1]}\n${lines[2] ?? ''}` : '';
  return `${located ? lines[0] : filename}: SyntaxError: ${message}${excerpt}`;
}

/** Compiles the code without running it; throws {@link UserCodeLoadError} with file:line on a syntax error. */
export function checkSyntax(source: string, filename: string): void {
  try {
    new vm.Script(source, { filename });
  } catch (error) {
    throw new UserCodeLoadError(describeSyntaxError(error, filename));
  }
}

/** Where (file:line) an error thrown by user code at the top level happened, from its stack. */
function describeTopLevelError(error: unknown, filename: string): string {
  const { message, stack } = errorParts(error);
  const match = new RegExp(`${escapeRegExp(filename)}:(\\d+)`).exec(stack);
  return `${match ? `${filename}:${match[1]}` : filename}: top-level code threw: ${message}`;
}

/** What the worker reports once it has run the code's top level (see worker-source.ts). */
export type LoadReport =
  | { readonly status: 'loaded' }
  | { readonly status: 'timed-out' }
  | { readonly status: 'threw'; readonly message: string; readonly stack: string }
  | { readonly status: 'no-handler'; readonly handlerType: string };

export function describeLoadFailure(report: LoadReport | undefined, filename: string, timeoutMs: number): string {
  if (report === undefined) {
    return `${filename}: top-level code did not finish loading within ${timeoutMs} ms (an endless loop, or it ran out of memory)`;
  }
  switch (report.status) {
    case 'loaded':
      return `${filename}: loaded`;
    case 'timed-out':
      return `${filename}: top-level code timed out after ${timeoutMs} ms`;
    case 'threw':
      // Syntax is checked before the top level runs: this is a throw at the top level.
      return describeTopLevelError(report, filename);
    case 'no-handler':
      return (
        `${filename}: no function named "handler" (found ${report.handlerType === 'undefined' ? 'nothing' : `a ${report.handlerType}`}); ` +
        'a dashboard transformation defines `function handler(webhook) { …; return webhook; }` at the top level'
      );
  }
}
