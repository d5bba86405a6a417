/**
 * `npm run bench [-- --json]`: what users pay for (cold starts, CPU per event, time to channel),
 * measured on this machine.
 *
 * Every CPU-bound budget is on a ratio measured side by side in this run, so a slower or faster
 * machine moves both sides alike and the budget holds there too: init of the production bundles
 * (lib/bundling.ts) against the same handlers bundled with NodejsFunction's defaults, fresh
 * processes alternated; CPU per event through both real handlers (in-process AWS and Slack
 * stand-ins) against the minimal implementation of the same job (scripts/bench/minimal-twins.ts),
 * taking turns in the same process; our signature check against the standardwebhooks reference,
 * rounds alternated; `dodo-slack serve` (2,000 events into a 127.0.0.1 Slack stand-in) against a
 * bare node:http server, same client, alternated; the CLI start against `node -e 0`. Also: a
 * 300-event burst into a rate-limited stand-in, and 10,000 launch-day events into a stand-in taking
 * 1 message/s, where serve rolls the backlog up; a message with names on a warm cache against the
 * same message without. Then the AWS bill (scripts/bench/cost/): the
 * requests the pipeline makes per webhook, counted on the emulators, and the template's standing
 * resources, at list prices. `--only cost` or `--only names` runs that part alone. Prints a table (or, with --json, one JSON object:
 * the figures, the budgets, the machine) and pass/fail per budget.
 *
 * Only loopback addresses; every step has a timeout and the whole run a watchdog. Figures that
 * could not be measured are null and their budgets "not measured"; the exit code is then 1.
 * Method and latest figures: docs/performance.md.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { buildAll, buildComparison, DEPLOYED_BUNDLING_NAME, NODEJS_FUNCTION_DEFAULTS_NAME } from './bench/build';
import { loadFixtures, median } from './bench/fixtures';
import { compareInit, liveChildren, runHarness, type InitComparison } from './bench/processes';
import { markableFixtures, runBareHttp, runServe, type ServeRunResult } from './bench/serve';
import { measureCliStart } from './bench/cli-start';
import { measureVerify } from './bench/verify';
import { startStandIns } from './bench/stand-ins';
import { promiseOf } from '../lambda/shared/promise';
import { Defaults } from '../lambda/shared/defaults';
import { LAUNCH_DAY_MIX, launchDayPicker } from './bench/launch-day';
import { costTable, runCostModel, type CostResult } from './bench/cost';
import { byService } from './bench/cost/model';
import { measureNames } from './bench/names';

/** Fresh processes per bundle, alternated with the NodejsFunction-defaults bundle's. */
const INIT_PAIRS = 21;
const SERVE_EVENTS = 2_000;
/** serve and the bare node:http server, alternated this many times (serveVsNodeHttp is the median ratio). */
const SERVE_PAIRS = 3;
/** The bare server answers ~10x faster than serve delivers: more events, so its run lasts about as long (~1.5 s). */
const BARE_HTTP_EVENTS = 10_000;
/** Events in flight end to end during the throughput run. */
const SERVE_CONCURRENCY = 16;
/** `serve --rate` accepts at most 1000 messages per second; the throughput run uses the maximum. */
const SERVE_MAX_RATE = 1_000;
const BURST_EVENTS = 300;
/** The Slack stand-in of the burst run: Slack scaled 10x (10 messages/s, bursts of 20). */
const BURST_SLACK = { ratePerSecond: 10, burst: 20 } as const;
const CLI_START_PAIRS = 15;
/** 10,000 events into Slack's real pace (1 message/s, no burst), serve with its default --rollup-after: the roll-ups' case. */
const BURST10K_EVENTS = 10_000;
const BURST10K_SLACK = { ratePerSecond: 1, burst: 1 } as const;
const BURST10K_DEADLINE_MS = 300_000;
/** The whole run, cost part included (its burst drains in real time at Slack's pace: about a minute and a half). */
const WATCHDOG_MS = 1_080_000;
/** Webhooks per configuration through the cost harness (after one that fills the caches), and the burst it drains. */
const COST_TRICKLE_WEBHOOKS = 48;
const COST_BURST_WEBHOOKS = 10_000;
/** Budgets of the default deploy, in USD at list prices (scripts/bench/cost/prices.ts). */
export const COST_BUDGETS = { perMillionWebhooks: 6, burstVsTrickle: 2, fixedPerMonth: 3.5 } as const;

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
  // Each measured side by side with its baseline in the same run.
  receiverInitVsNodejsDefault: number | null;
  transformerInitVsNodejsDefault: number | null;
  /** CPU per event through the real handler ÷ through its minimal twin, median of per-round ratios. */
  receiverCpuVsMinimal: number | null;
  transformerCpuVsMinimal: number | null;
  receiverMinimalUsPerEvent: number | null;
  transformerMinimalUsPerEvent: number | null;
  /** CPU per event ÷ one 2 KB signature check: a figure only (it moves with how fast the CPU does HMAC). */
  receiverCpuInSignatureChecks: number | null;
  transformerCpuInSignatureChecks: number | null;
  verifyVsReference: number | null;
  serveVsNodeHttp: number | null;
  bareNodeHttpEventsPerSec: number | null;
  /** USD per million webhooks of the default deploy, arriving one at a time over a month (counts × list prices). */
  awsUsdPerMillionWebhooks: number | null;
  /** The same for a 10,000-webhook burst, scaled to a million. */
  awsUsdPerMillionWebhooksBurst: number | null;
  /** USD a month of the default deploy standing with no traffic. */
  awsFixedUsdPerMonth: number | null;
  /** CPU per message through the pipeline with names on a warm cache ÷ without the names port, median of per-round ratios. */
  namesWarmVsNone: number | null;
}

