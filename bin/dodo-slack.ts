/**
 * `dodo-slack`: the local workbench. The same core as the Lambdas (signature, receiver, transform,
 * delivery), with local adapters instead of API Gateway, SQS, DynamoDB and Secrets Manager.
 *
 *   dodo-slack preview <payload.json | event-type> [--transform <file>] [--format json|text] [--mode live|test] [--dodo-api-url <url>]
 *   dodo-slack send <payload.json | event-type> --url <endpoint> [--secret <whsec_…>] [--webhook-id <id>]
 *   dodo-slack serve [--port 3000] [--host 127.0.0.1] [--transform <file>] [--events <globs>] [--summary daily@09:00 --tz Area/City] …
 *   dodo-slack routes <payload.json | event-type> --config <file> [--mode live|test]
 *   dodo-slack summary --data-dir <dir> --period day|week --date YYYY-MM-DD [--tz Area/City] [--format json|text]
 *
 * This file only parses arguments and prints; the server wiring lives in lambda/local/server.ts.
 * Exit codes: 0 done, 1 the command ran and failed, 2 usage error.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { WEBHOOK_PATH, type DodoWebhookEnvelope, type QueuedWebhook } from '../lambda/shared/webhook';
import { type TransformInput } from '../lambda/shared/transformation';
import { InvalidPayloadError, SecretConfigurationError, TransformationError } from '../lambda/shared/errors';
import { canonicalEventType, globProblems, unknownGlobWarnings } from '../lambda/shared/event-glob';
import { parseSigningKeys, signWebhook } from '../lambda/receiver/signature';
import { renderSlackMessageForTerminal } from '../lambda/local/terminal-render';
import { UserCodeLoadError } from '../lambda/sandbox/harness';
import { Defaults } from '../lambda/shared/defaults';
import { Limits, withinLimit } from '../lambda/shared/limits';
import { exportDeadLetters, listDeadLetters, redriveDeadLetters, showDeadLetter } from '../lambda/local/dead-letters';
import { ServeDefaults, startLocalServer, type LocalServerOptions } from '../lambda/local/server';
import { loadTransformationFile, TransformFileError } from '../lambda/local/transformation-file';
import { createTransform } from '../lambda/transformer/transform';
import { noMetrics, type CoreLogger, type NameLookup } from '../lambda/shared/ports';
import { namesWanted } from '../lambda/shared/names';
import { localNameLookup } from '../lambda/local/names';
import { openStore, STORE_FILE, StoreError } from '../lambda/local/store';
import { summaryOnDemand } from '../lambda/local/summaries';
import { serveAlertOptions } from '../lambda/local/alerts';
import { DEFAULT_ROUTE_ID } from '../lambda/shared/function-env';
import { checkTimeZone, formatCalendarDate, lastCompletedPeriod, parseCalendarDate, PeriodError } from '../lambda/summaries/period';
import { parseSummarySchedule, ScheduleError, type SummarySchedule } from '../lambda/summaries/schedule';
import { parseRollupAfter } from '../lambda/transformer/rollup';
import { DEFAULT_SLACK_API_URL } from '../lambda/transformer/slack-web-api';
import { slackAppManifest } from '../lambda/local/slack-manifest';
import { ConfigFileError, readNotifierConfig, type NotifierConfig } from '../lambda/shared/config-file';
import { compileRouteSelection } from '../lambda/shared/route-rules';
import { markTestMode } from '../lambda/messages/test-mode';

const USAGE = `Usage: dodo-slack <command> [options]

Commands:
  preview <payload.json | event-type>   Render one event as the Slack message it would become
      --transform <file>      .js: dashboard-style \`function handler(webhook)\`; .ts/.mjs: a module exporting
                              \`transform(event)\` (bundled with esbuild); default: the built-in templates
      --format json|text      json (default): the exact body posted to Slack; text: a terminal rendering
      --mode live|test        test: as a test-mode event's message, marked TEST (default live)
      --dodo-api-url <url>    with DODO_API_KEY: product names (and an abandoned checkout's payment) from this
                              Dodo API (default Dodo's host of --mode), as serve shows them

  send <payload.json | event-type>      Sign a payload like Dodo does and POST it
      --url <endpoint>        e.g. http://127.0.0.1:3000${WEBHOOK_PATH} or your deployed webhook URL (required)
      --secret <whsec_…>      signing key (default: $DODO_WEBHOOK_SECRET, first usable key); a label such as
                              test:whsec_… is accepted, and the key after it signs
      --webhook-id <id>       reuse a webhook-id, as Dodo does when it retries (default: a fresh one)

  serve                                 Receiver → durable store → transformer → Slack, on this machine
      --port <n>              default ${ServeDefaults.port} (0 picks a free port)
      --host <address>        default ${ServeDefaults.host}
      --config <file>         routes from a configuration file (events, filters, modes, mentions, transformation,
                              each route's Slack URL from the environment variable its slackWebhookUrlEnv names);
                              instead of --transform, --events and the SLACK_* settings
      --transform <file>      as for preview
      --events <globs>        comma-separated event-type globs to forward, e.g. "payment.*,dispute.*" (default "*")
      --max-attempts <n>      delivery attempts before a message is dead-lettered (default ${ServeDefaults.maxAttempts})
      --retry-delay-ms <n>    delay before the first retry, doubled each time (default ${ServeDefaults.retryDelayMs})
      --rate <n>              messages per second to Slack (default ${Defaults.deliveryRatePerSecond}, Slack's documented limit)
      --burst <n>             messages that may go at once before the rate applies (default ${Defaults.deliveryBurst})
      --rollup-after <s|off>  when the backlog would keep an event waiting longer than this at --rate, post roll-ups
                              (one message for many events) until it is gone; 0 or off: never (default ${Defaults.rollupAfterSeconds})
      --never-fold <globs>    event types that always keep their own message, besides ${Defaults.rollupNeverFold.join(', ')}
      --data-dir <dir>        the durable store: accepted events, their states, dead letters (default ${ServeDefaults.dataDir})
      --shutdown-timeout <s>  on SIGTERM/SIGINT, wait this long for the delivery in flight and connected clients (default ${ServeDefaults.shutdownTimeoutMs / 1000})
      --summary <when>        post a summary on schedule: daily@HH:MM (about the day before) or weekly@DAY-HH:MM
                              (e.g. weekly@mon-09:00, about the week before, Monday first); may be given twice
      --tz <Area/City>        the time zone of --summary times and periods (default UTC)
      --alerts                post alerts (silence, payment failures, refunds, dispute ratio; see README, Alerts)
      --silence-after <s>     alert when no webhook was accepted for this long (default: learned, at least 6 h)
      --alerts-off <rules>    comma-separated rules to leave off: silence, failures, refunds, disputes
      --alert-interval <s>    how often the alert rules are evaluated (default 30)
      --alert-thresholds <t>  comma-separated rule.threshold=value, e.g. failures.minFailures=10,disputes.ratio=0.01
                              (README, Alerts: each rule's thresholds and defaults)
      --demo                  generate a signing key when DODO_WEBHOOK_SECRET is unset and print a ready send line
      --verbose               also print the core's structured log lines
      --slack-channel <id>    app mode: the channel ID (C…) to post to (default: $SLACK_CHANNEL)
      --slack-bot-token <t>   app mode: the bot token xoxb-… (default: $SLACK_BOT_TOKEN; prefer the variable,
                              a flag is visible to other users in \`ps\`)
      --slack-api-url <url>   Slack Web API base URL (default ${DEFAULT_SLACK_API_URL}; http only on 127.0.0.1)
      --dodo-api-url <url>    with DODO_API_KEY: the Dodo API to ask for product names (default Dodo's live or
                              test host, by the event's mode; for a stand-in or a proxy)
      --reply-broadcast <g>   app mode: comma-separated globs whose replies also show in the channel
                              (default disputes, failures and cancellations; "" for none)
    With DODO_API_KEY (or the variable a configuration's dodoApiKeyEnv names), messages, roll-ups and summaries
    show product names, and an abandoned checkout its payment; without it, IDs as before.
    Signing keys come from DODO_WEBHOOK_SECRET (whitespace-separated). Messages go to SLACK_WEBHOOK_URL
    (http://127.0.0.1 / localhost allowed); without it they are printed here as \`preview --format text\` would.
    With SLACK_BOT_TOKEN and SLACK_CHANNEL instead (app mode) each payment, subscription and payout gets one
    thread whose first message is a card kept up to date (see \`dodo-slack slack-manifest\`).
    Every accepted event is on disk before Dodo gets its 200. Ctrl-C (or SIGTERM) stops accepting, lets the
    delivery in flight finish, leaves the rest pending in the store and exits within --shutdown-timeout;
    the next serve on the same --data-dir delivers them. A second Ctrl-C stops at once (still nothing lost).

  routes <payload.json | event-type>    Which routes of a configuration file take the event, and why the others do not
      --config <file>         the routing configuration (as for serve --config and cdk synth -c config=…)
      --mode live|test        the mode whose signing key verified the event (default live)
    Prints one JSON object: "routes" (the ids of the routes that take it, in file order) and "notTaken"
    (each other route with the reason). A configuration with a fault exits 2 naming its JSON path.

  summary                               The summary of one day or week, from what serve accepted, as it would be posted
      --data-dir <dir>        the serve data dir (default ${ServeDefaults.dataDir})
      --period day|week       default day; a week runs Monday 00:00 to Monday 00:00
      --date YYYY-MM-DD       the day, or any day of the week (default: the last complete period)
      --tz <Area/City>        the time zone of the period (default UTC)
      --format json|text      json (default): the exact body posted to Slack; text: a terminal rendering
      --dodo-api-url <url>    with DODO_API_KEY: names the top products, as serve's scheduled summaries do
    Each webhook-id counts once, in the period of the event's own timestamp (see README, Summaries).

  dead-letters list|show <id>|redrive <id>|redrive --all|export   The dead letters of a serve data dir
      --data-dir <dir>        as for serve (default ${ServeDefaults.dataDir})
      --output <file>         export: write the JSON lines to this file (created 0600) instead of stdout
    redrive puts them back to pending (attempts reset; deduplication still applies): a running serve
    on the same data dir delivers them within a second, or the next serve started on it.

  slack-manifest                        Print the Slack app manifest for app mode (threads and live cards)
      --name <name>           the app's name in Slack (default "Dodo Payments")
      --private               the channel is private (groups:history instead of channels:history)
    Paste it at https://api.slack.com/apps → Create New App → From a manifest, install the app, invite
    it to the channel (/invite @name), and put its Bot User OAuth Token (xoxb-…) in SLACK_BOT_TOKEN.

  -h, --help                  this text

Event types name built-in samples, e.g. payment.succeeded, dispute.opened, subscription.renewed.`;

/** A mistake in how the command was called: message + usage hint, exit 2. */
class UsageError extends Error {
  override name = 'UsageError';
}

