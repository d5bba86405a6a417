/**
 * The routing configuration file both engines read (`serve --config FILE`, `cdk synth -c
 * config=FILE`, `dodo-slack routes … --config FILE`): the routes, each with its events, filter,
 * modes, mentions, transformation and destination. A route names its Slack credential, never holds
 * it: an environment variable for `serve`, a Secrets Manager secret for AWS; one file may name both.
 *
 * Checked whole before anything runs: every fault is reported with its JSON path
 * (`routes[1].filter.data.total_amount.$gtt: unknown operator …`). The JSON Schema the package
 * ships (schema/dodo-slack.config.schema.json) describes the same shape for editors; a test keeps
 * the two in agreement.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BuiltinTemplateOptions } from './transformation';
import type { RouteMention } from './function-env';
import { DEFAULT_ROUTE_ID, ROUTE_ID_SHAPE } from './function-env';
import type { WebhookMode } from './webhook';
import type { RouteFilter } from './route-filter';
import { unknownFilterPaths } from './route-filter';
import { globProblems, unknownGlobWarnings } from './event-glob';
import { routeRuleProblems } from './route-rules';
import { Limits, describeLimit, withinLimit } from './limits';

/** The file `cdk synth` reads when `-c config=FILE` is not given, if it exists in the app's directory. */
export const DEFAULT_CONFIG_FILE = 'dodo-slack.config.json';

/** How a route's messages are built: the built-in templates with their options, or user code from a file. */
export type ConfigFileTransformation =
  | { readonly builtin: BuiltinTemplateOptions }
  /** `code`: the file's path as written; `codePath`: resolved against the configuration file's directory. */
  | { readonly code: string; readonly codePath: string; readonly timeoutMs?: number };

export interface ConfigFileRoute {
  readonly id: string;
  readonly events: readonly string[];
  readonly filter?: RouteFilter;
  readonly modes?: readonly WebhookMode[];
  readonly mentions?: readonly RouteMention[];
  readonly transformation?: ConfigFileTransformation;
  /** serve: the environment variable holding the route's incoming-webhook URL. */
  readonly slackWebhookUrlEnv?: string;
  /** serve, app mode: the environment variable holding the route's bot token. */
  readonly slackBotTokenEnv?: string;
  /** AWS: name or complete ARN of the secret holding the route's incoming-webhook URL. */
  readonly slackWebhookSecret?: string;
  /** AWS, app mode: name or complete ARN of the secret holding the route's bot token. */
  readonly slackBotTokenSecret?: string;
  /** App mode: the channel ID the bot posts to. */
  readonly slackChannelId?: string;
  /** App mode: event-type globs whose thread replies are also shown in the channel. */
  readonly replyBroadcast?: readonly string[];
}

export interface NotifierConfig {
  readonly routes: readonly ConfigFileRoute[];
  /** serve: the environment variable holding the Dodo API key (names for IDs). @default DODO_API_KEY */
  readonly dodoApiKeyEnv?: string;
  /** AWS: name or complete ARN of the Secrets Manager secret holding the Dodo API key. @default - no look-ups */
  readonly dodoApiKeySecret?: string;
}

/** Top-level fields of the configuration besides `routes` and `$schema` (the schema test holds both to them). */
export const CONFIG_TOP_LEVEL_FIELDS = ['$schema', 'routes', 'dodoApiKeyEnv', 'dodoApiKeySecret'] as const;

export interface ConfigProblem {
  /** JSON path of the fault, e.g. `routes[1].filter`. */
  readonly path: string;
  readonly message: string;
}

/** The file cannot be read, is not JSON, or does not describe valid routes; lists every problem. */
export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
  constructor(
    readonly file: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    // A file that cannot be read or parsed has one problem of the whole file: said on one line.
    const whole = problems.length === 1 && problems[0].path === '';
    super(
      whole
        ? `${file}: ${problems[0].message}`
        : `${file}: invalid configuration:\n${problems.map((problem) => `- ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}`).join('\n')}`,
    );
  }
}

/** The fields of a route in the file, in the order the schema and the README list them. */
export const CONFIG_ROUTE_FIELDS = [
  'id',
  'events',
  'filter',
  'modes',
  'mentions',
  'transformation',
  'slackWebhookUrlEnv',
  'slackBotTokenEnv',
  'slackWebhookSecret',
  'slackBotTokenSecret',
  'slackChannelId',
  'replyBroadcast',
] as const;