/** What the harnesses (scripts/bench/receiver-events.ts, transformer-events.ts) send back, per round and in total. */
interface HarnessRounds {
  usPerEvent: number[];
  minimalUsPerEvent: number[];
  checkUs: number[];
  events: number;
}
interface ReceiverHarnessResult extends HarnessRounds {
  queued: number;
  rejected: number;
  minimalQueued: number;
  minimalRejected: number;
}
interface TransformerHarnessResult extends HarnessRounds {
  posted: number;
  failedItems: number;
  minimalPosted: number;
  minimalFailedItems: number;
}

type BudgetStatus = 'pass' | 'fail' | 'not measured';
interface Budget {
  readonly rule: string;
  readonly actual: string | null;
  readonly status: BudgetStatus;
}

/** Extra detail for the table (not part of the JSON contract). */
interface Details {
  buildMs?: number;
  receiverInit?: InitComparison;
  transformerInit?: InitComparison;
  comparison?: { receiverBytes: number; transformerBytes: number };
  verifyRatios?: number[];
  receiverRounds?: number[];
  transformerRounds?: number[];
  receiverVsMinimal?: number[];
  transformerVsMinimal?: number[];
  receiverChecks?: number[];
  transformerChecks?: number[];
  serve?: ServeRunResult;
  names?: Awaited<ReturnType<typeof measureNames>>;
  serveRuns?: ServeRunResult[];
  serveRatios?: number[];
  burst?: ServeRunResult;
  burst10k?: ServeRunResult;
  cost?: CostResult;
  problems: string[];
}