/** The command ran and failed (bad payload, transformation error, non-2xx answer): exit 1. */
class CommandFailure extends Error {
  override name = 'CommandFailure';
}

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
};

/** Runs one command; resolves with the exit code (serve resolves after SIGINT/SIGTERM). */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'preview':
        return await preview(rest, io);
      case 'send':
        return await send(rest, io);
      case 'serve':
        return await serve(rest, io);
      case 'dead-letters':
        return deadLetters(rest, io);
      case 'slack-manifest':
        return slackManifest(rest, io);
      case 'routes':
        return routes(rest, io);
      case 'summary':
        return await summary(rest, io);
      case '-h':
      case '--help':
      case 'help':
        io.stdout(`${USAGE}\n`);
        return 0;
      case undefined:
        io.stderr(`${USAGE}\n`);
        return 2;
      default:
        throw new UsageError(`unknown command "${command}" (expected preview, send, serve, routes, summary, dead-letters or slack-manifest)`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`dodo-slack: ${error.message}\nRun "dodo-slack --help" for usage.\n`);
      return 2;
    }
    if (error instanceof ConfigFileError) {
      io.stderr(`dodo-slack: ${error.message}\n`);
      return 2;
    }
    if (error instanceof CommandFailure || error instanceof InvalidPayloadError || error instanceof TransformationError ||
        error instanceof SecretConfigurationError || error instanceof UserCodeLoadError || error instanceof TransformFileError) {
      io.stderr(`dodo-slack: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: readonly string[], options: T) {
  try {
    return parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    // node:util's messages are clear ("Unknown option '--prot'"); keep them, exit 2.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function onePositional(positionals: readonly string[], what: string): string {
  if (positionals.length === 0) throw new UsageError(`missing ${what}`);
  if (positionals.length > 1) throw new UsageError(`expected one ${what}, got ${positionals.length}: ${positionals.join(' ')}`);
  return positionals[0];
}

// ---------------------------------------------------------------------------------------------
// Payloads: a file, or the built-in sample of an event type.

/**
 * The samples folder: `<package>/samples`, found by walking up from this file, so the sources
 * (bin/), the compiled CLI (dist/bin/) and the clone's cached bundle (node_modules/.cache/dodo-slack/)
 * all find it, in a fresh clone and in an installed package alike.
 */
function samplesDirectory(): string | undefined {
  for (let dir = __dirname, levels = 0; levels < 5; dir = path.dirname(dir), levels++) {
    const candidate = path.join(dir, 'samples');
    if (existsSync(path.join(candidate, 'payment.succeeded.json'))) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  return undefined;
}

function sampleEventTypes(): string[] {
  const dir = samplesDirectory();
  if (!dir) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => name.slice(0, -'.json'.length))
    .sort();
}

const EVENT_TYPE_SHAPE = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

/** The raw bytes of a payload argument: a path to a file, or an event type naming a built-in sample. */
export function readPayload(argument: string): { readonly raw: Buffer; readonly source: string } {
  if (existsSync(argument)) {
    try {
      return { raw: readFileSync(argument), source: argument };
    } catch (error) {
      // A directory, or a file this user may not read: say which, not a stack trace.
      const code = (error as { code?: unknown }).code;
      const why = code === 'EISDIR' ? 'it is a directory' : typeof code === 'string' ? code : String(error);
      throw new CommandFailure(`cannot read payload ${argument}: ${why}`);
    }
  }
  if (!EVENT_TYPE_SHAPE.test(argument) || argument.endsWith('.json')) {
    throw new UsageError(`no such file: ${argument}`);
  }
  const dir = samplesDirectory();
  const file = dir && path.join(dir, `${canonicalEventType(argument)}.json`);
  if (!file || !existsSync(file)) {
    throw new UsageError(`no built-in sample for event type "${argument}" (and no such file). Known types: ${sampleEventTypes().join(', ')}`);
  }
  return { raw: readFileSync(file), source: `built-in sample ${path.basename(file)}` };
}

function parseEnvelope(raw: Buffer, source: string): DodoWebhookEnvelope {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new InvalidPayloadError(`${source} is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidPayloadError(`${source} is not a JSON object`);
  }
  const type = (parsed as { type?: unknown }).type;
  if (typeof type !== 'string' || type === '') {
    throw new InvalidPayloadError(`${source} has no string "type": a Dodo webhook body is { business_id, type, timestamp, data }`);
  }
  return parsed as DodoWebhookEnvelope;
}