const BUILTIN_OPTION_TYPES: Readonly<Record<keyof BuiltinTemplateOptions, string>> = {
  maskCustomerEmails: 'boolean',
  hideCustomerNames: 'boolean',
  dashboardBaseUrl: 'string',
  mentions: 'object',
};
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A Secrets Manager secret name, or the complete ARN (with the 6-character suffix) fromSecretCompleteArn needs. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
export const COMPLETE_SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

/** Reads and checks a configuration file; throws ConfigFileError naming every fault. */
export function readNotifierConfig(file: string): { readonly config: NotifierConfig; readonly warnings: readonly string[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigFileError(file, [{ path: '', message: `cannot read the file${typeof code === 'string' ? ` (${code})` : ''}` }]);
  }
  return parseNotifierConfig(text, file);
}

/** Checks a configuration given as text; `file` names it in errors and is where `code` paths are resolved from. */
export function parseNotifierConfig(text: string, file: string): { readonly config: NotifierConfig; readonly warnings: readonly string[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(file, [{ path: '', message: `not JSON: ${jsonErrorWithLine(text, error)}` }]);
  }
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const problem = (at: string, message: string) => problems.push({ path: at, message });

  if (!isPlainObject(parsed)) {
    throw new ConfigFileError(file, [{ path: '', message: `must be an object {"routes": […]}, got ${kindOf(parsed)}` }]);
  }
  for (const key of Object.keys(parsed)) {
    if (!(CONFIG_TOP_LEVEL_FIELDS as readonly string[]).includes(key)) problem(key, 'is not a field of the configuration; it has "routes" (and "$schema", "dodoApiKeyEnv", "dodoApiKeySecret")');
  }
  const apiKeyEnv = parsed.dodoApiKeyEnv;
  if (apiKeyEnv !== undefined && (typeof apiKeyEnv !== 'string' || !ENV_NAME.test(apiKeyEnv))) {
    problem('dodoApiKeyEnv', `must be the name of an environment variable, e.g. "DODO_API_KEY", got ${JSON.stringify(apiKeyEnv)}`);
  }
  const apiKeySecret = parsed.dodoApiKeySecret;
  if (apiKeySecret !== undefined && (typeof apiKeySecret !== 'string' || !(SECRET_NAME.test(apiKeySecret) || COMPLETE_SECRET_ARN.test(apiKeySecret)))) {
    problem('dodoApiKeySecret', `must be the name or complete ARN of a Secrets Manager secret, e.g. "dodo/api-key", got ${JSON.stringify(apiKeySecret)}`);
  }
  const routes = parsed.routes;
  if (!Array.isArray(routes)) {
    problem('routes', `must be an array of routes, got ${kindOf(routes)}`);
    throw new ConfigFileError(file, problems);
  }
  if (routes.length === 0) problem('routes', 'is empty: no event would go anywhere; add a route');

  const seen = new Map<string, number>();
  routes.forEach((route: unknown, index) => {
    const at = `routes[${index}]`;
    if (!isPlainObject(route)) {
      problem(at, `must be an object, got ${kindOf(route)}`);
      return;
    }
    for (const key of Object.keys(route)) {
      if (!(CONFIG_ROUTE_FIELDS as readonly string[]).includes(key)) problem(`${at}.${key}`, `is not a field of a route; a route has ${CONFIG_ROUTE_FIELDS.join(', ')}`);
    }
    const { id } = route;
    if (typeof id !== 'string' || !ROUTE_ID_SHAPE.test(id)) {
      problem(`${at}.id`, `must be 1-64 letters and digits starting with a letter, e.g. "Sales", got ${JSON.stringify(id)}`);
    } else if (id.toLowerCase() === DEFAULT_ROUTE_ID) {
      problem(`${at}.id`, `"${DEFAULT_ROUTE_ID}" is reserved (the route of the construct's top-level props and of serve without --config); choose another id`);
    } else if (seen.has(id.toLowerCase())) {
      problem(`${at}.id`, `"${id}" is also the id of routes[${seen.get(id.toLowerCase())}] (ids are compared case-insensitively)`);
    } else {
      seen.set(id.toLowerCase(), index);
    }

    const events = route.events;
    if (events !== undefined) {
      if (!Array.isArray(events) || events.length === 0) problem(`${at}.events`, `must be a non-empty array of event-type globs such as ["payment.*"], got ${JSON.stringify(events)}`);
      else {
        events.forEach((glob: unknown, globIndex) => {
          if (typeof glob !== 'string') problem(`${at}.events[${globIndex}]`, `must be a string, got ${kindOf(glob)}`);
          else for (const message of globProblems(glob)) problem(`${at}.events[${globIndex}]`, message);
        });
        const strings = events.filter((glob): glob is string => typeof glob === 'string');
        for (const warning of unknownGlobWarnings(strings)) warnings.push(`${at}.events: ${warning}`);
      }
    }

    const ruleProblems = routeRuleProblems(route, at);
    problems.push(...ruleProblems);
    if (ruleProblems.length === 0 && isPlainObject(route.filter)) {
      const globs = Array.isArray(events) ? events.filter((glob): glob is string => typeof glob === 'string') : ['*'];
      for (const unknown of unknownFilterPaths(route.filter, globs)) {
        warnings.push(`${at}.filter: no event type the route takes has the path ${unknown}; it is missing on every event (a typo?)`);
      }
    }

    checkTransformation(route.transformation, `${at}.transformation`, problem);
    checkDestination(route, at, problem);
  });

  if (problems.length > 0) throw new ConfigFileError(file, problems);
  const baseDir = path.dirname(path.resolve(file));
  return {
    config: {
      routes: (routes as Record<string, unknown>[]).map((route) => toRoute(route, baseDir)),
      ...(typeof apiKeyEnv === 'string' ? { dodoApiKeyEnv: apiKeyEnv } : {}),
      ...(typeof apiKeySecret === 'string' ? { dodoApiKeySecret: apiKeySecret } : {}),
    },
    warnings,
  };
}

