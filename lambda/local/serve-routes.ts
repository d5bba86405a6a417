/**
 * The routes `serve` runs, from its options, in the form the construct gives the transformer
 * (RouteConfig), and the credential source they read: each route names its credential
 * (`slackSecretId`) by the environment variable it comes from, as on AWS it names its secret.
 * Checked at start, so a bad URL, token or channel stops `serve` before the first event (the
 * messages never quote a credential).
 */
import { Defaults } from '../shared/defaults';
import { SecretConfigurationError } from '../shared/errors';
import { DEFAULT_ROUTE_ID, type RouteConfig } from '../shared/function-env';
import type { SecretSource } from '../shared/ports';
import type { SlackMessage, TransformationSpec } from '../shared/transformation';
import { promiseOf } from '../shared/promise';
import type { PostToSlack, SlackPostResult } from '../transformer/slack-client';
import { parseSlackWebhookUrl } from '../transformer/slack-url';
import { CHANNEL_ID_SHAPE, parseSlackBotToken } from '../transformer/slack-token';
import { normaliseSlackApiUrl } from '../transformer/slack-web-api';
import { renderSlackMessageForTerminal } from './terminal-render';
import { printable } from './progress';
import { loadTransformationFile } from './transformation-file';
import type { NotifierConfig } from '../shared/config-file';
import type { UserCodeRegistry } from '../sandbox/registry';

/** The environment variables serve's route reads its credential from. */
export const SLACK_WEBHOOK_URL_ENV = 'SLACK_WEBHOOK_URL';
export const SLACK_BOT_TOKEN_ENV = 'SLACK_BOT_TOKEN';

/** Stands for "the terminal" where a route needs a Slack URL; never contacted (the terminal client answers instead). */
const TERMINAL_PLACEHOLDER_URL = 'http://127.0.0.1/dodo-slack-terminal';

export interface ServeDestinationOptions {
  readonly eventGlobs: readonly string[];
  readonly transformation: TransformationSpec;
  /** Incoming-webhook URL (http://127.0.0.1 and localhost allowed); none and no bot token: print to the terminal. */
  readonly slackWebhookUrl?: string;
  readonly slackBotToken?: string;
  readonly slackChannel?: string;
  readonly slackApiUrl?: string;
  readonly replyBroadcast?: readonly string[];
  readonly print: (text: string) => void;
}

export interface ServeRoutes {
  readonly routes: readonly RouteConfig[];
  readonly secrets: SecretSource;
  /** App mode's Web API base URL, when a route posts with a bot token. */
  readonly slackApiUrl?: string;
  /** The terminal instead of Slack, when no destination is set. */
  readonly postToSlack?: PostToSlack;
  /** Where messages go, for the start-up line: one route's kind, or the routes of a configuration file. */
  readonly destination: 'app' | 'webhook' | 'terminal' | 'config';
}

/** Throws SecretConfigurationError when the destination settings are unusable or inconsistent. */
export function serveRoutes(options: ServeDestinationOptions): ServeRoutes {
  // Fail at start-up, not on the first event, when the Slack URL is unusable.
  const webhookUrl = options.slackWebhookUrl === undefined ? undefined : parseSlackWebhookUrl(options.slackWebhookUrl, { allowInsecureLocalhost: true });
  const app = slackAppOf(options);
  const values: Record<string, string> = app ? { [SLACK_BOT_TOKEN_ENV]: app.token } : { [SLACK_WEBHOOK_URL_ENV]: webhookUrl ?? TERMINAL_PLACEHOLDER_URL };
  const route: RouteConfig = app
    ? {
        id: DEFAULT_ROUTE_ID,
        events: options.eventGlobs,
        slackSecretId: SLACK_BOT_TOKEN_ENV,
        slackChannelId: app.channel,
        replyBroadcast: options.replyBroadcast ?? [...Defaults.replyBroadcast],
        transformation: options.transformation,
      }
    : { id: DEFAULT_ROUTE_ID, events: options.eventGlobs, slackSecretId: SLACK_WEBHOOK_URL_ENV, transformation: options.transformation };
  return {
    routes: [route],
    secrets: environmentSecrets(values),
    ...(app ? { slackApiUrl: app.apiUrl } : {}),
    ...(app || webhookUrl !== undefined ? {} : { postToSlack: terminalSlack(options.print) }),
    destination: app ? 'app' : webhookUrl !== undefined ? 'webhook' : 'terminal',
  };
}

/**
 * Credentials read once from the environment when serve starts. They cannot change while it runs,
 * so a re-read forced by a "gone" answer may happen at once: it shows there is nothing new, and the
 * event is dead-lettered without waiting.
 */
