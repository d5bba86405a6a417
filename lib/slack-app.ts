/**
 * The construct's part of Slack app mode (a bot token and a channel instead of an incoming webhook;
 * README "Threads and live cards"): the checks on the props, the thread table, and what the
 * transformer is granted and told about it.
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { Defaults } from '../lambda/shared/defaults';
import { Limits } from '../lambda/shared/limits';
import { globProblems } from '../lambda/shared/event-glob';
import { TransformerEnv } from '../lambda/shared/function-env';
import { CHANNEL_ID_SHAPE } from '../lambda/transformer/slack-token';
import { THREAD_TABLE_PARTITION_KEY, THREAD_TABLE_TTL_ATTRIBUTE } from '../lambda/transformer/threads/thread-store';
import type { DodoSlackNotifierProps } from './props';

/** Where one route posts: an incoming webhook, or a bot token and a channel. */
interface Destination {
  readonly slackWebhookSecret?: secretsmanager.ISecret;
  readonly slackBotTokenSecret?: secretsmanager.ISecret;
  readonly slackChannelId?: string;
  readonly replyBroadcast?: string[];
}

/** Problems with the app-mode props of the default route and every route (validateProps adds them to its own). */
export function slackAppProblems(props: DodoSlackNotifierProps): string[] {
  const problems: string[] = [];
  const check = (where: string, destination: Destination, isDefault: boolean) => {
    const prefix = isDefault ? '' : `${where}: `;
    const name = (prop: string) => (isDefault ? prop : `${where} ${prop}`);
    if (destination.slackWebhookSecret !== undefined && destination.slackBotTokenSecret !== undefined) {
      problems.push(
        `${prefix}set exactly one of slackWebhookSecret (incoming webhook) and slackBotTokenSecret (Slack app: threads and live cards)${isDefault ? ' for the default route' : ''}, not both`,
      );
    }
    if (!isDefault && destination.slackWebhookSecret === undefined && destination.slackBotTokenSecret === undefined) {
      problems.push(`${prefix}set exactly one of slackWebhookSecret (incoming webhook) and slackBotTokenSecret with slackChannelId (Slack app)`);
    }
    if (destination.slackBotTokenSecret !== undefined && destination.slackChannelId === undefined) {
      problems.push(`${name('slackBotTokenSecret')} needs ${name('slackChannelId')}: the ID of the channel to post to (C…, at the bottom of the channel's details)`);
    }
    if (destination.slackChannelId !== undefined && destination.slackBotTokenSecret === undefined) {
      problems.push(`${name('slackChannelId')} applies only with ${name('slackBotTokenSecret')} (an incoming webhook already names its channel)`);
    }
    const channel = destination.slackChannelId;
    if (channel !== undefined && !Token.isUnresolved(channel) && !CHANNEL_ID_SHAPE.test(channel)) {
      problems.push(`${name('slackChannelId')} must be a channel ID such as C0123456789 (not a name like #payments), got ${JSON.stringify(channel)}`);
    }
    if (destination.replyBroadcast !== undefined) {
      if (destination.slackBotTokenSecret === undefined) problems.push(`${name('replyBroadcast')} applies only with ${name('slackBotTokenSecret')} (incoming webhooks have no threads)`);
      for (const glob of destination.replyBroadcast) {
        if (!Token.isUnresolved(glob)) problems.push(...globProblems(glob).map((problem) => `${name('replyBroadcast')}: ${problem}`));
      }
    }
  };
  check('default route', props, true);
  for (const [index, route] of (props.routes ?? []).entries()) check(`routes[${index}] (${JSON.stringify(route.id)})`, route, false);

  const ttl = props.threadTtl;
  if (ttl !== undefined && !ttl.isUnresolved()) {
    const days = ttl.toMilliseconds() / Duration.days(1).toMilliseconds();
    const [minDays, maxDays] = [Limits.threadTtlSeconds.min / 86_400, Limits.threadTtlSeconds.max / 86_400];
    if (!Number.isInteger(days) || days < minDays || days > maxDays) problems.push(`threadTtl must be whole days from ${minDays} to ${maxDays}, got ${ttl.toHumanString()}`);
  }
  if (ttl !== undefined && !usesSlackApp(props)) problems.push('threadTtl applies only when a route posts with slackBotTokenSecret');
  return problems;
}

/** Whether any route (the default one included) posts with a bot token. */
export function usesSlackApp(props: DodoSlackNotifierProps): boolean {
  return props.slackBotTokenSecret !== undefined || (props.routes ?? []).some((route) => route.slackBotTokenSecret !== undefined);
}

/**
 * The table of threads: per route and thread key, the parent's channel and ts, its card and the
 * newest event time. Kept when the stack is deleted unless `removalPolicy` says otherwise: it says
 * where months of threads are. Items expire `threadTtl` after their last event.
 */
export class SlackThreadTable extends Construct {
  public readonly table: dynamodb.Table;
  public readonly ttl: Duration;

  constructor(scope: Construct, id: string, props: { readonly ttl?: Duration; readonly encryptionKey: kms.IKey; readonly removalPolicy: RemovalPolicy }) {
    super(scope, id);
    this.ttl = props.ttl ?? Duration.seconds(Defaults.threadTtlSeconds);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: THREAD_TABLE_PARTITION_KEY, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: THREAD_TABLE_TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // On the notifier's key, like its other tables (the transformer is granted the key once).
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      // The notifier's removalPolicy (default RETAIN): a replaced table would forget where every thread is.
      removalPolicy: props.removalPolicy,
    });
  }

  /** What the transformer needs: read and conditional writes of single items, and where the table is. */
  grantTransformer(grantee: iam.IGrantable): void {
    this.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem');
  }

  /** The transformer environment entries of app mode. */
  environment(tier3CallsPerMinutePerInstance: number): Record<string, string> {
    return {
      [TransformerEnv.ThreadTableName]: this.table.tableName,
      [TransformerEnv.ThreadTtlSeconds]: String(this.ttl.toSeconds()),
      [TransformerEnv.SlackTier3CallsPerMinute]: String(tier3CallsPerMinutePerInstance),
    };
  }
}