function toRoute(route: Record<string, unknown>, baseDir: string): ConfigFileRoute {
  const transformation = route.transformation as Record<string, unknown> | undefined;
  return {
    ...(route as unknown as ConfigFileRoute),
    events: (route.events as string[] | undefined) ?? ['*'],
    ...(transformation !== undefined && typeof transformation.code === 'string'
      ? { transformation: { ...(transformation as { code: string; timeoutMs?: number }), codePath: path.resolve(baseDir, transformation.code) } }
      : {}),
  };
}

function checkTransformation(value: unknown, at: string, problem: (at: string, message: string) => void): void {
  if (value === undefined) return;
  const shape = 'must be {"builtin": {…options}} or {"code": "path/to/transform.js", "timeoutMs": 1000}';
  if (!isPlainObject(value)) return problem(at, `${shape}, got ${kindOf(value)}`);
  const keys = Object.keys(value);
  if ('builtin' in value) {
    for (const key of keys) if (key !== 'builtin') problem(`${at}.${key}`, `does not go with "builtin"; ${shape}`);
    const options = value.builtin;
    if (!isPlainObject(options)) return problem(`${at}.builtin`, `must be an object of options (maskCustomerEmails, hideCustomerNames, dashboardBaseUrl, mentions), got ${kindOf(options)}`);
    for (const [key, option] of Object.entries(options)) {
      const expected = BUILTIN_OPTION_TYPES[key as keyof BuiltinTemplateOptions];
      if (expected === undefined) problem(`${at}.builtin.${key}`, `is not an option of the built-in templates; they take ${Object.keys(BUILTIN_OPTION_TYPES).join(', ')}`);
      else if (expected === 'object' ? !isPlainObject(option) : typeof option !== expected) problem(`${at}.builtin.${key}`, `must be ${expected === 'object' ? 'an object' : `a ${expected}`}, got ${kindOf(option)}`);
      else if (key === 'dashboardBaseUrl' && !/^https?:\/\/\S+$/.test(option as string)) problem(`${at}.builtin.${key}`, `must be an http(s) URL such as "https://app.dodopayments.com", got ${JSON.stringify(option)}`);
      else if (key === 'mentions') {
        for (const [glob, mention] of Object.entries(option as Record<string, unknown>)) {
          for (const message of globProblems(glob)) problem(`${at}.builtin.mentions.${glob}`, message);
          if (typeof mention !== 'string') problem(`${at}.builtin.mentions.${glob}`, `must be a string such as "<!here>", got ${kindOf(mention)}`);
        }
      }
    }
    return;
  }
  if ('code' in value) {
    for (const key of keys) if (key !== 'code' && key !== 'timeoutMs') problem(`${at}.${key}`, `does not go with "code"; ${shape}`);
    if (typeof value.code !== 'string' || value.code.trim() === '') problem(`${at}.code`, `must be the path of a .js or .ts file (relative to the configuration file), got ${JSON.stringify(value.code)}`);
    if (value.timeoutMs !== undefined && (typeof value.timeoutMs !== 'number' || !withinLimit(Limits.userCodeTimeoutMs, value.timeoutMs))) {
      problem(`${at}.timeoutMs`, `must be ${describeLimit(Limits.userCodeTimeoutMs)}, got ${JSON.stringify(value.timeoutMs)}`);
    }
    return;
  }
  problem(at, `${shape}, got an object with ${keys.length === 0 ? 'no fields' : keys.map((key) => JSON.stringify(key)).join(', ')}`);
}

