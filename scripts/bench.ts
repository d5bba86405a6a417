/**
 * `npm run bench [-- --json]`: what users pay for, measured on this machine (issue 8).
 *
 * Builds the production Lambda bundles with the construct's esbuild settings (lib/bundling.ts), then:
 *   bundle sizes; init in >= 20 fresh Node processes; signature checks per second against the
 *   standardwebhooks reference; CPU per event through both real handlers with in-process AWS fakes;
 *   2,000 events through `dodo-slack serve` into a 127.0.0.1 Slack stand-in; a 300-event burst into a
 *   rate-limited stand-in; 10,000 launch-day events into a stand-in taking 1 message/s, where serve
 *   rolls the backlog up (issue 15); the CLI start against a bare `node -e 0`. Prints a table (or, with --json, one JSON object) and pass/fail per budget.
 *
 * Only loopback addresses; every step has a timeout and the whole run a watchdog. Figures that
 * could not be measured are null and their budgets "not measured"; the exit code is then 1.
 * Method and latest figures: docs/performance.md.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { buildAll, buildComparison, deployedBundling } from './bench/build';
import { loadFixtures, median } from './bench/fixtures';
import { liveChildren, measureInit, runHarness, type InitSummary } from './bench/processes';
import { markableFixtures, runServe, type ServeRunResult } from './bench/serve';
import { measureCliStart } from './bench/cli-start';
import { measureVerify } from './bench/verify';
import { Defaults } from '../lambda/shared/defaults';
import { LAUNCH_DAY_MIX, launchDayPicker } from './bench/launch-day';

const INIT_SAMPLES = 21;
const COMPARISON_INIT_SAMPLES = 11;
const SERVE_EVENTS = 2_000;
/** Events in flight end to end during the throughput run. */
const SERVE_CONCURRENCY = 16;
/** `serve --rate` accepts at most 1000 messages per second; the throughput run uses the maximum. */
const SERVE_MAX_RATE = 1_000;
const BURST_EVENTS = 300;
/** The Slack stand-in of the burst run: Slack scaled 10x (10 messages/s, bursts of 20). */
const BURST_SLACK = { ratePerSecond: 10, burst: 20 } as const;
const CLI_START_PAIRS = 15;
/** Issue 15: 10,000 events into Slack's real pace (1 message/s, no burst), serve with its default --rollup-after. */
const BURST10K_EVENTS = 10_000;
const BURST10K_SLACK = { ratePerSecond: 1, burst: 1 } as const;
const BURST10K_DEADLINE_MS = 300_000;
const WATCHDOG_MS = 720_000;

export interface BenchFigures {
  receiverBundleBytes: number | null;
  transformerBundleBytes: number | null;
  receiverInitMs: number | null;
  transformerInitMs: number | null;
  verifyOpsPerSec: number | null;
  referenceVerifyOpsPerSec: number | null;
  receiverUsPerEvent: number | null;
  transformerUsPerEvent: number | null;
  serveEventsPerSec: number | null;
  serveP99Ms: number | null;
  burstDrainSeconds: number | null;
  burstIdealSeconds: number | null;
  burst429s: number | null;
  burst10kTimeToChannelSeconds: number | null;
  burst10kMessages: number | null;
  peakRssMb: number | null;
  cliStartMs: number | null;
  nodeStartMs: number | null;
  cliStartVsNode: number | null;
}

type BudgetStatus = 'pass' | 'fail' | 'not measured';
interface Budget {
  readonly rule: string;
  readonly actual: string | null;
  readonly status: BudgetStatus;
}

/** Extra detail for the table and the notes (not part of the JSON contract). */
interface Details {
  buildMs?: number;
  receiverInit?: InitSummary;
  transformerInit?: InitSummary;
  bundling?: string;
  comparison?: { name: string; receiverBytes: number; transformerBytes: number; receiverInit: InitSummary; transformerInit: InitSummary };
  verifyRatios?: number[];
  receiverRounds?: number[];
  transformerRounds?: number[];
  serve?: ServeRunResult;
  burst?: ServeRunResult;
  burst10k?: ServeRunResult;
  problems: string[];
  notes: string[];
}