// ---------------------------------------------------------------------------------------------
// preview

// ---------------------------------------------------------------------------------------------
// routes: which routes of a configuration take an event (the decision the engines make).

/** Reads a configuration file and prints its warnings (a glob or a filter path no event type has). */
function loadConfig(file: string, io: CliIo): NotifierConfig {
  const { config, warnings } = readNotifierConfig(file);
  for (const warning of warnings) io.stderr(`dodo-slack: warning: ${file}: ${warning}\n`);
  return config;
}

function routes(args: readonly string[], io: CliIo): number {
  const { values, positionals } = parse(args, { config: { type: 'string' }, mode: { type: 'string', default: 'live' } });
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  if (values.config === undefined) throw new UsageError('routes needs --config <file> (the routing configuration)');
  const mode = values.mode;
  if (mode !== 'live' && mode !== 'test') throw new UsageError(`--mode must be live or test, got "${mode}"`);
  const config = loadConfig(values.config, io);
  const { raw, source } = readPayload(onePositional(positionals, 'payload file or event type'));
  const envelope = parseEnvelope(raw, source);
  const webhook: QueuedWebhook = { webhookId: 'msg_explain', webhookTimestamp: '0', eventType: envelope.type, body: raw.toString('utf8'), mode };
  const taken: string[] = [];
  const notTaken: { id: string; reason: string }[] = [];
  for (const route of config.routes) {
    // The same decision the pipeline makes (lambda/shared/route-rules.ts).
    const reason = compileRouteSelection(route).whyNot(webhook);
    if (reason === undefined) taken.push(route.id);
    else notTaken.push({ id: route.id, reason });
  }
  io.stdout(`${JSON.stringify({ routes: taken, eventType: envelope.type, mode, notTaken }, null, 2)}\n`);
  return 0;
}

