/**
 * What the cost model reads from the synthesized template: each function's memory, architecture,
 * tracing and environment (the harness runs the handlers with it), the event source's batch size,
 * and the resources billed by the month whether webhooks come or not.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { buildApp } from '../../../lib/app-config';
import { DodoSlackNotifier } from '../../../lib/dodo-slack-notifier';
import type { DodoSlackNotifierProps } from '../../../lib/props';
import { ReceiverEnv, TransformerEnv } from '../../../lambda/shared/function-env';

/** The three deployments the model prices: `cdk deploy` as is, with daily and weekly summaries, and a Slack app route (threads). */
export const CONFIGURATIONS = ['default', 'summaries', 'app'] as const;
export type CostConfiguration = (typeof CONFIGURATIONS)[number];

export const SUMMARIES_CONTEXT = 'daily@09:00,weekly@mon-09:00';
export const APP_CHANNEL = 'C0TESTCHAN';

export interface FunctionSpec {
  readonly memoryMb: number;
  readonly architecture: 'arm64' | 'x86_64';
  readonly tracing: boolean;
  /** The environment variables the template sets to plain strings (references are filled in by the harness). */
  readonly env: Record<string, string>;
}

export interface Schedule {
  readonly expression: string;
  readonly invocationsPerMonth: number;
}

export interface SynthesizedNotifier {
  readonly configuration: CostConfiguration;
  readonly receiver: FunctionSpec;
  readonly transformer: FunctionSpec;
  readonly summary: FunctionSpec | undefined;
  readonly batchSize: number;
  readonly maxConcurrency: number;
  readonly alarmMetrics: number;
  readonly alarms: number;
  readonly dashboards: number;
  /** Secrets the functions read: created by the stack or passed in (either way on the bill). */
  readonly secrets: number;
  readonly createdSecrets: number;
  readonly kmsKeys: number;
  readonly schedules: readonly Schedule[];
  readonly eventSourceMappings: number;
  readonly tables: number;
  readonly customMetricsDeclared: number;
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

/**
 * Synthesizes a configuration. Without `props` the default and summaries configurations are the
 * app `cdk synth` builds (lib/app-config.ts), the app configuration the construct with a bot-token
 * route; with `props` the construct with those props (the cuts compare props this way).
 */
export function synthesize(configuration: CostConfiguration, props?: DodoSlackNotifierProps): SynthesizedNotifier {
  const context: Record<string, unknown> = { 'aws:cdk:bundling-stacks': [] };
  let stack: Stack;
  if (configuration !== 'app' && props === undefined) {
    stack = buildApp(new App({ context: configuration === 'summaries' ? { ...context, summaries: SUMMARIES_CONTEXT } : context }));
  } else {
    stack = new Stack(new App({ context }), 'CostModel', { env: { account: '123456789012', region: 'us-east-1' } });
    const base: DodoSlackNotifierProps =
      configuration === 'app'
        ? { slackBotTokenSecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'BotToken', 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo/slack-bot-AbCdEf'), slackChannelId: APP_CHANNEL }
        : configuration === 'summaries'
          ? { summaries: { daily: { hour: 9 }, weekly: { weekday: 'mon', hour: 9 } } }
          : {};
    new DodoSlackNotifier(stack, 'Notifier', { ...base, ...props });
  }
  return read(configuration, Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> });
}

function read(configuration: CostConfiguration, template: { Resources: Record<string, Resource> }): SynthesizedNotifier {
  const resources = Object.values(template.Resources);
  const ofType = (type: string) => resources.filter((resource) => resource.Type === type);
  const functions = ofType('AWS::Lambda::Function').filter((fn) => variables(fn).POWERTOOLS_SERVICE_NAME !== undefined);
  const withVariable = (name: string, without?: string) => functions.find((fn) => name in variables(fn) && (without === undefined || !(without in variables(fn))));
  const receiver = withVariable(ReceiverEnv.SigningSecretArn);
  const transformer = withVariable(TransformerEnv.Routes);
  const summary = withVariable(TransformerEnv.SummaryTableName, TransformerEnv.Routes);
  if (!receiver || !transformer) throw new Error('the template has no receiver or transformer function');
  const mappings = ofType('AWS::Lambda::EventSourceMapping');
  const alarms = ofType('AWS::CloudWatch::Alarm');
  const secretReads = new Set<string>();
  for (const policy of ofType('AWS::IAM::Policy')) {
    const statements = ((policy.Properties?.PolicyDocument as { Statement?: { Action: string | string[]; Resource: unknown }[] })?.Statement ?? []);
    for (const statement of statements) {
      const actions = ([] as string[]).concat(statement.Action);
      if (!actions.includes('secretsmanager:GetSecretValue')) continue;
      for (const resource of ([] as unknown[]).concat(statement.Resource)) secretReads.add(JSON.stringify(resource));
    }
  }
  const schedules = ofType('AWS::Scheduler::Schedule').map((schedule) => {
    const value = schedule.Properties?.ScheduleExpression;
    const expression = typeof value === 'string' ? value : '';
    return { expression, invocationsPerMonth: invocationsPerMonth(expression) };
  });
  return {
    configuration,
    receiver: spec(receiver),
    transformer: spec(transformer),
    summary: summary ? spec(summary) : undefined,
    batchSize: Number(mappings[0]?.Properties?.BatchSize ?? 10),
    maxConcurrency: Number((mappings[0]?.Properties?.ScalingConfig as { MaximumConcurrency?: number } | undefined)?.MaximumConcurrency ?? 1000),
    alarms: alarms.length,
    alarmMetrics: alarms.reduce((sum, alarm) => sum + (Array.isArray(alarm.Properties?.Metrics) ? (alarm.Properties.Metrics as { MetricStat?: unknown }[]).filter((m) => m.MetricStat).length : 1), 0),
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    secrets: secretReads.size,
    createdSecrets: ofType('AWS::SecretsManager::Secret').length,
    kmsKeys: ofType('AWS::KMS::Key').length,
    schedules,
    eventSourceMappings: mappings.length,
    tables: ofType('AWS::DynamoDB::Table').length,
    customMetricsDeclared: 0,
  };
}

function variables(fn: Resource): Record<string, unknown> {
  return ((fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
}

function spec(fn: Resource): FunctionSpec {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables(fn))) if (typeof value === 'string') env[name] = value;
  const architectures = (fn.Properties?.Architectures as string[] | undefined) ?? ['x86_64'];
  return {
    memoryMb: Number(fn.Properties?.MemorySize ?? 128),
    architecture: architectures[0] === 'arm64' ? 'arm64' : 'x86_64',
    tracing: (fn.Properties?.TracingConfig as { Mode?: string } | undefined)?.Mode === 'Active',
    env,
  };
}

/** Average runs a month of a Scheduler expression: cron with a day-of-week field runs weekly or on those days, else daily; rate(...) by its period. */
export function invocationsPerMonth(expression: string): number {
  const daysPerMonth = 365.25 / 12;
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const minutes = Number(rate[1]) * (rate[2].startsWith('minute') ? 1 : rate[2].startsWith('hour') ? 60 : 1440);
    return (daysPerMonth * 1440) / minutes;
  }
  const cron = /^cron\((.+)\)$/.exec(expression);
  if (!cron) return 0;
  const [, , dayOfMonth, , dayOfWeek] = cron[1].split(/\s+/);
  if (dayOfWeek && dayOfWeek !== '?' && dayOfWeek !== '*') return (daysPerMonth / 7) * dayOfWeek.split(',').length;
  if (dayOfMonth && dayOfMonth !== '*' && dayOfMonth !== '?') return 1;
  return daysPerMonth;
}
