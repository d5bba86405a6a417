/**
 * The program of the worker thread that runs user transformation code (started by
 * runner.ts with `new Worker(USER_CODE_WORKER_SOURCE, { eval: true })`).
 *
 * It is a plain JavaScript string rather than a file or a function's `.toString()`: the
 * transformer is bundled by esbuild into one file for Lambda and compiled by tsc for the CLI, and
 * test coverage instruments functions; a string survives all three unchanged.
 *
 * Protocol:
 * - workerData: `{ source, filename, harness, topLevelTimeoutMs, loadFlag, loadPort }`. The worker
 *   builds the vm context, runs the harness and the user code's top level, checks `handler`, then
 *   posts the load result on `loadPort` and sets `loadFlag[0] = 1` (the host may be blocked in
 *   `Atomics.wait` on it, to report load errors synchronously).
 * - Per event the host posts `{ meta, body }` (two strings) on parentPort; the worker replies
 *   `{ out }`: the harness's JSON result string, or undefined when the handler's promise is still
 *   pending. The host enforces the time limit by terminating this thread, so nothing here needs a
 *   per-event vm timeout (which would cost a watchdog thread per event).
 *
 * Load results: `{ status: 'loaded' }`, `{ status: 'timed-out' }`, `{ status: 'threw', message, stack }`,
 * `{ status: 'no-handler', handlerType }`.
 */
/** Names of the harness's globals inside the context; unlikely to clash with user code. */
export const HARNESS_GLOBALS = {
  run: '__dodoSlackRun',
  meta: '__dodoSlackMeta',
  body: '__dodoSlackBody',
  out: '__dodoSlackOut',
} as const;

/**
 * Builds the sandbox for user code and runs its top level: the vm context (JavaScript's built-ins
 * only, no code generation from strings, promise jobs drained inside each run so the time limit
 * covers them), the harness, the code, the `handler` check. Shared by the worker below and by the
 * synth-time check (load-check.ts), so both load code the same way.
 * Returns `{ report, context }`; `report` is one of the load results listed above.
 */
const LOAD_USER_CODE = `function errorParts(error) {
  if (error !== null && typeof error === 'object') {
    const message = error.message, stack = error.stack;
    return { message: typeof message === 'string' ? message : String(error), stack: typeof stack === 'string' ? stack : '' };
  }
  return { message: String(error), stack: '' };
}

function loadUserCode(vm, source, filename, harness, topLevelTimeoutMs) {
  const context = vm.createContext(Object.create(null), {
    name: filename,
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate',
  });
  new vm.Script(harness, { filename: 'dodo-slack-harness' }).runInContext(context);
  try {
    new vm.Script(source, { filename }).runInContext(context, { timeout: topLevelTimeoutMs });
  } catch (error) {
    if (error !== null && typeof error === 'object' && error.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      return { report: { status: 'timed-out' }, context };
    }
    const parts = errorParts(error);
    return { report: { status: 'threw', message: parts.message, stack: parts.stack }, context };
  }
  const handlerType = new vm.Script('typeof handler').runInContext(context);
  if (handlerType !== 'function') return { report: { status: 'no-handler', handlerType: handlerType }, context };
  return { report: { status: 'loaded' }, context };
}
`;

export const USER_CODE_WORKER_SOURCE = `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const { source, filename, harness, topLevelTimeoutMs, loadFlag, loadPort } = workerData;

function loaded(result) {
  loadPort.postMessage(result);
  Atomics.store(loadFlag, 0, 1);
  Atomics.notify(loadFlag, 0);
}

${LOAD_USER_CODE}
function load() {
  const { report, context } = loadUserCode(vm, source, filename, harness, topLevelTimeoutMs);
  if (report.status !== 'loaded') return loaded(report);

  const runScript = new vm.Script('${HARNESS_GLOBALS.run}()', { filename: 'dodo-slack-harness-run' });
  parentPort.on('message', (message) => {
    context.${HARNESS_GLOBALS.meta} = message.meta;
    context.${HARNESS_GLOBALS.body} = message.body;
    let reply;
    try {
      runScript.runInContext(context);
      const out = context.${HARNESS_GLOBALS.out};
      reply = { out: typeof out === 'string' ? out : undefined };
    } catch (error) {
      // Only the harness itself can throw here (e.g. a body that is not JSON).
      reply = { harnessError: errorParts(error).message };
    } finally {
      context.${HARNESS_GLOBALS.meta} = undefined;
      context.${HARNESS_GLOBALS.body} = undefined;
    }
    parentPort.postMessage(reply);
  });
  loaded({ status: 'loaded' });
}

load();
`;

/**
 * The program of the short-lived process that checks user code at synth time (load-check.ts):
 * reads `{ source, filename, harness, topLevelTimeoutMs }` as JSON on stdin, loads the code like
 * the worker does, prints the load result as JSON on stdout and exits.
 */
export const USER_CODE_LOAD_CHECK_SOURCE = `'use strict';
const vm = require('node:vm');
const { source, filename, harness, topLevelTimeoutMs } = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
${LOAD_USER_CODE}
process.stdout.write(JSON.stringify(loadUserCode(vm, source, filename, harness, topLevelTimeoutMs).report));
`;
