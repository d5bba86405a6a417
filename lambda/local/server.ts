/**
 * `dodo-slack serve`: the pipeline on one machine, the engine beside the transformer Lambda.
 *
 *   HTTP POST /webhooks/dodo ─▶ the receiver (http.ts; the same answer table as API Gateway + Lambda)
 *                             ─▶ the store: accepted events, committed before the 200 (store/)
 *                             ─▶ the delivery loop (delivery-loop.ts, rollup-loop.ts)
 *                             ─▶ the pipeline (lambda/transformer/pipeline.ts): the same routes,
 *                                transformation, deduplication, pacing, roll-ups and counting
 *                             ─▶ SLACK_WEBHOOK_URL, SLACK_BOT_TOKEN + SLACK_CHANNEL, or the terminal
 *
 * Only the ports differ from AWS: signing keys and Slack credentials come from the environment
 * instead of Secrets Manager; the queue, its dead letters, the deduplication records, the summary
 * counters, the threads and the roll-ups live in the SQLite store instead of SQS and DynamoDB.
 * This file starts and stops the parts in order; each part is in its own module.
 */
import { Defaults } from '../shared/defaults';
import { CachedSecret } from '../shared/secret-cache';
import { promiseOf } from '../shared/promise';
import { createWebhookReceiver, signingKeyParser } from '../receiver/webhook-receiver';
import type { SigningKey } from '../receiver/signature';
import type { SummarySchedule } from '../summaries/schedule';
import { localDateTime } from '../summaries/period';
import { openStore } from './store';
import { startDeliveryLoop } from './delivery-loop';
import { createStoreRollups } from './rollup-loop';
import { startWebhookHttpServer, type WebhookHttpServer } from './http';
import { clock, counters, deliveryProgress, terminalLogger } from './progress';
import { configRoutes, serveRoutes } from './serve-routes';
import type { NotifierConfig } from '../shared/config-file';
import { ANY_ROUTE } from './store';
import { loadTransformationFile } from './transformation-file';
import { startSummaryScheduler, type SummaryScheduler } from './summaries';
import { localNameLookup } from './names';
import type { Pipeline } from '../transformer/pipeline';
import type { AlertSettings } from '../alerts/rules';
import { startAlertMonitor, type AlertMonitor } from './alerts';

/**
 * Defaults of `dodo-slack serve` itself. The pipeline's own defaults (tolerance, deduplication
 * window, Slack timeout, pace) are the construct's, from lambda/shared/defaults.ts.
 */
export const ServeDefaults = {
  port: 3000,
  host: '127.0.0.1',
  /**
   * Fewer than the queue's maxReceiveCount on AWS on purpose: with retries after 1 s, 2 s, 4 s a
   * workbench gives its verdict in seconds, where ten receives with AWS's backoff take hours.
   */
  maxAttempts: 3,
  /** First retry delay (AWS: 30 s), doubled per attempt. */
  retryDelayMs: 1000,
  /** Where the store lives (relative to the working directory). */
  dataDir: '.dodo-slack',
  /** How long SIGTERM/SIGINT wait for the delivery in flight and for connected clients before exiting. */
  shutdownTimeoutMs: 10_000,
} as const;