export function environmentSecrets(values: Readonly<Record<string, string>>): SecretSource {
  return {
    load(name) {
      const value = values[name];
      if (value === undefined) return Promise.reject(new SecretConfigurationError(`the environment variable ${name} is not set`));
      return Promise.resolve(value);
    },
    minRefreshIntervalMs: 0,
  };
}

/** Stands in for Slack when no URL is configured: prints the message, answers 200 `ok`. */
function terminalSlack(print: (text: string) => void): PostToSlack {
  return (_url, message: SlackMessage) =>
    promiseOf((): SlackPostResult => {
      const lines = renderSlackMessageForTerminal(message).trimEnd().split('\n');
      print(`${lines.map((line) => (line === '' ? '' : `    ${line}`)).join('\n')}\n`);
      return { kind: 'response', status: 200, body: 'ok' };
    });
}

/** App mode's settings: a bot token and a channel together, and not with an incoming-webhook URL. */
function slackAppOf(options: ServeDestinationOptions): { readonly token: string; readonly channel: string; readonly apiUrl: string } | undefined {
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

/**
 * The routes of a configuration file (`serve --config`), each reading its credential from the
 * environment variable it names. Every route is checked at start (the variable set, the URL or
 * token usable), naming the route and the variable, never the value.
 */
export function configRoutes(
  config: NotifierConfig,
  env: Readonly<Record<string, string | undefined>>,
  options: { readonly slackApiUrl?: string },
): ServeRoutes & { readonly userCode: UserCodeRegistry } {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  const registries: UserCodeRegistry[] = [];
  const routes: RouteConfig[] = [];
  for (const [index, route] of config.routes.entries()) {
    const where = `routes[${index}] ("${route.id}")`;
    const envName = route.slackWebhookUrlEnv ?? route.slackBotTokenEnv;
    if (envName === undefined) {
      problems.push(`${where} names no environment variable for serve: add "slackWebhookUrlEnv" (or "slackBotTokenEnv" with "slackChannelId" for app mode)`);
      continue;
    }
    const raw = env[envName]?.trim();
    if (raw === undefined || raw === '') {
      problems.push(`${where}: the environment variable ${envName} is not set (it holds the route's ${route.slackBotTokenEnv ? 'bot token' : 'incoming-webhook URL'})`);
      continue;
    }
    try {
      values[envName] = route.slackBotTokenEnv ? parseSlackBotToken(raw) : parseSlackWebhookUrl(raw, { allowInsecureLocalhost: true });
    } catch (error) {
      problems.push(`${where}: ${envName}: ${(error as Error).message}`);
      continue;
    }
    let transformation: TransformationSpec = { kind: 'builtin', options: {} };
    const spec = route.transformation;
    if (spec !== undefined && 'builtin' in spec) transformation = { kind: 'builtin', options: spec.builtin };
    if (spec !== undefined && 'code' in spec) {
      const loaded = loadTransformationFile(spec.codePath, { codeId: `${route.id}:${spec.code}`, ...(spec.timeoutMs === undefined ? {} : { timeoutMs: spec.timeoutMs }) });
      transformation = loaded.spec;
      registries.push(loaded.userCode);
    }
    routes.push({
      id: route.id,
      events: route.events,
      slackSecretId: envName,
      transformation,
      ...(route.slackChannelId === undefined ? {} : { slackChannelId: route.slackChannelId, replyBroadcast: route.replyBroadcast ?? [...Defaults.replyBroadcast] }),
      ...(route.filter === undefined ? {} : { filter: route.filter }),
      ...(route.modes === undefined ? {} : { modes: route.modes }),
      ...(route.mentions === undefined ? {} : { mentions: route.mentions }),
    });
  }
  if (problems.length > 0) throw new SecretConfigurationError(problems.join('; '));
  const app = routes.some((route) => route.slackChannelId !== undefined);
  let slackApiUrl: string | undefined;
  if (app) {
    try {
      slackApiUrl = normaliseSlackApiUrl(options.slackApiUrl ?? 'https://slack.com/api/');
    } catch (error) {
      throw new SecretConfigurationError(`--slack-api-url: ${(error as Error).message}`);
    }
  }
  return {
    routes,
    secrets: environmentSecrets(values),
    ...(slackApiUrl === undefined ? {} : { slackApiUrl }),
    destination: 'config',
    userCode: { get: (codeId) => registries.map((registry) => registry.get(codeId)).find((source) => source !== undefined) },
  };
}
