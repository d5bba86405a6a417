/**
 * `dodo-slack serve`: the whole pipeline on one machine, with the same core as the Lambdas.
 *
 *   HTTP POST /webhooks/dodo ─▶ createWebhookReceiver (same answer table as API Gateway + Lambda)
 *                             ─▶ local queue (receive counts, retry delays, dead-letter sink)
 *                             ─▶ createDeliveryProcessor (transform, dedup, Slack policy)
 *                             ─▶ SLACK_WEBHOOK_URL, or the terminal when there is none
 *
 * Only the adapters differ from AWS: signing keys and the Slack URL come from the environment
 * instead of Secrets Manager, deduplication records live in memory instead of DynamoDB, and dead
 * letters are appended to a JSON-lines file instead of an SQS dead-letter queue.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { MAX_BODY_BYTES, WEBHOOK_PATH } from '../shared/webhook';
import { type CoreLogger, type CoreMetrics } from '../shared/ports';
import { type MetricName } from '../shared/metrics';
import { Defaults } from '../shared/defaults';
import { DEFAULT_ROUTE_ID, type RouteConfig } from '../shared/function-env';
import { type SlackMessage, type Transform, type TransformationSpec } from '../shared/transformation';
import type { DeliveryProcessor, RecordOutcome } from '../transformer/delivery';
import { normaliseHeaders } from '../receiver/headers';
import { createWebhookReceiver, signingKeyParser, type ReceiverOutcome } from '../receiver/webhook-receiver';
import { CachedSecret } from '../shared/secret-cache';
import type { PostToSlack } from '../transformer/slack-client';
import { parseSlackWebhookUrl } from '../transformer/slack-url';
import { renderSlackMessageForTerminal, stripControlCharacters } from './terminal-render';
import { createTransform, createTransformFromSource } from '../transformer/transform';
import { compileTypedModule } from '../sandbox/typed-module';
import { createStoreEngine } from './engine';
import { openStore, type StoredEvent } from './store';
import { storeRunOnce } from './store-run-once';
import { storeThreads } from './store-threads';
import { CHANNEL_ID_SHAPE, parseSlackBotToken } from '../transformer/slack-token';
import { normaliseSlackApiUrl } from '../transformer/slack-web-api';
import { SecretConfigurationError } from '../shared/errors';
import { startSummaryScheduler, type SummaryScheduler } from './summaries';
import type { SummarySchedule } from '../summaries/schedule';
import { localDateTime } from '../summaries/period';
import { createStoreRollups } from './rollup-engine';

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

/**
 * Slow clients are cut off instead of held for Node's defaults: headers within 10 s, the whole
 * request (headers and a body of at most 200 KiB) within 20 s, an idle keep-alive connection
 * closed after 5 s. Dodo itself answers within its 15 s timeout or retries.
 */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 20_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** Stands for "the terminal" where the delivery core wants a Slack URL; never contacted. */
const TERMINAL_PLACEHOLDER_URL = 'http://127.0.0.1/dodo-slack-terminal';