export interface LocalServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly host: string;
  /** A transformation file (see lambda/local/transformation-file.ts); undefined = built-in templates. */
  readonly transformFile?: string;
  /**
   * Routes from a configuration file (`--config`), instead of the one route of `eventGlobs`,
   * `transformFile` and the Slack settings; each reads its credential from `environment`.
   */
  readonly config?: NotifierConfig;
  /** Where a configuration's routes read their credentials (process.env). @default {} */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  readonly eventGlobs: readonly string[];
  /** Delivery attempts before a failing message is dead-lettered (the queue's maxReceiveCount). */
  readonly maxAttempts: number;
  /** Wait before the first retry of a failed delivery; doubled for each further attempt. */
  readonly retryDelayMs: number;
  /** Messages per second posted to Slack. */
  readonly ratePerSecond: number;
  /** Messages that may be posted at once before `ratePerSecond` applies (token bucket size). */
  readonly burst: number;
  /** Folder of the durable store (created 0700); accepted events, their states and dead letters live there. */
  readonly dataDir: string;
  /** How long a stop waits for the delivery in flight and for connected clients. @default ServeDefaults.shutdownTimeoutMs */
  readonly shutdownTimeoutMs?: number;
  /** One or more `whsec_…` keys, whitespace-separated. Never printed. */
  readonly signingSecret: string;
  /** Slack incoming-webhook URL (http://127.0.0.1 and localhost allowed); undefined = print messages. Never printed. */
  readonly slackWebhookUrl?: string;
  /** Roll up a route's backlog when it would wait longer than this (s); 0 = off. @default Defaults.rollupAfterSeconds */
  readonly rollupAfterSeconds?: number;
  /** Event-type globs never rolled up, besides disputes and payout failures. @default none */
  readonly neverFold?: readonly string[];
  /**
   * Slack app mode: a bot token (`xoxb-…`) and a channel ID instead of `slackWebhookUrl`: one thread
   * per payment, subscription or payout, with a live card. Never printed.
   */
  readonly slackBotToken?: string;
  readonly slackChannel?: string;
  /** Slack Web API base URL (a stand-in on 127.0.0.1 in tests). @default https://slack.com/api/ */
  readonly slackApiUrl?: string;
  /** App mode: event-type globs whose replies are also broadcast to the channel. @default Defaults.replyBroadcast */
  readonly replyBroadcast?: readonly string[];
  /**
   * Dodo API key (`DODO_API_KEY`): messages, roll-ups and summaries show product names, and an
   * abandoned checkout its payment, looked up through Dodo's SDK and kept in the store. Never printed.
   * @default - messages show IDs
   */
  readonly dodoApiKey?: string;
  /** Dodo API base URL for both modes (a stand-in, a proxy). @default Dodo's live or test host, by the webhook's mode */
  readonly dodoApiUrl?: string;
  /** Print the core's structured logs too. @default false */
  readonly verbose?: boolean;
  /** Summaries to post on schedule (`--summary`, `--tz`), to the route of the other messages. @default - none */
  readonly summaries?: {
    readonly schedules: readonly SummarySchedule[];
    readonly timeZone: string;
    /** The scheduler's clock (tests move it next to a run time). @default Date.now */
    readonly clock?: () => number;
  };
  /** Alert rules to evaluate (`--alerts`, `--silence-after`), posted to the first route. @default - none */
  readonly alerts?: {
    readonly settings: AlertSettings;
    /** How often the rules run. @default AlertServeDefaults.intervalMs */
    readonly intervalMs?: number;
    readonly clock?: () => number;
  };
  /** Where progress lines and terminal-rendered messages go (stdout). */
  readonly print: (text: string) => void;
  /** Where problems go (stderr). */
  readonly printError: (text: string) => void;
}

/** The pipeline settings a running server uses (what the construct sets through the functions' environment on AWS). */
export interface LocalPipelineSettings {
  readonly timestampToleranceSeconds: number;
  readonly deduplicationWindowSeconds: number;
  readonly slackTimeoutMs: number;
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly rollupAfterSeconds: number;
}

export interface LocalServer {
  /** `http://HOST:PORT/webhooks/dodo`, with the real port when 0 was asked for. */
  readonly url: string;
  readonly port: number;
  readonly settings: LocalPipelineSettings;
  /**
   * Stops accepting requests, lets the delivery in flight finish (within the shutdown timeout),
   * leaves the rest pending on disk and prints how many. Resolves with that number.
   */
  close(): Promise<number>;
  /** Resolves when nothing is pending (for tests and the benchmark). */
  idle(): Promise<void>;
}