async function preview(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    transform: { type: 'string' },
    format: { type: 'string', default: 'json' },
    mode: { type: 'string', default: 'live' },
    'dodo-api-url': { type: 'string' },
  });
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const format = values.format;
  if (format !== 'json' && format !== 'text') throw new UsageError(`--format must be json or text, got "${format}"`);
  const mode = values.mode;
  if (mode !== 'live' && mode !== 'test') throw new UsageError(`--mode must be live or test, got "${mode}"`);
  const { raw, source } = readPayload(onePositional(positionals, 'payload file or event type'));
  const envelope = parseEnvelope(raw, source);

  // The transformation's console output is shown on stderr, so stdout stays exactly the Slack body.
  const logger: CoreLogger = {
    debug: () => {},
    info: (message, extra) => consoleLine(io, message, extra),
    warn: (message, extra) => consoleLine(io, message, extra),
    error: (message, extra) => consoleLine(io, message, extra),
  };
  // The same transformation the pipeline builds for a route of serve's or the construct's.
  const { spec, userCode } = loadTransformationFile(values.transform);
  const transform = createTransform(spec, userCode, { logger, failOnLoadError: true });
  const nowSeconds = Math.floor(Date.now() / 1000);
  const webhookId = 'msg_preview';
  const input: TransformInput = {
    webhookId,
    eventType: envelope.type,
    envelope,
    rawBody: raw.toString('utf8'),
    headers: { 'webhook-id': webhookId, 'webhook-timestamp': String(nowSeconds) },
  };
  // As the pipeline does for a built-in route: names for the IDs, when a key is set.
  const names = spec.kind === 'builtin' ? cliNameLookup(values['dodo-api-url'], io, logger) : undefined;
  const outcome = await transform(names === undefined ? input : { ...input, names: await names.find(namesWanted(envelope), mode) });
  if (outcome.kind === 'skip') {
    io.stderr(`dodo-slack: ${envelope.type} was cancelled by the transformation (${outcome.reason}); nothing would be posted\n`);
    return 0;
  }
  // As the pipeline marks a test-mode event's message after its transformation.
  const message = mode === 'test' ? markTestMode(outcome.message) : outcome.message;
  io.stdout(format === 'json' ? `${JSON.stringify(message, null, 2)}\n` : renderSlackMessageForTerminal(message, { color: useColor(io) }));
  return 0;
}

function consoleLine(io: CliIo, message: string, extra: Record<string, unknown> | undefined): void {
  // The sandbox logs each line the transformation printed as `output`, a string.
  if (message === 'transformation console output') io.stderr(`transformation says: ${typeof extra?.output === 'string' ? extra.output : ''}\n`);
  else io.stderr(`${message}${extra ? ` ${JSON.stringify(extra)}` : ''}\n`);
}

/** ANSI colours only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
function useColor(io: CliIo): boolean {
  return io === processIo && process.stdout.isTTY === true && !io.env.NO_COLOR;
}

// ---------------------------------------------------------------------------------------------
// send

/** A fresh id in the Standard Webhooks style (`msg_` + random), as Dodo sends. */
function freshWebhookId(): string {
  return `msg_${randomBytes(18).toString('base64url')}`;
}

/** `http://host:port` alone means the local server: append the webhook path. */
function endpointUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url must be an absolute http(s) URL, e.g. http://127.0.0.1:3000${WEBHOOK_PATH}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('--url must use http or https');
  if (url.pathname === '/' || url.pathname === '') url.pathname = WEBHOOK_PATH;
  return url;
}