const json = process.argv.includes('--json');
const progress = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};

async function step<T>(name: string, details: Details, run: () => Promise<T>): Promise<T | undefined> {
  const started = Date.now();
  progress(`${name}…`);
  try {
    const result = await run();
    progress(`${name} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    details.problems.push(`${name}: ${message}`);
    progress(`${name} FAILED: ${message}`);
    return undefined;
  }
}

const round = (value: number | null | undefined, digits: number): number | null =>
  value === null || value === undefined || !Number.isFinite(value) ? null : Number(value.toFixed(digits));

async function main(): Promise<number> {
  const machine = {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    memoryGb: round(totalmem() / 2 ** 30, 1),
    loadAverage1mAtStart: round(loadavg()[0], 2),
  };
  const details: Details = { problems: [], notes: [] };
  const figures: BenchFigures = {
    receiverBundleBytes: null,
    transformerBundleBytes: null,
    receiverInitMs: null,
    transformerInitMs: null,
    verifyOpsPerSec: null,
    referenceVerifyOpsPerSec: null,
    receiverUsPerEvent: null,
    transformerUsPerEvent: null,
    serveEventsPerSec: null,
    serveP99Ms: null,
    burstDrainSeconds: null,
    burstIdealSeconds: null,
    burst429s: null,
    burst10kTimeToChannelSeconds: null,
    burst10kMessages: null,
    peakRssMb: null,
    cliStartMs: null,
    nodeStartMs: null,
    cliStartVsNode: null,
  };
  const fixtures = loadFixtures();

  const { deployed, other } = deployedBundling();
  details.bundling = deployed.name;
  if (deployed !== other && deployed.name.startsWith('NodejsFunction')) {
    details.notes.push('lib/dodo-slack-notifier.ts does not use LAMBDA_BUNDLING from lib/bundling.ts yet: the figures are for its inline settings; the other row shows what lib/bundling.ts would give');
  }
  const built = await step(`build (production bundles with ${deployed.name}, harnesses, CLI)`, details, () => buildAll(deployed.settings));
  if (built) {
    details.buildMs = built.buildMs;
    figures.receiverBundleBytes = built.receiverBytes;
    figures.transformerBundleBytes = built.transformerBytes;

    const init = await step(`init, ${INIT_SAMPLES} fresh processes per handler`, details, async () => ({
      receiver: await measureInit(built.initProbe, built.receiver, 'receiver', INIT_SAMPLES),
      transformer: await measureInit(built.initProbe, built.transformer, 'transformer', INIT_SAMPLES),
    }));
    if (init) {
      details.receiverInit = init.receiver;
      details.transformerInit = init.transformer;
      figures.receiverInitMs = round(init.receiver.initMs, 1);
      figures.transformerInitMs = round(init.transformer.initMs, 1);
    }
    const comparison = await step(`comparison: ${other.name}`, details, async () => {
      const files = await buildComparison(other.settings);
      return {
        name: other.name,
        receiverBytes: files.receiverBytes,
        transformerBytes: files.transformerBytes,
        receiverInit: await measureInit(built.initProbe, files.receiver, 'receiver', COMPARISON_INIT_SAMPLES),
        transformerInit: await measureInit(built.initProbe, files.transformer, 'transformer', COMPARISON_INIT_SAMPLES),
      };
    });
    if (comparison) details.comparison = comparison;
  }

  const verify = await step('signature checks vs standardwebhooks (2 KB bodies)', details, async () => measureVerify(fixtures));
  if (verify) {
    details.verifyRatios = verify.ratios;
    figures.verifyOpsPerSec = round(verify.opsPerSec, 0);
    figures.referenceVerifyOpsPerSec = round(verify.referenceOpsPerSec, 0);
  }

  if (built) {
    const receiver = await step('receiver CPU per event (48 fixtures, in-process AWS fakes)', details, async () => {
      const result = await runHarness<{ usPerEvent: number[]; events: number; queued: number; rejected: number }>(built.receiverHarness, 'receiver');
      if (result.rejected !== 0 || result.queued !== result.events) throw new Error(`${result.rejected} events rejected, ${result.queued}/${result.events} queued`);
      return result;
    });
    if (receiver) {
      details.receiverRounds = receiver.usPerEvent;
      figures.receiverUsPerEvent = round(median(receiver.usPerEvent), 1);
    }
    const transformer = await step('transformer CPU per event (48 fixtures, in-process AWS and Slack fakes)', details, async () => {
      const result = await runHarness<{ usPerEvent: number[]; events: number; posted: number; failedItems: number }>(built.transformerHarness, 'transformer');
      if (result.failedItems !== 0 || result.posted !== result.events) throw new Error(`${result.failedItems} records failed, ${result.posted}/${result.events} posted to Slack`);
      return result;
    });
    if (transformer) {
      details.transformerRounds = transformer.usPerEvent;
      figures.transformerUsPerEvent = round(median(transformer.usPerEvent), 1);
    }

    const { usable, unusable } = markableFixtures(fixtures);
    if (unusable.length > 0) details.problems.push(`serve runs skip ${unusable.length} fixture(s) whose message does not show the envelope time: ${unusable.join(', ')}`);
    const serve = await step(`serve: ${SERVE_EVENTS} events into an instant Slack stand-in`, details, () =>
      runServe({ cli: built.cli, fixtures: usable, events: SERVE_EVENTS, rate: SERVE_MAX_RATE, slack: { kind: 'instant' }, load: 'closed', concurrency: SERVE_CONCURRENCY, deadlineMs: 90_000 }),
    );
    if (serve) {
      details.serve = serve;
      if (!serve.exactlyOnce) details.problems.push(`serve run: ${serve.delivered}/${SERVE_EVENTS} delivered, ${serve.duplicates} duplicates, ${serve.unidentified} unidentified`);
      figures.serveEventsPerSec = serve.exactlyOnce ? round(serve.eventsPerSecond, 0) : null;
      figures.serveP99Ms = serve.exactlyOnce ? round(serve.p99Ms, 1) : null;
      figures.peakRssMb = round(serve.peakRssMb, 1);
    }
    const burst = await step(`burst: ${BURST_EVENTS} events, Slack stand-in ${BURST_SLACK.ratePerSecond}/s burst ${BURST_SLACK.burst}`, details, () =>
      runServe({
        cli: built.cli,
        fixtures: usable,
        events: BURST_EVENTS,
        rate: BURST_SLACK.ratePerSecond,
        burst: BURST_SLACK.burst,
        slack: { kind: 'token-bucket', ...BURST_SLACK },
        load: 'burst',
        concurrency: SERVE_CONCURRENCY,
        deadlineMs: 120_000,
      }),
    );
    figures.burstIdealSeconds = (BURST_EVENTS - BURST_SLACK.burst) / BURST_SLACK.ratePerSecond;
    if (burst) {
      details.burst = burst;
      if (!burst.exactlyOnce) details.problems.push(`burst run: ${burst.delivered}/${BURST_EVENTS} delivered, ${burst.duplicates} duplicates, ${burst.unidentified} unidentified`);
      figures.burstDrainSeconds = burst.exactlyOnce ? round(burst.seconds, 2) : null;
      figures.burst429s = burst.tooManyRequests;
    }
    const burst10k = await step(`burst10k: ${BURST10K_EVENTS} launch-day events, Slack stand-in ${BURST10K_SLACK.ratePerSecond}/s, serve --rate 1 with roll-ups`, details, () =>
      runServe({
        cli: built.cli,
        fixtures: usable,
        pick: launchDayPicker(usable),
        events: BURST10K_EVENTS,
        rate: 1,
        burst: 1,
        extraArgs: ['--rollup-after', String(Defaults.rollupAfterSeconds)],
        slack: { kind: 'token-bucket', ...BURST10K_SLACK },
        load: 'burst',
        concurrency: SERVE_CONCURRENCY,
        deadlineMs: BURST10K_DEADLINE_MS,
      }),
    );
    if (burst10k) {
      details.burst10k = burst10k;
      if (!burst10k.exactlyOnce) {
        details.problems.push(`burst10k run: ${burst10k.delivered}/${BURST10K_EVENTS} covered, ${burst10k.duplicates} covered twice, ${burst10k.unidentified} unidentified${burst10k.timedOut ? `, not all covered within ${BURST10K_DEADLINE_MS / 1000} s` : ''}`);
      }
      figures.burst10kTimeToChannelSeconds = burst10k.exactlyOnce ? round(burst10k.seconds, 1) : null;
      figures.burst10kMessages = burst10k.messages;
    }
  }

  const cliStart = await step(`CLI start: bin/dodo-slack.js preview vs node -e 0, ${CLI_START_PAIRS} pairs`, details, () => measureCliStart(CLI_START_PAIRS));
  if (cliStart) {
    figures.cliStartMs = round(cliStart.cliMs, 1);
    figures.nodeStartMs = round(cliStart.nodeMs, 1);
    figures.cliStartVsNode = round(cliStart.ratio, 2);
  }

  const budgets = checkBudgets(figures, details);
  if (json) {
    // The table still goes to stderr, for people; stdout is the JSON object alone.
    process.stderr.write(table(figures, budgets, machine, details));
    process.stdout.write(`${JSON.stringify({ ...figures, budgets, machine }, null, 2)}\n`);
  } else {
    process.stdout.write(table(figures, budgets, machine, details));
  }
  const unmeasured = Object.values(figures).some((value) => value === null);
  return unmeasured || details.problems.length > 0 ? 1 : 0;
}

function checkBudgets(f: BenchFigures, details: Details): Record<string, Budget> {
  const budget = (rule: string, actual: string | null, ok: boolean | null): Budget => ({ rule, actual, status: ok === null ? 'not measured' : ok ? 'pass' : 'fail' });
  const both = <T>(a: T | null, b: T | null) => a !== null && b !== null;
  return {
    verifyOpsPerSec: budget(
      'verifyOpsPerSec >= 5 x referenceVerifyOpsPerSec',
      both(f.verifyOpsPerSec, f.referenceVerifyOpsPerSec) ? `${(f.verifyOpsPerSec! / f.referenceVerifyOpsPerSec!).toFixed(2)} x` : null,
      both(f.verifyOpsPerSec, f.referenceVerifyOpsPerSec) ? f.verifyOpsPerSec! >= 5 * f.referenceVerifyOpsPerSec! : null,
    ),
    receiverInitMs: budget('receiverInitMs <= 60', f.receiverInitMs === null ? null : `${f.receiverInitMs} ms with ${details.bundling}`, f.receiverInitMs === null ? null : f.receiverInitMs <= 60),
    transformerInitMs: budget('transformerInitMs <= 90', f.transformerInitMs === null ? null : `${f.transformerInitMs} ms with ${details.bundling}`, f.transformerInitMs === null ? null : f.transformerInitMs <= 90),
    receiverUsPerEvent: budget('receiverUsPerEvent <= 50', f.receiverUsPerEvent === null ? null : `${f.receiverUsPerEvent} µs`, f.receiverUsPerEvent === null ? null : f.receiverUsPerEvent <= 50),
    transformerUsPerEvent: budget(
      'transformerUsPerEvent <= 150',
      f.transformerUsPerEvent === null ? null : `${f.transformerUsPerEvent} µs`,
      f.transformerUsPerEvent === null ? null : f.transformerUsPerEvent <= 150,
    ),
    peakRssMb: budget('peakRssMb <= 150', f.peakRssMb === null ? null : `${f.peakRssMb} MB`, f.peakRssMb === null ? null : f.peakRssMb <= 150),
    burstDrainSeconds: budget(
      'burstDrainSeconds <= 1.25 x burstIdealSeconds',
      both(f.burstDrainSeconds, f.burstIdealSeconds) ? `${f.burstDrainSeconds} s = ${(f.burstDrainSeconds! / f.burstIdealSeconds!).toFixed(2)} x ideal` : null,
      both(f.burstDrainSeconds, f.burstIdealSeconds) ? f.burstDrainSeconds! <= 1.25 * f.burstIdealSeconds! : null,
    ),
    burst10kTimeToChannelSeconds: budget(
      'burst10kTimeToChannelSeconds <= 120',
      f.burst10kTimeToChannelSeconds === null ? null : `${f.burst10kTimeToChannelSeconds} s`,
      f.burst10kTimeToChannelSeconds === null ? null : f.burst10kTimeToChannelSeconds <= 120,
    ),
    burst10kMessages: budget('burst10kMessages <= 120', f.burst10kMessages === null ? null : String(f.burst10kMessages), f.burst10kMessages === null ? null : f.burst10kMessages <= 120),
    burst10kExactlyOnce: budget(
      `every one of the ${BURST10K_EVENTS} burst10k events covered exactly once (0 lost, 0 covered twice)`,
      details.burst10k ? `${details.burst10k.delivered} covered, ${BURST10K_EVENTS - details.burst10k.delivered} lost, ${details.burst10k.duplicates} covered twice` : null,
      details.burst10k ? details.burst10k.exactlyOnce : null,
    ),
    cliStartVsNode: budget(
      'cliStartVsNode <= 4',
      f.cliStartVsNode === null ? null : `${f.cliStartVsNode} x (${f.cliStartMs} ms vs ${f.nodeStartMs} ms)`,
      f.cliStartVsNode === null ? null : f.cliStartVsNode <= 4,
    ),
    burst429s: budget('burst429s <= 15 (5 %)', f.burst429s === null ? null : String(f.burst429s), f.burst429s === null ? null : f.burst429s <= 15),
    serveExactlyOnce: budget(
      `every one of the ${SERVE_EVENTS} serve events delivered exactly once`,
      details.serve ? `${details.serve.delivered} delivered, ${details.serve.duplicates} duplicates` : null,
      details.serve ? details.serve.exactlyOnce : null,
    ),
    burstExactlyOnce: budget(
      `every one of the ${BURST_EVENTS} burst events delivered exactly once`,
      details.burst ? `${details.burst.delivered} delivered, ${details.burst.duplicates} duplicates` : null,
      details.burst ? details.burst.exactlyOnce : null,
    ),
  };
}

function table(f: BenchFigures, budgets: Record<string, Budget>, machine: Record<string, unknown>, d: Details): string {
  const show = (value: number | null, unit = '') => (value === null ? 'not measured' : `${value.toLocaleString('en-US')}${unit}`);
  const kb = (bytes: number | null) => (bytes === null ? 'not measured' : `${(bytes / 1024).toFixed(0)} KB`);
  const rows: [string, string, string][] = [
    ['receiver bundle', kb(f.receiverBundleBytes), d.comparison ? `${d.comparison.name}: ${kb(d.comparison.receiverBytes)}` : ''],
    ['transformer bundle', kb(f.transformerBundleBytes), d.comparison ? `${d.comparison.name}: ${kb(d.comparison.transformerBytes)}` : ''],
    [
      'receiver init (median)',
      show(f.receiverInitMs, ' ms'),
      d.receiverInit ? `import ${d.receiverInit.importMs.toFixed(1)} ms, CPU ${d.receiverInit.cpuMs.toFixed(1)} ms; ${d.comparison ? `other bundling: ${d.comparison.receiverInit.initMs.toFixed(1)} ms` : ''}` : '',
    ],
    [
      'transformer init (median)',
      show(f.transformerInitMs, ' ms'),
      d.transformerInit ? `import ${d.transformerInit.importMs.toFixed(1)} ms, CPU ${d.transformerInit.cpuMs.toFixed(1)} ms; ${d.comparison ? `other bundling: ${d.comparison.transformerInit.initMs.toFixed(1)} ms` : ''}` : '',
    ],
    ['verify (ours)', show(f.verifyOpsPerSec, ' ops/s'), `2 KB bodies, per CPU-second${d.verifyRatios ? `; ratio per round ${d.verifyRatios.map((r) => r.toFixed(1)).join('/')}` : ''}`],
    ['verify (standardwebhooks)', show(f.referenceVerifyOpsPerSec, ' ops/s'), 'same bodies, same run'],
    ['receiver CPU per event', show(f.receiverUsPerEvent, ' µs'), d.receiverRounds ? `rounds ${d.receiverRounds.map((v) => v.toFixed(0)).join('/')}` : ''],
    ['transformer CPU per event', show(f.transformerUsPerEvent, ' µs'), d.transformerRounds ? `rounds ${d.transformerRounds.map((v) => v.toFixed(0)).join('/')}` : ''],
    [
      'serve throughput',
      show(f.serveEventsPerSec, ' events/s'),
      d.serve ? `${SERVE_CONCURRENCY} in flight, --rate ${SERVE_MAX_RATE} (the CLI's maximum); webhook answer p99 ${d.serve.answerP99Ms.toFixed(1)} ms` : '',
    ],
    ['serve p99 webhook -> Slack', show(f.serveP99Ms, ' ms'), d.serve ? `p50 ${d.serve.p50Ms.toFixed(1)} ms` : ''],
    ['serve peak RSS', show(f.peakRssMb, ' MB'), 'VmHWM of the serve process'],
    ['burst drain', show(f.burstDrainSeconds, ' s'), d.burst ? `ideal ${f.burstIdealSeconds} s; --burst ${d.burst.burstOptionUsed ? 'passed' : 'not available in the CLI (pacing starts at 1)'}` : ''],
    ['burst 429s', show(f.burst429s), ''],
    [
      'burst10k time to channel',
      show(f.burst10kTimeToChannelSeconds, ' s'),
      d.burst10k ? `first POST to the last event covered; webhooks answered p99 ${d.burst10k.answerP99Ms.toFixed(1)} ms; ${d.burst10k.tooManyRequests} 429s` : '',
    ],
    ['burst10k messages', show(f.burst10kMessages), d.burst10k ? `${d.burst10k.rollups} roll-ups, ${d.burst10k.messages - d.burst10k.rollups} single messages; mix: ${LAUNCH_DAY_MIX}` : ''],
    ['CLI start (median)', show(f.cliStartMs, ' ms'), f.cliStartVsNode === null ? '' : `${f.cliStartVsNode} x node -e 0 (${f.nodeStartMs} ms), median of per-pair ratios`],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.max(...rows.map((r) => r[1].length));
  const lines = rows.map(([name, value, note]) => `${name.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`.trimEnd());
  const budgetLines = Object.values(budgets).map((b) => `${b.status === 'pass' ? 'PASS' : b.status === 'fail' ? 'FAIL' : 'N/M '}  ${b.rule}${b.actual ? ` (${b.actual})` : ''}`);
  return [
    `machine: ${String(machine.cpuModel)}, ${String(machine.cores)} cores, Node ${String(machine.node)}, load ${String(machine.loadAverage1mAtStart)} at start`,
    `bundles: ${d.bundling ?? '-'} (what lib/dodo-slack-notifier.ts deploys)`,
    '',
    ...lines,
    '',
    'budgets:',
    ...budgetLines,
    ...(d.notes.length > 0 ? ['', 'notes:', ...d.notes.map((n) => `- ${n}`)] : []),
    ...(d.problems.length > 0 ? ['', 'problems:', ...d.problems.map((p) => `- ${p}`)] : []),
    '',
  ].join('\n');
}

const watchdog = setTimeout(() => {
  progress(`gave up after ${WATCHDOG_MS / 1000} s`);
  for (const child of liveChildren) child.kill('SIGKILL');
  process.exit(2);
}, WATCHDOG_MS);

main().then(
  (code) => {
    clearTimeout(watchdog);
    process.exitCode = code;
  },
  (error: unknown) => {
    clearTimeout(watchdog);
    progress(`crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  },
);