const json = process.argv.includes('--json');
/** `--only cost` / `--only names`: that part alone, for iterating on it. */
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex >= 0 ? process.argv[onlyIndex + 1] : undefined;
if (only !== undefined && only !== 'cost' && only !== 'names') throw new Error(`--only takes "cost" or "names", got ${JSON.stringify(only)}`);
/** The figures of the part that ran (all of them without --only). */
const COST_FIGURES = ['awsUsdPerMillionWebhooks', 'awsUsdPerMillionWebhooksBurst', 'awsFixedUsdPerMonth'] as const;
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
  const details: Details = { problems: [] };
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
    receiverInitVsNodejsDefault: null,
    transformerInitVsNodejsDefault: null,
    receiverCpuVsMinimal: null,
    transformerCpuVsMinimal: null,
    receiverMinimalUsPerEvent: null,
    transformerMinimalUsPerEvent: null,
    receiverCpuInSignatureChecks: null,
    transformerCpuInSignatureChecks: null,
    verifyVsReference: null,
    serveVsNodeHttp: null,
    bareNodeHttpEventsPerSec: null,
    awsUsdPerMillionWebhooks: null,
    awsUsdPerMillionWebhooksBurst: null,
    awsFixedUsdPerMonth: null,
    namesWarmVsNone: null,
  };
  if (only === undefined || only === 'names') {
    const names = await step('names: a payment with 3 products through the pipeline, names on a warm cache vs no names port, rounds alternated', details, () => measureNames());
    if (names) {
      details.names = names;
      figures.namesWarmVsNone = round(median(names.ratios), 3);
    }
  }
  if (only === undefined) await measurePerformance(figures, details);

  const cost =
    only === 'names'
      ? undefined
      : await step(`cost: the pipeline on the emulators (${COST_TRICKLE_WEBHOOKS} webhooks per configuration, a ${COST_BURST_WEBHOOKS.toLocaleString('en-US')}-webhook burst at Slack's pace)`, details, () =>
          runCostModel({ trickleWebhooks: COST_TRICKLE_WEBHOOKS, burstWebhooks: COST_BURST_WEBHOOKS, progress }),
        );
  if (cost) {
    details.cost = cost;
    figures.awsUsdPerMillionWebhooks = round(cost.awsUsdPerMillionWebhooks, 3);
    figures.awsUsdPerMillionWebhooksBurst = round(cost.awsUsdPerMillionWebhooksBurst, 3);
    figures.awsFixedUsdPerMonth = round(cost.awsFixedUsdPerMonth, 3);
  }

  const budgets = checkBudgets(figures, details);
  const costBreakdown = cost
    ? {
        perMillionWebhooksByService: byService(cost.perConfiguration.default.perMillion),
        burstPerMillionByService: cost.burst ? Object.fromEntries(Object.entries(byService(cost.burst)).map(([service, usd]) => [service, (usd / cost.burst!.webhooks) * 1e6])) : null,
        fixedPerMonthByService: byService(cost.perConfiguration.default.fixed),
        monthlyUsd: Object.fromEntries(Object.entries(cost.perConfiguration).map(([name, entry]) => [name, { fixed: entry.fixed.usd, ...Object.fromEntries(entry.months.map((month) => [String(month.webhooks), month.usd + entry.fixed.usd])) }])),
      }
    : null;
  if (json) {
    // The table still goes to stderr, for people; stdout is the JSON object alone.
    process.stderr.write(table(figures, budgets, machine, details));
    process.stdout.write(`${JSON.stringify({ ...figures, budgets, costBreakdown, machine }, null, 2)}\n`);
  } else {
    process.stdout.write(table(figures, budgets, machine, details));
  }
  const measured = only === 'cost' ? COST_FIGURES.map((name) => figures[name]) : only === 'names' ? [figures.namesWarmVsNone] : Object.values(figures);
  const unmeasured = measured.some((value) => value === null);
  return unmeasured || details.problems.length > 0 ? 1 : 0;
}