async function send(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    url: { type: 'string' },
    secret: { type: 'string' },
    'webhook-id': { type: 'string' },
  });
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const { raw, source } = readPayload(onePositional(positionals, 'payload file or event type'));
  if (values.url === undefined) throw new UsageError('send needs --url <endpoint>');
  const url = endpointUrl(values.url);
  const secret = values.secret ?? io.env.DODO_WEBHOOK_SECRET;
  if (secret === undefined || secret.trim() === '') {
    throw new UsageError('send needs a signing key: --secret whsec_… or DODO_WEBHOOK_SECRET');
  }
  const { keys, problems } = parseSigningKeys(secret);
  const key = keys[0];
  if (key === undefined) throw new UsageError(`no usable signing key: ${problems.join('; ')}`);

  const webhookId = values['webhook-id'] ?? freshWebhookId();
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'webhook-id': webhookId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(key.bytes, webhookId, timestamp, raw),
    },
    body: new Uint8Array(raw),
  }).catch((error: unknown) => {
    // fetch says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, "bad port", …).
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const why = typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : String(error);
    throw new CommandFailure(`could not reach ${url.origin}: ${why}`);
  });
  const body = await response.text();
  io.stderr(`sent ${source} as webhook-id ${webhookId}${key.mode === 'test' ? ', signed with a test-mode key' : ''}\n`);
  io.stdout(`${response.status} ${response.statusText}\n${body}${body.endsWith('\n') ? '' : '\n'}`);
  return response.ok ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// serve

function integerOption(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return Number(value);
}

