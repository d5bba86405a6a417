/**
 * Per-event overhead and start-up cost of running user transformation code, for a trivial handler.
 *
 *     node -r ts-node/register/transpile-only scripts/bench/user-code-overhead.ts [baseline-runner.ts]
 *
 * Prints µs/event through lambda/sandbox/runner.ts (worker thread + vm context), and, when
 * given the path of another runner module with the same `compileUserCode` export (e.g. the
 * main-thread vm runner from git history: `git show <rev>:lambda/core/transform-runner.ts`), the
 * same numbers for it in the same process, so both see the same machine state.
 * Start-up: the time `compileUserCode` blocks (eager: worker started and code loaded at compile),
 * and the first event after the worker was ended (lazy: worker started by the event itself).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TransformInput } from '../../lambda/shared/transformation';
import * as current from '../../lambda/sandbox/runner';

type Runner = { run(input: TransformInput): unknown; close?: () => Promise<void> };
type Compile = (source: string, filename: string, options?: { timeoutMs?: number }) => Runner;

const TRIVIAL = "function handler(webhook) { webhook.payload = { text: 'sale ' + webhook.payload.data.total_amount }; return webhook; }";
const WARMUP = 500;
const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const ROUNDS = 5;

const rawBody = fs.readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'dodo', 'payment.succeeded.json'), 'utf8');
const input: TransformInput = {
  webhookId: 'msg_bench',
  eventType: 'payment.succeeded',
  envelope: JSON.parse(rawBody) as TransformInput['envelope'],
  rawBody,
  headers: { 'webhook-id': 'msg_bench', 'webhook-timestamp': '1773480413' },
};

function millisSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function microsPerEvent(runner: Runner): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await runner.run(input);
  const rounds: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < EVENTS; i++) await runner.run(input);
    rounds.push((millisSince(started) * 1000) / EVENTS);
  }
  return rounds.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
}

async function measure(name: string, compile: Compile): Promise<void> {
  let started = process.hrtime.bigint();
  const runner = compile(TRIVIAL, 'bench.js', { timeoutMs: 1000 });
  const compileMs = millisSince(started);
  started = process.hrtime.bigint();
  await runner.run(input);
  const firstEventMs = millisSince(started);
  const perEvent = await microsPerEvent(runner);
  console.log(`${name}: ${perEvent.toFixed(1)} µs/event (median of ${ROUNDS} x ${EVENTS}), compile ${compileMs.toFixed(1)} ms, first event ${firstEventMs.toFixed(2)} ms`);
  await runner.close?.();
}

async function lazyStart(): Promise<void> {
  // A handler that loops on one event type: its timeout ends the worker, the next event starts one.
  const source = "function handler(w) { if (w.eventType === 'loop') while (true) {} w.payload = { text: 'ok' }; return w; }";
  const runner = current.compileUserCode(source, 'restart.js', { timeoutMs: 20 });
  const samples: number[] = [];
  for (let i = 0; i < 10; i++) {
    await runner.run({ ...input, eventType: 'loop' });
    const started = process.hrtime.bigint();
    await runner.run(input);
    samples.push(millisSince(started));
  }
  samples.sort((a, b) => a - b);
  console.log(`worker: first event with a lazily started worker (after a timeout) ${samples[5].toFixed(1)} ms median, ${samples[0].toFixed(1)}..${samples.at(-1)!.toFixed(1)} ms`);
  await runner.close();
}

async function main(): Promise<void> {
  const baselinePath = process.argv[2];
  if (baselinePath !== undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the baseline build, at a path given on the command line
    const baseline = require(path.resolve(baselinePath)) as { compileUserCode: Compile };
    await measure('baseline', baseline.compileUserCode);
  }
  await measure('worker', current.compileUserCode);
  if (baselinePath !== undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the baseline build, at a path given on the command line
    await measure('baseline again', (require(path.resolve(baselinePath)) as { compileUserCode: Compile }).compileUserCode);
  }
  await lazyStart();
}

void main();