/** Everything but the cost: the CPU, init, serve and burst figures. */
async function measurePerformance(figures: BenchFigures, details: Details): Promise<void> {
  const fixtures = loadFixtures();

  const built = await step(`build (production bundles with ${DEPLOYED_BUNDLING_NAME}, harnesses, CLI)`, details, () => buildAll());
  if (built) {
    details.buildMs = built.buildMs;
    figures.receiverBundleBytes = built.receiverBytes;
    figures.transformerBundleBytes = built.transformerBytes;

    const init = await step(`init: ${INIT_PAIRS} fresh processes per handler, alternated with ${NODEJS_FUNCTION_DEFAULTS_NAME}`, details, async () => {
      const comparison = await buildComparison();
      return {
        comparison,
        receiver: await compareInit(built.initProbe, built.receiver, comparison.receiver, 'receiver', INIT_PAIRS),
        transformer: await compareInit(built.initProbe, built.transformer, comparison.transformer, 'transformer', INIT_PAIRS),
      };
    });
    if (init) {
      details.comparison = { receiverBytes: init.comparison.receiverBytes, transformerBytes: init.comparison.transformerBytes };
      details.receiverInit = init.receiver;
      details.transformerInit = init.transformer;
      figures.receiverInitMs = round(init.receiver.ours.initMs, 1);
      figures.transformerInitMs = round(init.transformer.ours.initMs, 1);
      figures.receiverInitVsNodejsDefault = round(init.receiver.ratio, 3);
      figures.transformerInitVsNodejsDefault = round(init.transformer.ratio, 3);
    }
  }

  const verify = await step('signature checks vs standardwebhooks (2 KB bodies)', details, () => promiseOf(() => measureVerify(fixtures)));
  if (verify) {
    details.verifyRatios = verify.ratios;
    figures.verifyOpsPerSec = round(verify.opsPerSec, 0);
    figures.referenceVerifyOpsPerSec = round(verify.referenceOpsPerSec, 0);
    figures.verifyVsReference = round(median(verify.ratios), 2);
  }

  const standIns = built ? await step('stand-ins: SQS (the fauxqs emulator) and Slack (HTTP on 127.0.0.1), in their own processes', details, () => startStandIns()) : undefined;
  if (built && standIns) {
    const receiver = await step('receiver CPU per event vs its minimal twin (48 fixtures, both sending to the SQS stand-in)', details, async () => {
      const result = await runHarness<ReceiverHarnessResult>(built.receiverHarness, 'receiver', undefined, standIns.env);
      if (result.rejected !== 0 || result.queued !== result.events) throw new Error(`${result.rejected} events rejected, ${result.queued}/${result.events} queued`);
      if (result.minimalRejected !== 0 || result.minimalQueued !== result.events) throw new Error(`minimal twin: ${result.minimalRejected} events rejected, ${result.minimalQueued}/${result.events} queued`);
      return result;
    });
    if (receiver) {
      details.receiverRounds = receiver.usPerEvent;
      details.receiverVsMinimal = receiver.usPerEvent.map((us, index) => us / receiver.minimalUsPerEvent[index]);
      details.receiverChecks = receiver.usPerEvent.map((us, index) => us / receiver.checkUs[index]);
      figures.receiverUsPerEvent = round(median(receiver.usPerEvent), 1);
      figures.receiverMinimalUsPerEvent = round(median(receiver.minimalUsPerEvent), 1);
      figures.receiverCpuVsMinimal = round(median(details.receiverVsMinimal), 2);
      figures.receiverCpuInSignatureChecks = round(median(details.receiverChecks), 2);
    }
    const transformer = await step('transformer CPU per event vs its minimal twin (48 fixtures, both posting to the Slack stand-in)', details, async () => {
      const result = await runHarness<TransformerHarnessResult>(built.transformerHarness, 'transformer', undefined, standIns.env);
      if (result.failedItems !== 0 || result.posted !== result.events) throw new Error(`${result.failedItems} records failed, ${result.posted}/${result.events} posted to Slack`);
      if (result.minimalFailedItems !== 0 || result.minimalPosted !== result.events) throw new Error(`minimal twin: ${result.minimalFailedItems} records failed, ${result.minimalPosted}/${result.events} posted to Slack`);
      return result;
    });
    if (transformer) {
      details.transformerRounds = transformer.usPerEvent;
      details.transformerVsMinimal = transformer.usPerEvent.map((us, index) => us / transformer.minimalUsPerEvent[index]);
      details.transformerChecks = transformer.usPerEvent.map((us, index) => us / transformer.checkUs[index]);
      figures.transformerUsPerEvent = round(median(transformer.usPerEvent), 1);
      figures.transformerMinimalUsPerEvent = round(median(transformer.minimalUsPerEvent), 1);
      figures.transformerCpuVsMinimal = round(median(details.transformerVsMinimal), 2);
      figures.transformerCpuInSignatureChecks = round(median(details.transformerChecks), 2);
    }
    await standIns.stop();

    const { usable, unusable } = markableFixtures(fixtures);
    if (unusable.length > 0) details.problems.push(`serve runs skip ${unusable.length} fixture(s) whose message does not show the envelope time: ${unusable.join(', ')}`);
    const serve = await step(`serve: ${SERVE_EVENTS} events into an instant Slack stand-in, alternated ${SERVE_PAIRS}x with a bare node:http server`, details, async () => {
      const runs: { serve: ServeRunResult; bare: number }[] = [];
      for (let pair = 0; pair < SERVE_PAIRS; pair += 1) {
        const bare = await runBareHttp({ fixtures: usable, events: BARE_HTTP_EVENTS, warmupEvents: SERVE_EVENTS, concurrency: SERVE_CONCURRENCY, deadlineMs: 60_000 });
        const served = await runServe({ cli: built.cli, fixtures: usable, events: SERVE_EVENTS, rate: SERVE_MAX_RATE, slack: { kind: 'instant' }, load: 'closed', concurrency: SERVE_CONCURRENCY, deadlineMs: 90_000 });
        runs.push({ serve: served, bare: bare.eventsPerSecond });
      }
      return runs;
    });
    if (serve) {
      const first = serve[0].serve;
      details.serve = first;
      details.serveRuns = serve.map((run) => run.serve);
      details.serveRatios = serve.map((run) => run.serve.eventsPerSecond / run.bare);
      const exactlyOnce = serve.every((run) => run.serve.exactlyOnce);
      for (const [index, run] of serve.entries()) {
        if (!run.serve.exactlyOnce) details.problems.push(`serve run ${index + 1}: ${run.serve.delivered}/${SERVE_EVENTS} delivered, ${run.serve.duplicates} duplicates, ${run.serve.unidentified} unidentified`);
      }
      figures.serveEventsPerSec = exactlyOnce ? round(median(serve.map((run) => run.serve.eventsPerSecond)), 0) : null;
      figures.serveP99Ms = exactlyOnce ? round(median(serve.map((run) => run.serve.p99Ms)), 1) : null;
      figures.peakRssMb = round(Math.max(...serve.map((run) => run.serve.peakRssMb ?? Number.NaN)), 1);
      figures.bareNodeHttpEventsPerSec = round(median(serve.map((run) => run.bare)), 0);
      figures.serveVsNodeHttp = exactlyOnce ? round(median(details.serveRatios), 3) : null;
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

}

/**
 * Budgets on ratios measured side by side in one run: a slower machine slows both sides alike, so
 * they hold there too. The absolute figures stay in the JSON, labelled with the machine. peakRssMb
 * and the burst figures are not CPU-speed bound and keep their limits.
 * The CPU-per-event budgets compare each handler with the least code doing its job, not with one
 * signature check: an HMAC of 2 KB is hardware-accelerated on some CPUs and not on others while
 * the handlers' work is JavaScript, so a count of checks read 26 on one machine and 38 on another
 * for the same transformer code.
 */
export const RATIO_BUDGETS = {
  initVsNodejsDefault: 0.6,
  receiverCpuVsMinimal: 2.5,
  transformerCpuVsMinimal: 4,
  verifyVsReference: 5,
  cliStartVsNode: 4,
  namesWarmVsNone: 1.2,
} as const;

function checkBudgets(f: BenchFigures, details: Details): Record<string, Budget> {
  const budget = (rule: string, actual: string | null, ok: boolean | null): Budget => ({ rule, actual, status: ok === null ? 'not measured' : ok ? 'pass' : 'fail' });
  const both = <T>(a: T | null, b: T | null) => a !== null && b !== null;
  const atMost = (name: keyof BenchFigures, limit: number, describe: (value: number) => string): Budget => {
    const value = f[name];
    return budget(`${name} <= ${limit}`, value === null ? null : describe(value), value === null ? null : value <= limit);
  };
  const init = (side: InitComparison | undefined) => (side ? ` (${side.ours.initMs.toFixed(1)} vs ${side.theirs.initMs.toFixed(1)} ms, median of ${side.ratios.length} per-pair ratios)` : '');
  const serveRuns = details.serveRuns;
  const burstLimit = f.awsUsdPerMillionWebhooks === null ? null : COST_BUDGETS.burstVsTrickle * Math.min(f.awsUsdPerMillionWebhooks, COST_BUDGETS.perMillionWebhooks);
  const cost: Record<string, Budget> = {
    awsUsdPerMillionWebhooks: atMost('awsUsdPerMillionWebhooks', COST_BUDGETS.perMillionWebhooks, (v) => `${v} USD per million webhooks, default deploy, trickle`),
    awsUsdPerMillionWebhooksBurst: budget(
      `awsUsdPerMillionWebhooksBurst <= ${COST_BUDGETS.burstVsTrickle} x min(awsUsdPerMillionWebhooks, ${COST_BUDGETS.perMillionWebhooks})`,
      f.awsUsdPerMillionWebhooksBurst === null || burstLimit === null ? null : `${f.awsUsdPerMillionWebhooksBurst} USD per million in a 10,000-webhook burst, limit ${burstLimit.toFixed(2)}`,
      f.awsUsdPerMillionWebhooksBurst === null || burstLimit === null ? null : f.awsUsdPerMillionWebhooksBurst <= burstLimit,
    ),
    awsFixedUsdPerMonth: atMost('awsFixedUsdPerMonth', COST_BUDGETS.fixedPerMonth, (v) => `${v} USD a month standing`),
  };
  if (only === 'cost') return cost;
  return {
    ...cost,
    receiverInitVsNodejsDefault: atMost('receiverInitVsNodejsDefault', RATIO_BUDGETS.initVsNodejsDefault, (v) => `${v} x${init(details.receiverInit)}`),
    transformerInitVsNodejsDefault: atMost('transformerInitVsNodejsDefault', RATIO_BUDGETS.initVsNodejsDefault, (v) => `${v} x${init(details.transformerInit)}`),
    receiverCpuVsMinimal: atMost('receiverCpuVsMinimal', RATIO_BUDGETS.receiverCpuVsMinimal, (v) => `${v} x (${f.receiverUsPerEvent} vs ${f.receiverMinimalUsPerEvent} µs per event, median of ${details.receiverVsMinimal?.length ?? 0} per-round ratios)`),
    transformerCpuVsMinimal: atMost('transformerCpuVsMinimal', RATIO_BUDGETS.transformerCpuVsMinimal, (v) => `${v} x (${f.transformerUsPerEvent} vs ${f.transformerMinimalUsPerEvent} µs per event, median of ${details.transformerVsMinimal?.length ?? 0} per-round ratios)`),
    verifyVsReference: budget(
      `verifyVsReference >= ${RATIO_BUDGETS.verifyVsReference}`,
      f.verifyVsReference === null ? null : `${f.verifyVsReference} x (${f.verifyOpsPerSec} vs ${f.referenceVerifyOpsPerSec} ops/s)`,
      f.verifyVsReference === null ? null : f.verifyVsReference >= RATIO_BUDGETS.verifyVsReference,
    ),
    cliStartVsNode: atMost('cliStartVsNode', RATIO_BUDGETS.cliStartVsNode, (v) => `${v} x (${f.cliStartMs} ms vs ${f.nodeStartMs} ms)`),
    namesWarmVsNone: atMost('namesWarmVsNone', RATIO_BUDGETS.namesWarmVsNone, (v) => `${v} x (${details.names?.withUs.toFixed(1)} vs ${details.names?.withoutUs.toFixed(1)} µs per message, median of ${details.names?.ratios.length ?? 0} per-round ratios)`),
    burst10kTimeToChannelSeconds: atMost('burst10kTimeToChannelSeconds', 120, (v) => `${v} s`),
    burst10kMessages: atMost('burst10kMessages', 120, (v) => String(v)),
    burst10kExactlyOnce: budget(
      `every one of the ${BURST10K_EVENTS} burst10k events covered exactly once (0 lost, 0 covered twice)`,
      details.burst10k ? `${details.burst10k.delivered} covered, ${BURST10K_EVENTS - details.burst10k.delivered} lost, ${details.burst10k.duplicates} covered twice` : null,
      details.burst10k ? details.burst10k.exactlyOnce : null,
    ),
    peakRssMb: atMost('peakRssMb', 150, (v) => `${v} MB`),
    burstDrainSeconds: budget(
      'burstDrainSeconds <= 1.25 x burstIdealSeconds',
      both(f.burstDrainSeconds, f.burstIdealSeconds) ? `${f.burstDrainSeconds} s = ${(f.burstDrainSeconds! / f.burstIdealSeconds!).toFixed(2)} x ideal` : null,
      both(f.burstDrainSeconds, f.burstIdealSeconds) ? f.burstDrainSeconds! <= 1.25 * f.burstIdealSeconds! : null,
    ),
    burst429s: budget('burst429s <= 15 (5 %)', f.burst429s === null ? null : String(f.burst429s), f.burst429s === null ? null : f.burst429s <= 15),
    serveExactlyOnce: budget(
      `every one of the ${SERVE_EVENTS} events of each of the ${SERVE_PAIRS} serve runs delivered exactly once`,
      serveRuns ? serveRuns.map((run) => `${run.delivered} delivered, ${run.duplicates} duplicates`).join('; ') : null,
      serveRuns ? serveRuns.every((run) => run.exactlyOnce) : null,
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
  const ratio = (value: number | null, unit = ' x') => (value === null ? 'not measured' : `${value}${unit}`);
  const perRound = (values: number[] | undefined, digits: number) => (values ? values.map((v) => v.toFixed(digits)).join('/') : '');
  const initNote = (side: InitComparison | undefined) =>
    side ? `${side.ours.initMs.toFixed(1)} ms (import ${side.ours.importMs.toFixed(1)}) vs ${side.theirs.initMs.toFixed(1)} ms with ${NODEJS_FUNCTION_DEFAULTS_NAME}` : '';
  const rows: [string, string, string][] = [
    ['receiver init vs NodejsFunction default', ratio(f.receiverInitVsNodejsDefault), initNote(d.receiverInit)],
    ['transformer init vs NodejsFunction default', ratio(f.transformerInitVsNodejsDefault), initNote(d.transformerInit)],
    [
      'receiver CPU per event vs minimal twin',
      ratio(f.receiverCpuVsMinimal),
      `${show(f.receiverUsPerEvent, ' µs')} vs ${show(f.receiverMinimalUsPerEvent, ' µs')}; ${ratio(f.receiverCpuInSignatureChecks, ' signature checks')}; per round ${perRound(d.receiverVsMinimal, 1)}`,
    ],
    [
      'transformer CPU per event vs minimal twin',
      ratio(f.transformerCpuVsMinimal),
      `${show(f.transformerUsPerEvent, ' µs')} vs ${show(f.transformerMinimalUsPerEvent, ' µs')}; ${ratio(f.transformerCpuInSignatureChecks, ' signature checks')}; per round ${perRound(d.transformerVsMinimal, 1)}`,
    ],
    ['verify vs standardwebhooks', ratio(f.verifyVsReference), `${show(f.verifyOpsPerSec, ' ops/s')} vs ${show(f.referenceVerifyOpsPerSec, ' ops/s')}, 2 KB bodies, per CPU-second; per round ${perRound(d.verifyRatios, 1)}`],
    ['CLI start vs node -e 0', ratio(f.cliStartVsNode), `${show(f.cliStartMs, ' ms')} vs ${show(f.nodeStartMs, ' ms')}, median of per-pair ratios`],
    ['names (warm cache) vs none', ratio(f.namesWarmVsNone), d.names ? `${d.names.withUs.toFixed(1)} vs ${d.names.withoutUs.toFixed(1)} µs CPU per message, median of per-round ratios` : ''],
    [
      'serve vs bare node:http',
      ratio(f.serveVsNodeHttp),
      `${show(f.serveEventsPerSec, ' events/s')} vs ${show(f.bareNodeHttpEventsPerSec, ' events/s')}, ${SERVE_CONCURRENCY} in flight, --rate ${SERVE_MAX_RATE}; per pair ${perRound(d.serveRatios, 3)}${d.serve ? `; webhook answer p99 ${d.serve.answerP99Ms.toFixed(1)} ms (first run)` : ''}`,
    ],
    ['receiver bundle', kb(f.receiverBundleBytes), d.comparison ? `${NODEJS_FUNCTION_DEFAULTS_NAME}: ${kb(d.comparison.receiverBytes)}` : ''],
    ['transformer bundle', kb(f.transformerBundleBytes), d.comparison ? `${NODEJS_FUNCTION_DEFAULTS_NAME}: ${kb(d.comparison.transformerBytes)}` : ''],
    ['serve p99 webhook -> Slack', show(f.serveP99Ms, ' ms'), d.serve ? `median of the ${SERVE_PAIRS} runs; p50 ${d.serve.p50Ms.toFixed(1)} ms (first run)` : ''],
    ['serve peak RSS', show(f.peakRssMb, ' MB'), 'VmHWM of the serve process'],
    ['burst drain', show(f.burstDrainSeconds, ' s'), d.burst ? `ideal ${f.burstIdealSeconds} s; --burst ${d.burst.burstOptionUsed ? 'passed' : 'not available in the CLI (pacing starts at 1)'}` : ''],
    ['burst 429s', show(f.burst429s), ''],
    [
      'burst10k time to channel',
      show(f.burst10kTimeToChannelSeconds, ' s'),
      d.burst10k ? `first POST to the last event covered; webhooks answered p99 ${d.burst10k.answerP99Ms.toFixed(1)} ms; ${d.burst10k.tooManyRequests} 429s` : '',
    ],
    ['burst10k messages', show(f.burst10kMessages), d.burst10k ? `${d.burst10k.rollups} roll-ups, ${d.burst10k.messages - d.burst10k.rollups} single messages; mix: ${LAUNCH_DAY_MIX}` : ''],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  const valueWidth = Math.max(...rows.map((r) => r[1].length));
  const lines = rows.map(([name, value, note]) => `${name.padEnd(width)}  ${value.padStart(valueWidth)}  ${note}`.trimEnd());
  const budgetLines = Object.values(budgets).map((b) => `${b.status === 'pass' ? 'PASS' : b.status === 'fail' ? 'FAIL' : 'N/M '}  ${b.rule}${b.actual ? ` (${b.actual})` : ''}`);
  if (only === 'cost') lines.length = 0;
  return [
    `machine: ${String(machine.cpuModel)}, ${String(machine.cores)} cores, Node ${String(machine.node)}, load ${String(machine.loadAverage1mAtStart)} at start`,
    `bundles: ${DEPLOYED_BUNDLING_NAME} (what lib/dodo-slack-notifier.ts deploys)`,
    'ratios: each measured side by side with its baseline in this run; the absolute figures are this machine\'s',
    '',
    ...lines,
    ...(d.cost ? ['', costTable(d.cost).trimEnd()] : []),
    '',
    'budgets:',
    ...budgetLines,
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