export interface LocalServerOptions {
  /** 0 picks a free port. */
  readonly port: number;
  readonly host: string;
  /** A transformation file (see {@link loadLocalTransform}); undefined = built-in templates. */
  readonly transformFile?: string;
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
  /** Print the core's structured logs too. @default false */
  readonly verbose?: boolean;
  /** Summaries to post on schedule (`--summary`, `--tz`), to the route of the other messages. @default - none */
  readonly summaries?: {
    readonly schedules: readonly SummarySchedule[];
    readonly timeZone: string;
    /** The scheduler's clock (tests move it next to a run time). @default Date.now */
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

/**
 * The transformation for `preview` and `serve`: the built-in templates, or a dashboard-style file
 * (`function handler(webhook) { …; return webhook; }`) run in the same sandbox as on Lambda.
 * Throws UserCodeLoadError (file:line) when the file does not load.
 */
export async function loadLocalTransform(file: string | undefined, logger?: CoreLogger): Promise<Transform> {
  if (file === undefined) return createTransform({ kind: 'builtin', options: {} });
  const options = { timeoutMs: Defaults.userCodeTimeoutMs, ...(logger ? { logger } : {}) };
  if (TYPED_MODULE_EXTENSIONS.has(path.extname(file))) {
    return createTransformFromSource(bundleTypedModule(file), `${path.basename(file)}.js`, options);
  }
  return createTransformFromSource(readTransformFile(file), path.basename(file), options);
}

/**
 * Modules (`export const transform = …`) are bundled the way `Transformation.fromModule` bundles
 * them at synth time; `.js`/`.cjs` files are dashboard-style `function handler(webhook)` code.
 */
const TYPED_MODULE_EXTENSIONS: ReadonlySet<string> = new Set(['.ts', '.mts', '.cts', '.mjs']);

function bundleTypedModule(file: string): string {
  readTransformFile(file); // the same "cannot read" message as for other files
  try {
    return compileTypedModule(path.resolve(file));
  } catch (error) {
    throw new TransformFileError(error instanceof Error ? error.message : String(error));
  }
}

function readTransformFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new TransformFileError(`cannot read transformation ${file}${typeof code === 'string' ? ` (${code})` : ''}`);
  }
}

/** The --transform file cannot be read. */
export class TransformFileError extends Error {
  override name = 'TransformFileError';
}

/** A timestamp for progress lines: local wall-clock time, to the second. */
function clock(): string {
  return new Date().toTimeString().slice(0, 8);
}

/** Log lines the progress lines below already say in a person's words; printed again only with --verbose. */
const REPORTED_AS_PROGRESS = new Set([
  'Webhook answered',
  'Delivery will be retried',
  'Delivery stopped: message goes to the dead-letter queue',
  'Transformation failed',
  'Message delivered to Slack',
  'Message skipped by the transformation',
  'Duplicate suppressed: already handled',
]);

