import { Annotations, App } from 'aws-cdk-lib';
import { globProblems } from '../lambda/shared/event-glob';
import { existsSync } from 'node:fs';
import { COMPLETE_SECRET_ARN, DEFAULT_CONFIG_FILE } from '../lambda/shared/config-file';
import { parseSummarySchedule, WEEKDAYS } from '../lambda/summaries/schedule';
import { DodoSlackNotifierStack } from './dodo-slack-notifier-stack';
import type { DodoSlackSummaries } from './summaries';
import { parseAlertsContext } from './alerts';

/** Stack name when the `stackName` context is not set. */
export const DEFAULT_STACK_NAME = 'DodoSlackNotifier';

/**
 * Builds the notifier stack from CDK context (`-c key=value` or cdk.json) for bin/app.ts; kept
 * apart from it so tests build exactly the app `cdk synth` builds, with the context they choose.
 *
 * Context: slackWebhookSecretArn | slackWebhookSecretName, signingSecretArn | signingSecretName,
 * events (comma-separated globs), alarmEmail, stackName, summaries (`daily@09:00`, `weekly@mon-09:00`
 * or both, comma-separated) with summaryTimeZone (IANA, default UTC), config (a routing
 * configuration file; default dodo-slack.config.json when it exists), alerts (`on` or the rules to
 * turn on) with silenceAfter (seconds) and alertThresholds (`failures.minFailures=10,…`).
 */
export function buildApp(app: App): DodoSlackNotifierStack {
  const text = (key: ContextKey): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') {
      throw new Error(`context ${key} must be a string, got ${JSON.stringify(value)}; e.g. -c ${key}=${CONTEXT_EXAMPLES[key]}`);
    }
    return value.trim();
  };
  const secretArn = (key: 'slackWebhookSecretArn' | 'signingSecretArn'): string | undefined => {
    const arn = text(key);
    if (arn !== undefined && !COMPLETE_SECRET_ARN.test(arn)) {
      const nameKey = key.replace(/Arn$/, 'Name') as ContextKey;
      throw new Error(
        `context ${key} must be the complete ARN of a Secrets Manager secret, ending in the 6-character suffix ` +
          `Secrets Manager adds to the name, e.g. -c ${key}=${CONTEXT_EXAMPLES[key]}; got ${JSON.stringify(arn)}. ` +
          `Or give the secret's name: -c ${nameKey}=${CONTEXT_EXAMPLES[nameKey]}`,
      );
    }
    return arn;
  };
  const stackName = text('stackName');
  if (stackName !== undefined && !STACK_NAME.test(stackName)) {
    throw new Error(
      `context stackName must start with a letter and hold only letters, digits and "-" (at most 128), ` +
        `e.g. -c stackName=${CONTEXT_EXAMPLES.stackName}; got ${JSON.stringify(stackName)}`,
    );
  }
  const events = parseEvents(text('events'));
  const globErrors = (events ?? []).flatMap(globProblems);
  if (events !== undefined && events.length === 0) globErrors.push('it lists no glob');
  if (globErrors.length > 0) {
    throw new Error(
      `context events must be comma-separated event-type globs, e.g. -c events=${CONTEXT_EXAMPLES.events}; ${globErrors.join('; ')}. ` +
        'Leave it out to forward every event type',
    );
  }
  // The routing configuration: -c config=FILE, else dodo-slack.config.json when the app's directory has one.
  const configFile = text('config') ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const stack = new DodoSlackNotifierStack(app, stackName ?? DEFAULT_STACK_NAME, {
    ...(configFile === undefined ? {} : { routesConfigFile: configFile }),
    description: 'Dodo Payments webhooks to Slack (dodo-slack-notifier)',
    slackWebhookSecretArn: secretArn('slackWebhookSecretArn'),
    slackWebhookSecretName: text('slackWebhookSecretName'),
    signingSecretArn: secretArn('signingSecretArn'),
    signingSecretName: text('signingSecretName'),
    events,
    alarmEmail: text('alarmEmail'),
    summaries: parseSummariesContext(text('summaries'), text('summaryTimeZone')),
    alerts: parseAlertsContext(text('alerts'), text('silenceAfter'), text('alertThresholds')),
  });
  // A misspelt key (-c event=payment.*) would otherwise be ignored without a word. CDK's own keys
  // (feature flags, aws:cdk:…) all hold a ":" or a "/".
  for (const key of Object.keys(app.node.getAllContext() as Record<string, unknown>)) {
    if (/[:/]/.test(key) || (CONTEXT_KEYS as readonly string[]).includes(key)) continue;
    Annotations.of(stack).addWarningV2(
      'dodo-slack-notifier:unknownContextKey',
      `context ${key} is not read by this app; it reads ${CONTEXT_KEYS.join(', ')} (see lib/app-config.ts)`,
    );
  }
  return stack;
}

/** The context keys the app reads, with an example value each (shown in errors). */
const CONTEXT_EXAMPLES = {
  slackWebhookSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:dodo/slack-AbCdEf',
  slackWebhookSecretName: 'dodo/slack',
  signingSecretArn: 'arn:aws:secretsmanager:us-east-1:111122223333:secret:dodo/signing-AbCdEf',
  signingSecretName: 'dodo/signing',
  events: "'payment.*,refund.*,dispute.*'",
  alarmEmail: 'ops@example.com',
  stackName: DEFAULT_STACK_NAME,
  summaries: 'daily@09:00,weekly@mon-09:00',
  summaryTimeZone: 'Europe/Berlin',
  config: DEFAULT_CONFIG_FILE,
  alerts: 'on',
  silenceAfter: '21600',
  alertThresholds: 'failures.minFailures=10,disputes.ratio=0.01',
} as const;
type ContextKey = keyof typeof CONTEXT_EXAMPLES;
const CONTEXT_KEYS = Object.keys(CONTEXT_EXAMPLES) as ContextKey[];
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** `daily@09:00,weekly@mon-09:00` and a time zone → the `summaries` prop; undefined when not set. */
export function parseSummariesContext(value: string | undefined, timeZone: string | undefined): DodoSlackSummaries | undefined {
  if (value === undefined) {
    if (timeZone !== undefined) throw new Error('context summaryTimeZone applies to summaries; add -c summaries=daily@09:00');
    return undefined;
  }
  let summaries: { -readonly [K in keyof DodoSlackSummaries]: DodoSlackSummaries[K] } = timeZone === undefined ? {} : { timeZone };
  for (const text of value.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    let schedule;
    try {
      schedule = parseSummarySchedule(text);
    } catch (error) {
      throw new Error(`context summaries: ${(error as Error).message}`, { cause: error });
    }
    const time = { hour: schedule.hour, minute: schedule.minute };
    if ((schedule.kind === 'day' && summaries.daily) || (schedule.kind === 'week' && summaries.weekly)) {
      throw new Error(`context summaries takes one daily and one weekly schedule at most, got ${JSON.stringify(value)}; e.g. -c summaries=${CONTEXT_EXAMPLES.summaries}`);
    }
    if (schedule.kind === 'day') summaries = { ...summaries, daily: time };
    else summaries = { ...summaries, weekly: { ...time, weekday: WEEKDAYS[schedule.weekday! - 1] } };
  }
  return summaries;
}

/** `payment.*, dispute.opened` → ['payment.*', 'dispute.opened']; undefined when not set. */
export function parseEvents(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((glob) => glob.trim())
    .filter((glob) => glob.length > 0);
}