function checkDestination(route: Record<string, unknown>, at: string, problem: (at: string, message: string) => void): void {
  const text = (key: string, shape: RegExp, what: string) => {
    const value = route[key];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !shape.test(value)) {
      problem(`${at}.${key}`, `must be ${what}, got ${JSON.stringify(value)}`);
      return undefined;
    }
    return value;
  };
  const webhookEnv = text('slackWebhookUrlEnv', ENV_NAME, 'the name of an environment variable, e.g. "SLACK_SALES_URL"');
  const tokenEnv = text('slackBotTokenEnv', ENV_NAME, 'the name of an environment variable, e.g. "SLACK_BOT_TOKEN"');
  const secretShape = { test: (value: string) => SECRET_NAME.test(value) || COMPLETE_SECRET_ARN.test(value) } as RegExp;
  const webhookSecret = text('slackWebhookSecret', secretShape, 'the name or complete ARN of a Secrets Manager secret, e.g. "dodo/slack-sales"');
  const tokenSecret = text('slackBotTokenSecret', secretShape, 'the name or complete ARN of a Secrets Manager secret, e.g. "dodo/slack-bot"');
  const channel = text('slackChannelId', CHANNEL_ID, 'a channel ID such as "C0123456789" (channel details → bottom), not a name');
  const named = ['slackWebhookUrlEnv', 'slackBotTokenEnv', 'slackWebhookSecret', 'slackBotTokenSecret'].filter((key) => route[key] !== undefined);
  if (named.length === 0) {
    problem(at, 'names no Slack destination: set slackWebhookUrlEnv (serve) and/or slackWebhookSecret (AWS), or for app mode slackBotTokenEnv / slackBotTokenSecret with slackChannelId');
    return;
  }
  if (webhookEnv !== undefined && tokenEnv !== undefined) problem(at, 'set slackWebhookUrlEnv (incoming webhook) or slackBotTokenEnv (app mode), not both');
  if (webhookSecret !== undefined && tokenSecret !== undefined) problem(at, 'set slackWebhookSecret (incoming webhook) or slackBotTokenSecret (app mode), not both');
  const appMode = tokenEnv !== undefined || tokenSecret !== undefined;
  if (appMode && (webhookEnv !== undefined || webhookSecret !== undefined)) {
    problem(at, 'mixes an incoming webhook (slackWebhookUrlEnv / slackWebhookSecret) with app mode (slackBotTokenEnv / slackBotTokenSecret); a route posts one way on both engines');
  }
  if (appMode && channel === undefined && route.slackChannelId === undefined) problem(`${at}.slackChannelId`, 'is required in app mode (with slackBotTokenEnv / slackBotTokenSecret)');
  if (!appMode && route.slackChannelId !== undefined) problem(`${at}.slackChannelId`, 'applies only in app mode (with slackBotTokenEnv / slackBotTokenSecret)');
  const replyBroadcast = route.replyBroadcast;
  if (replyBroadcast !== undefined) {
    if (!appMode) problem(`${at}.replyBroadcast`, 'applies only in app mode (with slackBotTokenEnv / slackBotTokenSecret)');
    if (!Array.isArray(replyBroadcast)) problem(`${at}.replyBroadcast`, `must be an array of event-type globs, got ${kindOf(replyBroadcast)}`);
    else replyBroadcast.forEach((glob: unknown, index) => {
      if (typeof glob !== 'string') problem(`${at}.replyBroadcast[${index}]`, `must be a string, got ${kindOf(glob)}`);
      else for (const message of globProblems(glob)) problem(`${at}.replyBroadcast[${index}]`, message);
    });
  }
}

/** `at line 3 column 7` added to JSON.parse's message, which gives only a position. */
function jsonErrorWithLine(text: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const position = /position (\d+)/.exec(message);
  if (!position) return message;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${message} (line ${line}, column ${column})`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}