function terminalLogger(options: LocalServerOptions): CoreLogger {
  const write = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, extra?: Record<string, unknown>) => {
    const isConsoleOutput = message === 'transformation console output';
    if (!options.verbose) {
      if (isConsoleOutput) {
        options.print(`${clock()}   transformation says: ${String(extra?.output ?? '')}\n`);
        return;
      }
      if (level === 'debug' || level === 'info' || REPORTED_AS_PROGRESS.has(message)) return;
    }
    const fields = extra && Object.keys(extra).length > 0 ? ` ${JSON.stringify(extra)}` : '';
    options.printError(`${clock()} ${level}: ${message}${fields}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Counts per metric name, for the summary printed at shutdown. */
function counters(): CoreMetrics & { readonly totals: Map<MetricName, number> } {
  const totals = new Map<MetricName, number>();
  return {
    totals,
    count(name, value = 1) {
      totals.set(name, (totals.get(name) ?? 0) + value);
    },
    milliseconds() {},
  };
}

/** Stands in for Slack when no URL is configured: prints the message, answers 200 `ok`. */
function terminalSlack(print: (text: string) => void): PostToSlack {
  return async (_url, message: SlackMessage) => {
    const lines = renderSlackMessageForTerminal(message).trimEnd().split('\n');
    print(`${lines.map((line) => (line === '' ? '' : `    ${line}`)).join('\n')}\n`);
    return { kind: 'response', status: 200, body: 'ok' };
  };
}

/** An id or event type from a request, fit for one progress line: no control characters, bounded length. */
function printable(value: string): string {
  const clean = stripControlCharacters(value).replace(/\s+/g, ' ');
  return clean.length > 100 ? `${clean.slice(0, 99)}…` : clean;
}

/** A progress line's outcome text; undefined when the queue will dead-letter the record (that line comes from onDeadLetter). */
function describeOutcome(outcome: RecordOutcome | undefined, isLastAttempt: boolean): string | undefined {
  if (outcome === undefined) return 'no outcome';
  switch (outcome.kind) {
    case 'done': {
      const results = outcome.routes.map((route) => route.result);
      if (results.length === 0) return 'no route takes this event type';
      return results.includes('duplicate') ? 'duplicate, already delivered (not posted again)' : results.join(', ');
    }
    case 'retry':
      // On the last attempt the local queue moves a record that asks for a retry to the dead letters.
      return isLastAttempt ? undefined : `will retry: ${outcome.reason}`;
    case 'requeue':
      return `requeued: ${outcome.reason}`;
    case 'dead-letter':
      return undefined;
  }
}

/** Milliseconds of each message's latest delivery attempt, for the dead-letter progress line. */
type AttemptTimes = Map<string, number>;

/**
 * Prints one line per delivery attempt. The local queue hands over one record per batch, so the
 * time measured here is that event's. Dead letters are announced by the dead-letter sink instead,
 * once the line is in the file (the queue applies outcomes after processBatch returns).
 */
function withProgressLines(processor: DeliveryProcessor, maxAttempts: number, attemptTimes: AttemptTimes, print: (text: string) => void): DeliveryProcessor {
  return {
    async processBatch(records, options) {
      const started = Date.now();
      const outcomes = await processor.processBatch(records, options);
      const ms = Date.now() - started;
      for (const record of records) {
        const outcome = outcomes.get(record.id);
        const described = describeOutcome(outcome, record.receiveCount >= maxAttempts);
        if (described === undefined) {
          attemptTimes.set(record.id, ms);
          continue;
        }
        attemptTimes.delete(record.id);
        const webhookId = printable(record.webhook.webhookId);
        const eventType = printable(record.webhook.eventType);
        print(`${clock()} ${webhookId} ${eventType} → ${stripControlCharacters(described)} (attempt ${record.receiveCount}, ${ms} ms)\n`);
      }
      return outcomes;
    },
  };
}

const RECEIVER_OUTCOME_TEXT: Readonly<Record<ReceiverOutcome, string>> = {
  queued: 'accepted',
  ignored: 'ignored (event type not in --events)',
  unauthorized: 'refused',
  'invalid-payload': 'refused',
  'payload-too-large': 'refused',
  'signing-key-not-configured': 'unavailable',
  'signing-key-unavailable': 'unavailable',
  'queue-unavailable': 'unavailable',
};

/** Reads the body, keeping at most MAX_BODY_BYTES + 1 bytes: enough for the receiver to answer 413. */
function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    request.on('data', (chunk: Buffer) => {
      if (kept > MAX_BODY_BYTES) return;
      const room = MAX_BODY_BYTES + 1 - kept;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      chunks.push(piece);
      kept += piece.length;
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, statusCode: number, body: string, extraHeaders: Record<string, string> = {}): void {
  response.writeHead(statusCode, { 'content-type': 'application/json', ...extraHeaders });
  response.end(body);
}

/**
 * App mode's settings, checked at start-up (the messages never quote the token): a bot token and a
 * channel together, and not with an incoming-webhook URL.
 */
function slackAppOf(options: LocalServerOptions): { readonly token: string; readonly channel: string; readonly apiUrl: string } | undefined {
  const { slackBotToken, slackChannel } = options;
  if (slackBotToken === undefined && slackChannel === undefined) {
    if (options.replyBroadcast !== undefined) throw new SecretConfigurationError('--reply-broadcast applies only in app mode (SLACK_BOT_TOKEN and SLACK_CHANNEL): incoming webhooks have no threads');
    return undefined;
  }
  if (options.slackWebhookUrl !== undefined) {
    throw new SecretConfigurationError('set either SLACK_WEBHOOK_URL (incoming webhook) or SLACK_BOT_TOKEN with SLACK_CHANNEL (app mode: threads and cards), not both');
  }
  if (slackBotToken === undefined) throw new SecretConfigurationError('SLACK_CHANNEL is set but SLACK_BOT_TOKEN is not; app mode needs both (or neither)');
  if (slackChannel === undefined) throw new SecretConfigurationError('SLACK_BOT_TOKEN is set but SLACK_CHANNEL is not; set it to the channel ID (C…, in the channel details)');
  if (!CHANNEL_ID_SHAPE.test(slackChannel)) {
    throw new SecretConfigurationError(`SLACK_CHANNEL must be a channel ID such as C0123456789 (channel details → bottom), not a name; got "${printable(slackChannel)}"`);
  }
  let apiUrl: string;
  try {
    apiUrl = normaliseSlackApiUrl(options.slackApiUrl ?? 'https://slack.com/api/');
  } catch (error) {
    throw new SecretConfigurationError(`--slack-api-url: ${(error as Error).message}`);
  }
  return { token: parseSlackBotToken(slackBotToken), channel: slackChannel, apiUrl };
}

/** Starts the local pipeline; resolves once the HTTP server listens. */
export async function startLocalServer(options: LocalServerOptions): Promise<LocalServer> {
  const settings: LocalPipelineSettings = {
    timestampToleranceSeconds: Defaults.timestampToleranceSeconds,
    deduplicationWindowSeconds: Defaults.deduplicationWindowSeconds,
    slackTimeoutMs: Defaults.slackTimeoutMs,
    ratePerSecond: options.ratePerSecond,
    burst: options.burst,
    rollupAfterSeconds: options.rollupAfterSeconds ?? Defaults.rollupAfterSeconds,
  };
  const logger = terminalLogger(options);
  const metrics = counters();

  // Fail at start-up, not on the first event, when the Slack URL is unusable (the message never quotes it).
  const slackTarget = options.slackWebhookUrl === undefined ? undefined : parseSlackWebhookUrl(options.slackWebhookUrl, { allowInsecureLocalhost: true });
  const app = slackAppOf(options);
  const spec: TransformationSpec = { kind: 'builtin', options: {} };
  const transform = await loadLocalTransform(options.transformFile, logger);

  const signingSecret = options.signingSecret;
  const signingKeys = new CachedSecret<Buffer[]>({
    load: async () => signingSecret,
    parse: signingKeyParser(logger),
    ttlMs: Number.MAX_SAFE_INTEGER,
    // Reading an in-memory value costs nothing, so no rate limit on refreshes.
    minRefreshIntervalMs: 0,
  });
  // Surface unusable keys at start-up (the parser logs each problem without the key).
  await signingKeys.get();

  const store = openStore(options.dataDir, { owner: true });
  // No delivery runs before this process starts one: an in-progress record is one a crash cut short.
  store.dedupClearInProgress();
  const resumed = store.count('pending');
  options.print(`store: ${store.file} (${resumed === 0 ? 'nothing pending' : `resuming ${resumed} pending event(s)`})\n`);

  const route: RouteConfig = app
    ? { id: DEFAULT_ROUTE_ID, events: options.eventGlobs, slackSecretId: 'SLACK_BOT_TOKEN', slackChannelId: app.channel, replyBroadcast: options.replyBroadcast ?? [...Defaults.replyBroadcast], transformation: spec }
    : { id: DEFAULT_ROUTE_ID, events: options.eventGlobs, slackSecretId: 'SLACK_WEBHOOK_URL', transformation: spec };

  // Loaded here, not at the top: Powertools idempotency costs ~50 ms of start-up that preview and send do not need.
  // (require, not import(): a dynamic import() left untranspiled would need file extensions.)
  const { createLocalDelivery } = require('./delivery') as typeof import('./delivery');
  const { processor, rollups } = createLocalDelivery({
    routes: [
      {
        config: route,
        transform,
        // Without SLACK_WEBHOOK_URL the terminal stand-in below answers instead; this loopback URL is never contacted.
        loadSlackUrl: () => slackTarget ?? TERMINAL_PLACEHOLDER_URL,
        ...(app ? { loadSlackBotToken: () => app.token } : {}),
      },
    ],
    maxAttempts: options.maxAttempts,
    ...(slackTarget === undefined && !app ? { postToSlack: terminalSlack(options.print) } : {}),
    ...(app ? { slackApp: { threads: storeThreads(store, { ttlSeconds: Defaults.threadTtlSeconds }), apiUrl: app.apiUrl } } : {}),
    slackTimeoutMs: settings.slackTimeoutMs,
    ratePerSecond: settings.ratePerSecond,
    // --retry-delay-ms is the first backoff step, doubled per attempt as on AWS; a 429's Retry-After stays as Slack said.
    baseBackoffSeconds: options.retryDelayMs / 1000,
    burst: settings.burst,
    deduplicationWindowSeconds: settings.deduplicationWindowSeconds,
    runOnce: storeRunOnce({ store, deduplicationWindowSeconds: settings.deduplicationWindowSeconds, inProgressTimeoutMs: settings.slackTimeoutMs * 3 + 1000 }),
    // SLACK_WEBHOOK_URL is read once at start: a re-read after 403/404/410 can only confirm there is no new URL.
    slackUrlMinRefreshIntervalMs: 0,
    logger,
    metrics,
    rollup: { rollupAfterSeconds: settings.rollupAfterSeconds, ...(options.neverFold ? { neverFold: options.neverFold } : {}) },
  });

  let deadLettered = 0;
  const attemptTimes: AttemptTimes = new Map();
  const onDeadLetter = (event: StoredEvent): void => {
    deadLettered += 1;
    const id = String(event.id);
    const ms = attemptTimes.get(id);
    attemptTimes.delete(id);
    options.print(
      `${clock()} ${printable(event.webhookId)} ${printable(event.eventType)} → ` +
        `${stripControlCharacters(`dead-lettered after ${event.attempts} attempt(s): ${event.reason ?? ''}`)}` +
        ` (attempt ${event.attempts}${ms === undefined ? '' : `, ${ms} ms`}; dead-letters show ${event.id})\n`,
    );
  };

  let rolledUp = 0;
  let rollupMessages = 0;
  const engine = createStoreEngine({
    store,
    processor: withProgressLines(processor, options.maxAttempts, attemptTimes, options.print),
    maxAttempts: options.maxAttempts,
    onDeadLetter,
    rollups: createStoreRollups({
      store,
      processor: rollups,
      ratePerSecond: settings.ratePerSecond,
      maxAttempts: options.maxAttempts,
      retryDelayMs: options.retryDelayMs,
      onOutcome: (rollup, attempt, outcome, events, ms, next) => {
        let text: string;
        if (outcome.kind === 'posted') {
          rolledUp += outcome.covered.length;
          rollupMessages += 1;
          text = `posted: ${outcome.covered.length} events in one message`;
          if (outcome.duplicates.length > 0) text += `, ${outcome.duplicates.length} already delivered`;
          if (outcome.elsewhere.length > 0) text += `, ${outcome.elsewhere.length} left for later`;
        } else if (outcome.released.length === 0 && outcome.elsewhere.length === 0) {
          text = `nothing to post: ${outcome.duplicates.length} already delivered`;
        } else {
          text = `${next === 'retry' ? 'will retry as a whole' : 'its events go out one by one'}: ${outcome.reason}`;
        }
        options.print(`${clock()} roll-up #${rollup.id} (${events} pending events) → ${stripControlCharacters(text)} (attempt ${attempt}, ${ms} ms)\n`);
      },
    }),
  });

  let scheduler: SummaryScheduler | undefined;
  if (options.summaries && options.summaries.schedules.length > 0) {
    const { timeZone } = options.summaries;
    scheduler = startSummaryScheduler({
      store,
      schedules: options.summaries.schedules,
      timeZone,
      routeId: DEFAULT_ROUTE_ID,
      ...(options.summaries.clock ? { now: options.summaries.clock } : {}),
      onQueued: (schedule, firstDay) => {
        options.print(`${clock()} ${schedule.kind === 'day' ? 'daily' : 'weekly'} summary of ${firstDay} (${timeZone}) queued\n`);
        engine.wake();
      },
      onError: (schedule, error) => {
        options.printError(`${clock()} error: the ${schedule.kind === 'day' ? 'daily' : 'weekly'} summary could not be composed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    });
    for (const run of scheduler.nextRuns()) options.print(`summary ${run.schedule}: next at ${localDateTime(run.at, timeZone)} ${timeZone}\n`);
  }

  const receive = createWebhookReceiver({
    signingKeys,
    enqueue: async (webhook) => {
      // Committed before the receiver answers 200; a failure to write is a 503, and Dodo retries.
      store.accept(DEFAULT_ROUTE_ID, webhook);
      engine.wake();
    },
    eventGlobs: options.eventGlobs,
    toleranceSeconds: settings.timestampToleranceSeconds,
    logger,
    metrics,
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const started = Date.now();
    const pathname = (request.url ?? '/').split('?')[0];
    if (pathname !== WEBHOOK_PATH) {
      sendJson(response, 404, JSON.stringify({ error: `not found; Dodo posts to ${WEBHOOK_PATH}` }));
      return;
    }
    if (request.method !== 'POST') {
      sendJson(response, 405, JSON.stringify({ error: 'method not allowed; use POST' }), { allow: 'POST' });
      return;
    }
    const body = await readBody(request);
    // The same normalisation as the Lambda adapter: a header sent twice reads as one space-separated list.
    const headers = normaliseHeaders(request.headersDistinct);
    const answer = await receive({ headers, body });
    sendJson(response, answer.statusCode, answer.body);

    const webhookId = printable(headers['webhook-id'] || '-');
    let eventType = '-';
    try {
      const parsed = JSON.parse(body.toString('utf8')) as { type?: unknown };
      if (typeof parsed.type === 'string') eventType = printable(parsed.type);
    } catch {
      // Not JSON: the receiver has said so in its answer.
    }
    const detail = answer.statusCode >= 400 ? `: ${(JSON.parse(answer.body) as { error?: string }).error ?? ''}` : '';
    options.print(
      `${clock()} ${webhookId} ${eventType} ← ${answer.statusCode} ${RECEIVER_OUTCOME_TEXT[answer.outcome]}${detail} (${Date.now() - started} ms)\n`,
    );
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      options.printError(`${clock()} error: ${error instanceof Error ? error.message : String(error)}\n`);
      if (!response.headersSent) sendJson(response, 500, JSON.stringify({ error: 'internal error' }));
      else response.end();
    });
  });
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    scheduler?.stop();
    await engine.stop(0);
    store.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  const shutdownTimeoutMs = options.shutdownTimeoutMs ?? ServeDefaults.shutdownTimeoutMs;

  let closing: Promise<number> | undefined;
  return {
    url: `http://${host}:${port}${WEBHOOK_PATH}`,
    port,
    settings,
    idle: () => engine.idle(),
    close() {
      closing ??= (async () => {
        const deadline = Date.now() + shutdownTimeoutMs;
        // Stop accepting; requests already being read may finish until the deadline, then every connection is cut.
        const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        scheduler?.stop();
        const finished = await engine.stop(shutdownTimeoutMs);
        let cutTimer: NodeJS.Timeout | undefined;
        await Promise.race([httpClosed, new Promise<void>((resolve) => (cutTimer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))]);
        clearTimeout(cutTimer);
        server.closeAllConnections();
        const pending = store.count('pending');
        store.close();
        const total = (name: MetricName) => metrics.totals.get(name) ?? 0;
        options.print(
          `summary: ${total('WebhookReceived')} received, ${total('MessageDelivered')} delivered, ${total('MessageSkipped')} skipped, ` +
            `${total('DuplicateSuppressed')} duplicates suppressed, ${deadLettered} dead-lettered` +
            (rollupMessages > 0 ? `; ${rolledUp} rolled up into ${rollupMessages} message(s)` : '') +
            '\n',
        );
        if (!finished) options.print('the delivery in flight did not finish within the shutdown timeout; it stays pending\n');
        options.print(
          pending === 0 ? 'nothing pending\n' : `${pending} event(s) pending in ${options.dataDir}: delivered when serve starts again on it\n`,
        );
        return pending;
      })();
      return closing;
    },
  };
}