/** What `serve` runs with, from its flags and environment; `help` when it was asked for usage. Throws UsageError. */
export function parseServeOptions(args: readonly string[], io: CliIo): { readonly help: true } | { readonly help: false; readonly options: LocalServerOptions; readonly demoKey?: string } {
  const { values, positionals } = parse(args, {
    port: { type: 'string', default: String(ServeDefaults.port) },
    host: { type: 'string', default: ServeDefaults.host },
    config: { type: 'string' },
    transform: { type: 'string' },
    events: { type: 'string' },
    'max-attempts': { type: 'string', default: String(ServeDefaults.maxAttempts) },
    'retry-delay-ms': { type: 'string', default: String(ServeDefaults.retryDelayMs) },
    rate: { type: 'string', default: String(Defaults.deliveryRatePerSecond) },
    burst: { type: 'string', default: String(Defaults.deliveryBurst) },
    'rollup-after': { type: 'string', default: String(Defaults.rollupAfterSeconds) },
    'never-fold': { type: 'string', default: '' },
    'data-dir': { type: 'string', default: ServeDefaults.dataDir },
    'shutdown-timeout': { type: 'string', default: String(ServeDefaults.shutdownTimeoutMs / 1000) },
    'slack-channel': { type: 'string' },
    'slack-bot-token': { type: 'string' },
    'slack-api-url': { type: 'string', default: DEFAULT_SLACK_API_URL },
    'dodo-api-url': { type: 'string' },
    'reply-broadcast': { type: 'string' },
    demo: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    summary: { type: 'string', multiple: true },
    tz: { type: 'string' },
    alerts: { type: 'boolean', default: false },
    'silence-after': { type: 'string' },
    'alerts-off': { type: 'string' },
    'alert-interval': { type: 'string' },
    'alert-thresholds': { type: 'string' },
  });
  if (values.help) return { help: true };
  const alerts = serveAlertOptions(values);
  if (typeof alerts === 'string') throw new UsageError(alerts);
  const schedules: SummarySchedule[] = [];
  for (const text of values.summary ?? []) {
    try {
      schedules.push(parseSummarySchedule(text));
    } catch (error) {
      if (error instanceof ScheduleError) throw new UsageError(`--summary: ${error.message}`);
      throw error;
    }
  }
  // One summary per kind and period: a second daily@… would find its day posted already and post nothing.
  for (const kind of ['day', 'week'] as const) {
    const repeated = (values.summary ?? []).filter((_text, index) => schedules[index].kind === kind);
    if (repeated.length > 1) throw new UsageError(`--summary takes one ${kind === 'day' ? 'daily' : 'weekly'} schedule, got ${repeated.join(' and ')}`);
  }
  if (values.tz !== undefined && schedules.length === 0) throw new UsageError('--tz applies to --summary; add --summary daily@09:00 or weekly@mon-09:00');
  const timeZone = timeZoneOption(values.tz);
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, got: ${positionals.join(' ')}`);
  if (values.config !== undefined) {
    // A configuration file names each route's events, transformation and destination itself.
    const single = (['events', 'transform', 'slack-channel', 'slack-bot-token', 'reply-broadcast'] as const).filter((flag) => values[flag] !== undefined);
    if (single.length > 0) throw new UsageError(`--${single.join(', --')} ${single.length > 1 ? 'apply' : 'applies'} without --config; with a configuration file, set ${single.length > 1 ? 'them' : 'it'} on its routes`);
  }
  const eventGlobs = (values.events ?? '*').split(',').map((glob) => glob.trim()).filter((glob) => glob !== '');
  const globErrors = eventGlobs.flatMap(globProblems);
  if (eventGlobs.length === 0) globErrors.push('--events needs at least one glob');
  if (globErrors.length > 0) throw new UsageError(globErrors.join('; '));
  const rate = Number(values.rate);
  if (!withinLimit(Limits.deliveryRatePerSecond, rate)) {
    throw new UsageError(`--rate must be a number of messages per second in (${Limits.deliveryRatePerSecond.min}, ${Limits.deliveryRatePerSecond.max}], got "${values.rate}"`);
  }
  const rollupAfterSeconds = parseRollupAfter(values['rollup-after']);
  if (rollupAfterSeconds === undefined) {
    throw new UsageError(`--rollup-after must be a number of seconds from ${Limits.rollupAfterSeconds.min} to ${Limits.rollupAfterSeconds.max}, or "off", got "${values['rollup-after']}"`);
  }
  const neverFold = values['never-fold'].split(',').map((glob) => glob.trim()).filter((glob) => glob !== '');
  const neverFoldErrors = neverFold.flatMap(globProblems);
  if (neverFoldErrors.length > 0) throw new UsageError(`--never-fold: ${neverFoldErrors.join('; ')}`);

  let signingSecret = io.env.DODO_WEBHOOK_SECRET;
  let demoKey: string | undefined;
  if ((signingSecret === undefined || signingSecret.trim() === '') && values.demo) {
    // Demo mode: a key made up here, printed on purpose so the user can sign with it.
    demoKey = `whsec_${randomBytes(24).toString('base64')}`;
    signingSecret = demoKey;
  }
  if (signingSecret === undefined || signingSecret.trim() === '') {
    throw new UsageError('serve needs DODO_WEBHOOK_SECRET (the whsec_… key; several separated by spaces), or --demo to generate one');
  }

  const config = values.config === undefined ? undefined : loadConfig(values.config, io);
  const options: LocalServerOptions = {
    port: integerOption('port', values.port, 0, 65535) as number,
    host: values.host,
    transformFile: values.transform,
    ...(config === undefined ? {} : { config, environment: io.env }),
    ...dodoApiOptions(values['dodo-api-url'], io.env, config?.dodoApiKeyEnv),
    eventGlobs,
    maxAttempts: integerOption('max-attempts', values['max-attempts'], Limits.maxReceiveCount.min, Limits.maxReceiveCount.max) as number,
    retryDelayMs: integerOption('retry-delay-ms', values['retry-delay-ms'], 0, 3_600_000) as number,
    ratePerSecond: rate,
    burst: integerOption('burst', values.burst, Limits.deliveryBurst.min, Limits.deliveryBurst.max) as number,
    rollupAfterSeconds,
    ...(neverFold.length > 0 ? { neverFold } : {}),
    dataDir: path.resolve(values['data-dir']),
    shutdownTimeoutMs: (integerOption('shutdown-timeout', values['shutdown-timeout'], 0, 3600) as number) * 1000,
    signingSecret,
    slackWebhookUrl: io.env.SLACK_WEBHOOK_URL?.trim() || undefined,
    ...slackAppOptions(values, io.env),
    verbose: values.verbose,
    print: io.stdout,
    printError: io.stderr,
    ...(schedules.length > 0 ? { summaries: { schedules, timeZone } } : {}),
    ...(alerts === undefined ? {} : { alerts }),
  };
  return demoKey === undefined ? { help: false, options } : { help: false, options, demoKey };
}

/** The Dodo API key (from `keyEnv`, default DODO_API_KEY) and `--dodo-api-url`; the URL alone is a usage error. */
function dodoApiOptions(url: string | undefined, env: NodeJS.ProcessEnv, keyEnv = 'DODO_API_KEY'): { readonly dodoApiKey?: string; readonly dodoApiUrl?: string } {
  const key = env[keyEnv]?.trim() || undefined;
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UsageError(`--dodo-api-url must be an http or https URL, got "${url}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--dodo-api-url must be an http or https URL, got "${url}"`);
    // The key travels in the request: in clear text only to this machine.
    if (parsed.protocol === 'http:' && !['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname)) {
      throw new UsageError(`--dodo-api-url must use https (http only on 127.0.0.1, localhost or [::1]): the API key travels with each request, got "${url}"`);
    }
    if (key === undefined) throw new UsageError(`--dodo-api-url needs a Dodo API key in ${keyEnv}`);
  }
  return { ...(key === undefined ? {} : { dodoApiKey: key }), ...(url === undefined ? {} : { dodoApiUrl: url }) };
}

/** Look-ups for preview and summary, with their failures said on stderr; undefined without a key. */
function cliNameLookup(url: string | undefined, io: CliIo, logger: CoreLogger): NameLookup | undefined {
  const { dodoApiKey, dodoApiUrl } = dodoApiOptions(url, io.env);
  if (dodoApiKey === undefined) return undefined;
  return localNameLookup({ apiKey: dodoApiKey, ...(dodoApiUrl === undefined ? {} : { apiUrl: dodoApiUrl }), logger, metrics: noMetrics });
}

