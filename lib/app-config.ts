import { App } from 'aws-cdk-lib';
import { DodoSlackNotifierStack } from './dodo-slack-notifier-stack';

/** Stack name when the `stackName` context is not set. */
export const DEFAULT_STACK_NAME = 'DodoSlackNotifier';

/**
 * Builds the notifier stack from CDK context (`-c key=value` or cdk.json) for bin/app.ts; kept
 * apart from it so tests build exactly the app `cdk synth` builds, with the context they choose.
 *
 * Context: slackWebhookSecretArn | slackWebhookSecretName, signingSecretArn | signingSecretName,
 * events (comma-separated globs), alarmEmail, stackName.
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
  });
}

/** `payment.*, dispute.opened` → ['payment.*', 'dispute.opened']; undefined when not set. */
export function parseEvents(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return value
    .split(',')
    .map((glob) => glob.trim())
    .filter((glob) => glob.length > 0);
}
