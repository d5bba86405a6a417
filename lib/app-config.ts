import { App } from 'aws-cdk-lib';
import { parseSummarySchedule } from '../lambda/summaries/schedule';
import { DodoSlackNotifierStack } from './dodo-slack-notifier-stack';
import type { DodoSlackSummaries, SummaryWeekday } from './summaries';

/** Stack name when the `stackName` context is not set. */
export const DEFAULT_STACK_NAME = 'DodoSlackNotifier';

/**
 * Builds the notifier stack from CDK context (`-c key=value` or cdk.json) for bin/app.ts; kept
 * apart from it so tests build exactly the app `cdk synth` builds, with the context they choose.
 *
 * Context: slackWebhookSecretArn | slackWebhookSecretName, signingSecretArn | signingSecretName,
 * events (comma-separated globs), alarmEmail, stackName, summaries (`daily@09:00`, `weekly@mon-09:00`
 * or both, comma-separated) with summaryTimeZone (IANA, default UTC).
 */
export function buildApp(app: App): DodoSlackNotifierStack {
  const text = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new Error(`context ${key} must be a string, got ${JSON.stringify(value)}`);
    return value.trim();
  };
  return new DodoSlackNotifierStack(app, text('stackName') ?? DEFAULT_STACK_NAME, {
    description: 'Dodo Payments webhooks to Slack (dodo-slack-notifier)',
    slackWebhookSecretArn: text('slackWebhookSecretArn'),
    slackWebhookSecretName: text('slackWebhookSecretName'),
    signingSecretArn: text('signingSecretArn'),
    signingSecretName: text('signingSecretName'),
    events: parseEvents(text('events')),
    alarmEmail: text('alarmEmail'),
    summaries: parseSummariesContext(text('summaries'), text('summaryTimeZone')),
  });
}

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
      throw new Error(`context summaries: ${(error as Error).message}`);
    }
    const time = { hour: schedule.hour, minute: schedule.minute };
    if (schedule.kind === 'day') summaries = { ...summaries, daily: time };
    else summaries = { ...summaries, weekly: { ...time, weekday: (['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const)[schedule.weekday! - 1] as SummaryWeekday } };
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