/** App mode's settings from flags (first) or the environment; empty strings count as unset. */
function slackAppOptions(
  values: { readonly 'slack-channel'?: string; readonly 'slack-bot-token'?: string; readonly 'slack-api-url'?: string; readonly 'reply-broadcast'?: string },
  env: NodeJS.ProcessEnv,
): Pick<LocalServerOptions, 'slackBotToken' | 'slackChannel' | 'slackApiUrl' | 'replyBroadcast'> {
  const token = values['slack-bot-token']?.trim() || env.SLACK_BOT_TOKEN?.trim() || undefined;
  const channel = values['slack-channel']?.trim() || env.SLACK_CHANNEL?.trim() || undefined;
  let replyBroadcast: string[] | undefined;
  if (values['reply-broadcast'] !== undefined) {
    replyBroadcast = values['reply-broadcast'].split(',').map((glob) => glob.trim()).filter((glob) => glob !== '');
    const problems = replyBroadcast.flatMap(globProblems);
    if (problems.length > 0) throw new UsageError(`--reply-broadcast: ${problems.join('; ')}`);
  }
  return {
    ...(token === undefined ? {} : { slackBotToken: token }),
    ...(channel === undefined ? {} : { slackChannel: channel }),
    ...(values['slack-api-url'] === undefined ? {} : { slackApiUrl: values['slack-api-url'] }),
    ...(replyBroadcast === undefined ? {} : { replyBroadcast }),
  };
}

async function serve(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseServeOptions(args, io);
  if (parsed.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const { options, demoKey } = parsed;
  for (const warning of unknownGlobWarnings(options.eventGlobs)) io.stderr(`dodo-slack: warning: --events: ${warning}\n`);
  for (const warning of unknownGlobWarnings(options.neverFold ?? [])) io.stderr(`dodo-slack: warning: --never-fold: ${warning}\n`);
  // Listen for signals before announcing readiness: a supervisor (or a test) may stop us the moment it reads the line.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const server = await startLocalServer(options).catch((error: unknown) => {
    const code = (error as { code?: unknown }).code;
    if (error instanceof StoreError) throw new CommandFailure(error.message);
    if (code === 'EADDRINUSE') throw new CommandFailure(`port ${options.port} on ${options.host} is in use; pass --port N (0 picks a free port)`);
    if (code === 'EACCES') throw new CommandFailure(`not allowed to listen on ${options.host}:${options.port}; pick a port above 1023`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new CommandFailure(`cannot listen on --host ${options.host}: no such local address`);
    throw error;
  });
  io.stdout(`listening on ${server.url}\n`);
  if (demoKey !== undefined) {
    io.stdout(
      `demo signing key (generated for this run): ${demoKey}\n` +
        `try it, in another terminal:\n  npx dodo-slack send payment.succeeded --url ${server.url} --secret ${demoKey}\n`,
    );
  }
  if (options.config !== undefined) {
    for (const route of options.config.routes) {
      const rules = [route.filter !== undefined && Object.keys(route.filter).length > 0 ? 'with a filter' : '', route.modes?.length === 1 ? `${route.modes[0]} mode only` : ''].filter((rule) => rule !== '');
      const target = route.slackBotTokenEnv !== undefined ? `channel ${route.slackChannelId} as the app whose bot token is in ${route.slackBotTokenEnv}` : `the Slack webhook in ${route.slackWebhookUrlEnv}`;
      io.stdout(`route ${route.id}: ${route.events.join(', ')}${rules.length > 0 ? ` (${rules.join(', ')})` : ''} → ${target}\n`);
    }
  } else io.stdout(
    options.slackChannel !== undefined
      ? `posting to Slack channel ${options.slackChannel} as the app whose bot token is in SLACK_BOT_TOKEN (threads and live cards)\n`
      : options.slackWebhookUrl
        ? 'posting to the Slack webhook in SLACK_WEBHOOK_URL\n'
        : 'SLACK_WEBHOOK_URL is not set: messages are printed here\n',
  );
  if (options.dodoApiKey !== undefined) io.stdout(`product names from the Dodo API${options.dodoApiUrl === undefined ? '' : ` at ${options.dodoApiUrl}`} (the key is never printed)\n`);

  const signal = await stopSignal;
  io.stdout(`${signal}: finishing in-flight deliveries…\n`);
  await server.close();
  io.stdout('stopped\n');
  return 0;
}