/** Starts the local pipeline; resolves once the HTTP server listens. */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const logger = terminalLogger(options);
  const metrics = counters();
  // A configuration file's routes, or the one route of the flags and SLACK_* variables.
  const fromConfig = options.config === undefined ? undefined : configRoutes(options.config, options.environment ?? {}, options);
  const transformation = fromConfig === undefined ? loadTransformationFile(options.transformFile) : undefined;
  const destination = fromConfig ?? serveRoutes({ ...options, transformation: transformation!.spec });
  const userCode = fromConfig?.userCode ?? transformation!.userCode;
  // The receiver answers 200 and drops event types no route takes, as the construct's receiver does.
  const eventGlobs = fromConfig === undefined ? options.eventGlobs : [...new Set(destination.routes.flatMap((route) => route.events))];

  const signingSecret = options.signingSecret;
  const signingKeys = new CachedSecret<SigningKey[]>({
    load: () => Promise.resolve(signingSecret),
    parse: signingKeyParser(logger),
    ttlMs: Number.MAX_SAFE_INTEGER,
    // Reading an in-memory value costs nothing, so no rate limit on refreshes.
    minRefreshIntervalMs: 0,
  });
  // Surface unusable keys at start-up (the parser logs each problem without the key).
  await signingKeys.get();

  // Loaded here, not at the top: Powertools' and the pipeline's modules cost start-up time that preview and send do not need.
  // (require, not import(): a dynamic import() left untranspiled would need file extensions.)
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose: the pipeline costs start-up time that preview and send do not need
  const { createPipeline, longestDeliveryMs } = require('../transformer/pipeline') as typeof import('../transformer/pipeline');

  const store = openStore(options.dataDir, { owner: true });
  const settings: LocalPipelineSettings = {
    timestampToleranceSeconds: Defaults.timestampToleranceSeconds,
    deduplicationWindowSeconds: Defaults.deduplicationWindowSeconds,
    slackTimeoutMs: Defaults.slackTimeoutMs,
    ratePerSecond: options.ratePerSecond,
    burst: options.burst,
    rollupAfterSeconds: options.rollupAfterSeconds ?? Defaults.rollupAfterSeconds,
  };
  const dedup = store.runOnce({
    deduplicationWindowSeconds: settings.deduplicationWindowSeconds,
    // Nothing else delivers from this data dir: a claim older than the longest delivery was abandoned.
    inProgressTimeoutMs: longestDeliveryMs(destination.routes, settings.slackTimeoutMs),
  });
  const names =
    options.dodoApiKey === undefined
      ? undefined
      : localNameLookup({ apiKey: options.dodoApiKey, ...(options.dodoApiUrl === undefined ? {} : { apiUrl: options.dodoApiUrl }), stored: (maxEntries) => store.names(maxEntries), logger, metrics });
  let pipeline: Pipeline;
  try {
    pipeline = createPipeline(
      destination.routes,
      {
        runOnce: dedup.runOnce,
        secrets: destination.secrets,
        threads: store.threads({ ttlSeconds: Defaults.threadTtlSeconds }),
        countForSummaries: (webhook) => store.summaries.count(webhook),
        countGivenUp: (webhook) => store.summaries.giveUp(webhook),
        userCode,
        ...(destination.postToSlack ? { postToSlack: destination.postToSlack } : {}),
        ...(names === undefined ? {} : { names }),
        logger,
        metrics,
      },
      {
        maxReceiveCount: options.maxAttempts,
        slackTimeoutMs: settings.slackTimeoutMs,
        deliveryRatePerSecond: settings.ratePerSecond,
        deliveryBurst: settings.burst,
        rollupAfterSeconds: settings.rollupAfterSeconds,
        ...(options.neverFold ? { rollupNeverFold: options.neverFold } : {}),
        ...(destination.slackApiUrl === undefined ? {} : { slackApiUrl: destination.slackApiUrl }),
        allowInsecureLocalhostSlack: true,
        // --retry-delay-ms is the first backoff step, doubled per attempt as on AWS; a 429's Retry-After stays as Slack said.
        baseBackoffSeconds: options.retryDelayMs / 1000,
        // Said at start, with the file and line, instead of on every event.
        userCodeLoadFailure: 'throw',
      },
    );
  } catch (error) {
    store.close();
    throw error;
  }
  // No delivery runs before this process starts one: an in-progress record is one a crash cut short.
  dedup.clearInProgress();
  const resumed = store.events.count('pending');
  options.print(`store: ${store.file} (${resumed === 0 ? 'nothing pending' : `resuming ${resumed} pending event(s)`})\n`);

  const progress = deliveryProgress(options.print, options.maxAttempts);
  const loop = startDeliveryLoop({
    events: store.events,
    processor: progress.withLines(pipeline.processor),
    maxAttempts: options.maxAttempts,
    routeIds: new Set(destination.routes.map((route) => route.id)),
    onDeadLetter: (event) => progress.deadLettered(event),
    rollups: createStoreRollups({
      rollups: store.rollups,
      processor: pipeline.rollups,
      ratePerSecond: settings.ratePerSecond,
      maxAttempts: options.maxAttempts,
      retryDelayMs: options.retryDelayMs,
      onOutcome: (...attempt) => progress.rollup(...attempt),
    }),
  });

  let scheduler: SummaryScheduler | undefined;
  if (options.summaries && options.summaries.schedules.length > 0) {
    const { timeZone } = options.summaries;
    scheduler = startSummaryScheduler({
      store: store.summaries,
      schedules: options.summaries.schedules,
      timeZone,
      // Summaries go to the first route (the only one without --config).
      routeId: destination.routes[0].id,
      ...(options.summaries.clock ? { now: options.summaries.clock } : {}),
      ...(names === undefined ? {} : { names }),
      onQueued: (schedule, firstDay) => {
        options.print(`${clock()} ${schedule.kind === 'day' ? 'daily' : 'weekly'} summary of ${firstDay} (${timeZone}) queued\n`);
        loop.wake();
      },
      onError: (schedule, error) => {
        options.printError(`${clock()} error: the ${schedule.kind === 'day' ? 'daily' : 'weekly'} summary could not be composed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    });
    for (const run of scheduler.nextRuns()) options.print(`summary ${run.schedule}: next at ${localDateTime(run.at, timeZone)} ${timeZone}\n`);
  }

  let alerts: AlertMonitor | undefined;
  if (options.alerts) {
    alerts = startAlertMonitor({
      settings: options.alerts.settings,
      store: store.alerts,
      source: store.alertSource,
      events: store.events,
      // Alerts go to the first route, as summaries do (the only one without --config).
      routeId: destination.routes[0].id,
      ...(options.alerts.intervalMs === undefined ? {} : { intervalMs: options.alerts.intervalMs }),
      ...(options.alerts.clock ? { now: options.alerts.clock } : {}),
      onRun: (result) => {
        for (const rule of result.opened) options.print(`${clock()} alert opened: ${rule}\n`);
        for (const rule of result.resolved) options.print(`${clock()} alert resolved: ${rule}\n`);
        loop.wake();
      },
      onError: (error) => options.printError(`${clock()} error: the alert rules could not be evaluated: ${error instanceof Error ? error.message : String(error)}\n`),
    });
  }

  const receive = createWebhookReceiver({
    signingKeys,
    enqueue: (webhook) =>
      promiseOf(() => {
        // One row per route that takes the event, so each route is paced, rolled up, retried and
        // dead-lettered on its own; an event no route takes is kept once, counted for the summaries, then skipped.
        // Committed before the receiver answers 200; a failure to write rejects (a 503), and Dodo retries.
        const routeIds = pipeline.routesTaking(webhook).map((route) => route.id);
        store.events.acceptForRoutes(routeIds.length > 0 ? routeIds : [ANY_ROUTE], webhook);
        loop.wake();
        alerts?.poke();
      }),
    eventGlobs,
    toleranceSeconds: settings.timestampToleranceSeconds,
    logger,
    metrics,
  });

  let http: WebhookHttpServer;
  try {
    http = await startWebhookHttpServer({ port: options.port, host: options.host, receive, print: options.print, printError: options.printError });
  } catch (error) {
    scheduler?.stop();
    await alerts?.stop();
    await loop.stop(0);
    store.close();
    throw error;
  }
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? ServeDefaults.shutdownTimeoutMs;

  let closing: Promise<number> | undefined;
  return {
    url: http.url,
    port: http.port,
    settings,
    idle: () => loop.idle(),
    close() {
      closing ??= (async () => {
        const deadline = Date.now() + shutdownTimeoutMs;
        // Stop accepting; requests already being read may finish until the deadline, then every connection is cut.
        const httpClosed = http.close(deadline);
        scheduler?.stop();
        await alerts?.stop();
        const finished = await loop.stop(shutdownTimeoutMs);
        await httpClosed;
        const pending = store.events.count('pending');
        store.close();
        options.print(progress.summary(metrics.totals));
        if (!finished) options.print('the delivery in flight did not finish within the shutdown timeout; it stays pending\n');
        options.print(pending === 0 ? 'nothing pending\n' : `${pending} event(s) pending in ${options.dataDir}: delivered when serve starts again on it\n`);
        return pending;
      })();
      return closing;
    },
  };
}
