/**
 * Runs `dodo-slack` as a child process, the way users run it: `node bin/dodo-slack.js`, the entry
 * `npx dodo-slack` runs in a clone. The launcher bundles the sources once into
 * node_modules/.cache/dodo-slack/ and reuses the bundle while no source changes, so each run costs a
 * plain node start (about 0.1 s) rather than a transpile of the sources.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURES_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'dodo');
export const CLI_ENTRY = path.join(REPO_ROOT, 'bin', 'dodo-slack.js');

export interface BuiltCli {
  /** Path of bin/dodo-slack.js. */
  readonly entry: string;
}

/**
 * The CLI with its bundle built: one run of `--help` before a suite starts its child processes in
 * parallel, so they find the bundle fresh instead of each building it (harmless, but slower).
 */
export function buildCli(): BuiltCli {
  const warm = spawnSync(process.execPath, [CLI_ENTRY, '--help'], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (warm.status !== 0) throw new Error(`bin/dodo-slack.js --help exited ${warm.status}:\n${warm.stderr}`);
  return { entry: CLI_ENTRY };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment without the variables the CLI reads, so the developer's own settings never leak in. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.DODO_WEBHOOK_SECRET;
  delete env.SLACK_WEBHOOK_URL;
  delete env.SLACK_BOT_TOKEN;
  delete env.SLACK_CHANNEL;
  delete env.DODO_API_KEY;
  return { ...env, ...extra };
}

export function runCli(entry: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { env: options.env ?? cleanEnv(), cwd: options.cwd ?? REPO_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `tasks` with at most `limit` at once (child processes on a 2-core machine). */
export async function inBatches<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await (tasks[index])();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** A running child process whose output is collected and can be waited on. */
export class RunningProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  private waiters: (() => void)[] = [];

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString('utf8');
      this.notify();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
      this.notify();
    });
    this.exited = new Promise((resolve) => child.on('close', (code) => {
      this.notify();
      resolve(code);
    }));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }

  /** Resolves with the first match of `pattern` in stdout; rejects after `timeoutMs` with the output so far. */
  async waitFor(pattern: RegExp, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.stdout.match(pattern);
      if (match) return match;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no ${pattern} in output (exit ${this.child.exitCode}):\n--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `signal` and resolves with the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill(signal);
    return this.exited;
  }
}

export interface ServeHandle {
  readonly process: RunningProcess;
  /** `http://127.0.0.1:PORT/webhooks/dodo`, from the `listening on` line. */
  readonly url: string;
}

/** Starts `dodo-slack serve --port 0` and waits for its `listening on` line. */
export async function startServe(entry: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ServeHandle> {
  const child = spawn(process.execPath, [entry, 'serve', '--port', '0', ...args], { env, cwd: REPO_ROOT });
  const running = new RunningProcess(child);
  const [, url] = await running.waitFor(/^listening on (http:\/\/127\.0\.0\.1:\d+\/webhooks\/dodo)$/m);
  return { process: running, url: url };
}

export interface SlackRequest {
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A real HTTP server on 127.0.0.1 standing in for Slack; answers from a script (optionally late), then 200 `ok`. */
export class FakeSlack {
  readonly requests: SlackRequest[] = [];
  /** The requests that got their answer (a held answer released after the client went away did not). */
  readonly answered: { readonly status: number; readonly body: string }[] = [];
  private server: Server | undefined;
  private waiters: { count: number; wake: () => void }[] = [];
  /** Answers scripted with `held: true`, waiting for release(). */
  private held: (() => void)[] = [];

  /** `held: true` keeps the answer until release(), so a test decides when the post completes. */
  constructor(private readonly script: { status: number; body: string; delayMs?: number; held?: boolean }[] = []) {}

  /** Sends every held answer. */
  release(): void {
    this.held.splice(0).forEach((answer) => answer());
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        const answer = this.script.shift() ?? { status: 200, body: 'ok' };
        const body = this.requests[this.requests.length - 1]?.body ?? '';
        const respond = () => {
          if (request.socket.destroyed) return;
          response.writeHead(answer.status, { 'content-type': 'text/plain' });
          response.end(answer.body);
          this.answered.push({ status: answer.status, body });
        };
        if (answer.held) this.held.push(respond);
        else setTimeout(respond, answer.delayMs ?? 0);
        this.waiters = this.waiters.filter((waiter) => {
          if (this.requests.length < waiter.count) return true;
          waiter.wake();
          return false;
        });
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/services/T000/B000/XXXX`;
  }

  /** Resolves once `count` requests have arrived. */
  received(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fake Slack got ${this.requests.length} of ${count} requests`)), timeoutMs);
      this.waiters.push({ count, wake: () => { clearTimeout(timer); resolve(); } });
    });
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
