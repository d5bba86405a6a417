/**
 * The synth-time check of user code: does it compile, does its top level run within the time
 * limit, does it define `handler`? The syntax is checked in this thread (compiling runs nothing);
 * the top level runs in a short-lived `node` process that loads the code exactly as the worker
 * does (worker-source.ts) and exits, so `cdk synth` starts no worker thread and keeps nothing
 * alive, and a broken transformation fails synth in the same words as a cold start (harness.ts).
 *
 * Why not run the top level in this thread under a vm timeout: a timeout that fires inside a
 * promise job aborts the whole process when async hooks are on (AsyncLocalStorage, as in many test
 * runners and apps: nodejs/node#38503), and top-level code may loop in a promise job.
 */
import { spawnSync } from 'node:child_process';
import { Defaults } from '../shared/defaults';
import { describeLoadFailure, checkSyntax, harnessSource, USER_CODE_WORKER_HEAP_MB, UserCodeLoadError, type LoadReport } from './harness';
import { USER_CODE_LOAD_CHECK_SOURCE } from './worker-source';

/** Time the check process gets to start and exit, on top of the top-level time limit. */
const PROCESS_START_BUDGET_MS = 10_000;

/** Throws {@link UserCodeLoadError} (with file and line) when the code would not load in the sandbox. */
export function checkUserCodeLoads(source: string, filename: string, timeoutMs: number = Defaults.userCodeTimeoutMs): void {
  checkSyntax(source, filename);
  const report = runTopLevelInChildProcess(source, filename, timeoutMs);
  if (report?.status !== 'loaded') throw new UserCodeLoadError(describeLoadFailure(report, filename, timeoutMs));
}

/** The load result, or undefined when the process did not report one (killed at the deadline, out of memory). */
function runTopLevelInChildProcess(source: string, filename: string, timeoutMs: number): LoadReport | undefined {
  const checked = spawnSync(process.execPath, [`--max-old-space-size=${USER_CODE_WORKER_HEAP_MB}`, '-e', USER_CODE_LOAD_CHECK_SOURCE], {
    input: JSON.stringify({ source, filename, harness: harnessSource(filename), topLevelTimeoutMs: timeoutMs }),
    // The check needs none of the app's environment (and inheriting NODE_OPTIONS such as
    // `-r ts-node/register` would slow it down).
    env: {},
    timeout: timeoutMs + PROCESS_START_BUDGET_MS,
    encoding: 'utf8',
    maxBuffer: 1024 * 1024,
  });
  if (checked.error !== undefined || checked.status !== 0) return undefined;
  try {
    return JSON.parse(checked.stdout) as LoadReport;
  } catch {
    return undefined;
  }
}