/** `--tz`, checked and in its canonical spelling; UTC (the construct's default too) when not given. */
function timeZoneOption(value: string | undefined): string {
  if (value === undefined) return Defaults.summaryTimeZone;
  try {
    return checkTimeZone(value);
  } catch (error) {
    if (error instanceof PeriodError) throw new UsageError(`--tz: ${error.message}`);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// summary

async function summary(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(args, {
    'data-dir': { type: 'string', default: ServeDefaults.dataDir },
    period: { type: 'string', default: 'day' },
    date: { type: 'string' },
    tz: { type: 'string' },
    format: { type: 'string', default: 'json' },
    'dodo-api-url': { type: 'string' },
  });
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`summary takes no arguments, got: ${positionals.join(' ')}`);
  const kind = values.period;
  if (kind !== 'day' && kind !== 'week') throw new UsageError(`--period must be day or week, got "${kind}"`);
  const format = values.format;
  if (format !== 'json' && format !== 'text') throw new UsageError(`--format must be json or text, got "${format}"`);
  const timeZone = timeZoneOption(values.tz);
  let date: string;
  try {
    date = values.date === undefined ? lastCompletedPeriod(kind, Date.now(), timeZone).firstDay : formatCalendarDate(parseCalendarDate(values.date));
  } catch (error) {
    if (error instanceof PeriodError) throw new UsageError(`--date: ${error.message}`);
    throw error;
  }
  const dataDir = path.resolve(values['data-dir']);
  if (!existsSync(path.join(dataDir, STORE_FILE))) {
    throw new CommandFailure(`no store in ${dataDir} (${STORE_FILE} is missing); summaries are computed from what \`dodo-slack serve --data-dir ${dataDir}\` accepted`);
  }
  let store;
  try {
    // Not read-only: a store written by an older serve is migrated (and its events counted) once.
    store = openStore(dataDir);
  } catch (error) {
    if (error instanceof StoreError) throw new CommandFailure(error.message);
    throw error;
  }
  try {
    const logger: CoreLogger = { debug: () => {}, info: () => {}, warn: (message, extra) => consoleLine(io, message, extra), error: (message, extra) => consoleLine(io, message, extra) };
    const names = cliNameLookup(values['dodo-api-url'], io, logger);
    const message = await summaryOnDemand(store.summaries, { kind, date, timeZone, routeId: DEFAULT_ROUTE_ID, ...(names === undefined ? {} : { names }) });
    io.stdout(format === 'json' ? `${JSON.stringify(message, null, 2)}\n` : renderSlackMessageForTerminal(message, { color: useColor(io) }));
    return 0;
  } finally {
    store.close();
  }
}

function deadLetters(args: readonly string[], io: CliIo): number {
  const { values, positionals } = parse(args, {
    'data-dir': { type: 'string', default: ServeDefaults.dataDir },
    all: { type: 'boolean', default: false },
    output: { type: 'string' },
  });
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  const [action, ...operands] = positionals;
  const dataDir = path.resolve(values['data-dir']);
  const idOperand = (): number => {
    const id = onePositional(operands, 'dead letter id (see `dodo-slack dead-letters list`)');
    if (!/^\d+$/.test(id)) throw new UsageError(`a dead letter id is a number, got "${id}"`);
    return Number(id);
  };
  try {
    switch (action) {
      case 'list':
        if (operands.length > 0) throw new UsageError(`dead-letters list takes no arguments, got: ${operands.join(' ')}`);
        io.stdout(listDeadLetters(dataDir));
        return 0;
      case 'show': {
        const id = idOperand();
        const shown = showDeadLetter(dataDir, id);
        if (shown === undefined) throw new CommandFailure(`no dead letter ${id} in ${dataDir}`);
        io.stdout(shown);
        return 0;
      }
      case 'redrive': {
        if (values.all && operands.length > 0) throw new UsageError('redrive takes an id or --all, not both');
        const which = values.all ? 'all' : idOperand();
        const count = redriveDeadLetters(dataDir, which);
        if (which !== 'all' && count === 0) throw new CommandFailure(`no dead letter ${which} in ${dataDir}`);
        io.stdout(`${count} dead letter(s) back to pending; serve on ${dataDir} delivers them (a webhook-id already delivered is not posted again)\n`);
        return 0;
      }
      case 'export': {
        if (operands.length > 0) throw new UsageError(`dead-letters export takes no arguments, got: ${operands.join(' ')}`);
        const exported = exportDeadLetters(dataDir, values.output === undefined ? undefined : path.resolve(values.output));
        if (exported.text !== undefined) io.stdout(exported.text);
        else io.stderr(`${exported.count} dead letter(s) written to ${values.output}\n`);
        return 0;
      }
      case undefined:
        throw new UsageError('dead-letters needs an action: list, show <id>, redrive <id>|--all or export');
      default:
        throw new UsageError(`unknown dead-letters action "${action}" (expected list, show, redrive or export)`);
    }
  } catch (error) {
    if (error instanceof StoreError) throw new CommandFailure(error.message);
    throw error;
  }
}

function slackManifest(args: readonly string[], io: CliIo): number {
  const { values, positionals } = parse(args, { name: { type: 'string' }, private: { type: 'boolean', default: false } });
  if (values.help) {
    io.stdout(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`slack-manifest takes no arguments, got: ${positionals.join(' ')}`);
  if (values.name !== undefined && (values.name.trim() === '' || values.name.length > 35)) throw new UsageError('--name must be 1 to 35 characters (Slack\'s limit for an app name)');
  io.stdout(`${JSON.stringify(slackAppManifest({ ...(values.name === undefined ? {} : { name: values.name }), privateChannel: values.private }), null, 2)}\n`);
  return 0;
}

/** Runs the CLI on this process's arguments and sets the exit code (the bin shim calls this). */
export function runCli(): void {
  // `dodo-slack --help | head`: the reader went away, which is not an error of ours (without this,
  // Node throws EPIPE with a stack trace). Stop quietly, as other command-line tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Whatever still holds the event loop (a client that never finishes its request, a delivery
      // past the shutdown timeout) must not keep a stopped serve alive; unref'd, this does not
      // delay a command that has nothing left to do.
      setTimeout(() => process.exit(code), 100).unref();
    },
    (error: unknown) => {
      process.stderr.write(`dodo-slack: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runCli();
