/**
 * The construct: every resource of the flow and how they are wired. What users configure and its
 * validation live in props.ts; metrics, alarms and the dashboard in monitoring.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Annotations, Duration, Fn, Names, RemovalPolicy, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { Defaults } from '../lambda/shared/defaults';
import { unknownGlobWarnings } from '../lambda/shared/event-glob';
import { USER_CODE_MEMORY_GROWTH_MB } from '../lambda/sandbox/runner';
import { DEFAULT_ROUTE_ID, ReceiverEnv, RouteConfig, SECRET_PLACEHOLDER, TransformerEnv, type RouteMention } from '../lambda/shared/function-env';
import type { RouteFilter } from '../lambda/shared/route-filter';
import type { WebhookMode } from '../lambda/shared/webhook';
import { METRICS_NAMESPACE, MetricName, ServiceName } from '../lambda/shared/metrics';
import { WEBHOOK_PATH } from '../lambda/shared/webhook';
import { USER_CODE_FILE } from '../lambda/sandbox/registry';
import { LAMBDA_BUNDLING } from './bundling';
import { locateHandler, locatePrebundledHandler, HandlerName, PREBUNDLED_HANDLER_FILE } from './lambda-entry';
import { CONTROL_TOWER_DISABLED_RULES } from './control-tower';
import { createAlarms, createDashboard, DodoSlackNotifierAlarms, notifierMetric } from './monitoring';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import {
  DEFAULT_THROTTLING_BURST_LIMIT,
  DEFAULT_THROTTLING_RATE_LIMIT,
  DEFAULT_TRANSFORMER_MEMORY_SIZE,
  USER_CODE_TRANSFORMER_MEMORY_SIZE,
  DodoSlackNotifierProps,
  hasDefaultRoute,
  knownGlobs,
  validateProps,
} from './props';
import { grantTableKeyUse } from './encryption';
import { NotifierSummaries } from './summaries';
import { checkDodoApiProps, grantDodoApiKey } from './dodo-api-key';
import { NotifierAlerts } from './alerts';
import { Transformation } from './transformation';
import { SlackThreadTable, usesSlackApp } from './slack-app';

/**
 * The transformer's SQS event source runs at most this many function instances. Lambda's minimum
 * for `maxConcurrency`; together with the per-instance delivery rate it keeps us within Slack's
 * limit of about one message per second per incoming webhook.
 */
const TRANSFORMER_MAX_CONCURRENCY = 2;

/** Transformer timeout; the queue's visibility timeout is six times this, as AWS recommends. */
const TRANSFORMER_TIMEOUT = Duration.seconds(60);
/** Dodo waits 15 s for an answer; the receiver must answer well inside that. */
const RECEIVER_TIMEOUT = Duration.seconds(10);
const TRANSFORMER_BATCH_SIZE = 5;
const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;
/** Global the transformer bundle reads its embedded user transformations from (see lambda/sandbox/registry.ts). */
const USER_CODE_DEFINE = '__DODO_SLACK_USER_CODE__';

interface ResolvedRoute {
  readonly id: string;
  readonly events: readonly string[];
  /** The incoming-webhook URL, or in app mode (`slackChannelId` set) the bot token. */
  readonly slackSecret: secretsmanager.ISecret;
  readonly slackChannelId?: string;
  readonly replyBroadcast?: readonly string[];
  readonly transformation: Transformation;
  readonly filter?: RouteFilter;
  readonly modes?: readonly WebhookMode[];
  readonly mentions?: readonly RouteMention[];
}

/**
 * Dodo Payments webhooks to Slack: API Gateway → receiver (signature check) → SQS → transformer
 * (dedupe, transform, post) → Slack, with a dead-letter queue, alarms and a dashboard.
 */
export class DodoSlackNotifier extends Construct {
  /** The REST API Dodo posts to. */
  public readonly api: apigateway.RestApi;
  /** The URL to paste into Dodo's webhook settings (`…/webhooks/dodo`). */
  public readonly endpointUrl: string;
  /** Verified webhooks waiting for delivery. */
  public readonly queue: sqs.Queue;
  /** Webhooks that could not be delivered; redrive them from the SQS console after a fix. */
  public readonly deadLetterQueue: sqs.Queue;
  /** Verifies signatures and queues webhooks. */
  public readonly receiverFunction: nodejs.NodejsFunction;
  /** Dedupes, transforms and posts to Slack. */
  public readonly transformerFunction: nodejs.NodejsFunction;
  /** Conditional: the default route's Slack secret; undefined when `routes` is given without `slackWebhookSecret`. */
  public readonly slackWebhookSecret?: secretsmanager.ISecret;
  /** Conditional: the default route's bot token secret (app mode); undefined when it posts to an incoming webhook. */
  public readonly slackBotTokenSecret?: secretsmanager.ISecret;
  /** Conditional: threads and cards of app-mode routes; undefined when no route has a bot token. */
  public readonly threadTable?: dynamodb.Table;
  /** The Dodo signing key(s). */
  public readonly signingSecret: secretsmanager.ISecret;
  /** Remembers delivered webhook ids (Powertools idempotency records) for `deduplicationWindow`. */
  public readonly deduplicationTable: dynamodb.Table;
  /** Topic the alarms notify (created or passed in). */
  public readonly alarmTopic: sns.ITopic;
  /** The alarms, by stable name. */
  public readonly alarms: DodoSlackNotifierAlarms;
  /** Conditional: one dashboard with the whole flow; undefined unless `dashboard: true`. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** Encrypts the log groups, the tables (deduplication, summaries, threads) and the alarm topic it creates (created or passed in). */
  public readonly encryptionKey: kms.IKey;

  /**
   * The AWS Control Tower proactive controls (cfn-guard rule names) the notifier does not meet by
   * default, for `new CfnGuardValidator({ disabledRules: DodoSlackNotifier.controlTowerDisabledRules })`
   * from `@cdklabs/cdk-validator-cfnguard`; each one and its reason is in lib/control-tower.ts and the README.
   */
  public static readonly controlTowerDisabledRules: readonly string[] = CONTROL_TOWER_DISABLED_RULES.map((rule) => rule.rule);
  /** Conditional: the summaries' table, function, schedules and alarm; undefined without `summaries`. */
  public readonly summaries?: NotifierSummaries;
  /** Conditional: the alerts' function, schedule and alarms; undefined without `alerts`. */
  public readonly alerts?: NotifierAlerts;

  constructor(scope: Construct, id: string, props: DodoSlackNotifierProps = {}) {
    super(scope, id);
    validateProps(props);
    for (const warning of unknownGlobWarnings(knownGlobs(props))) {
      Annotations.of(this).addWarningV2('dodo-slack-notifier:unknownEventGlob', warning);
    }
    for (const warning of unknownGlobWarnings(props.rollupNeverFold ?? [])) {
      Annotations.of(this).addWarningV2('dodo-slack-notifier:unknownEventGlob', `rollupNeverFold: ${warning}`);
    }

    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const tracing = props.tracing ?? true;
    this.encryptionKey = props.encryptionKey ?? new kms.Key(this, 'EncryptionKey', {
      description: 'Encrypts the Dodo Slack notifier logs, deduplication table and alarm topic',
      enableKeyRotation: true,
      removalPolicy,
    });
    if (props.encryptionKey === undefined) {
      // Only AWS services (DynamoDB here) may create grants on the key (Control Tower's CT.KMS.PR.3).
      this.encryptionKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'GrantsOnlyForAwsServices',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['kms:CreateGrant'],
          resources: ['*'],
          conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
        }),
      );
    }
    this.allowServicesToUseKey();
    // The handlers and `dodo-slack serve` fall back to the same Defaults when a setting is missing.
    const timestampTolerance = props.timestampTolerance ?? Duration.seconds(Defaults.timestampToleranceSeconds);
    const secretCacheTtl = props.secretCacheTtl ?? Duration.seconds(Defaults.secretCacheTtlSeconds);
    const maxReceiveCount = props.maxReceiveCount ?? Defaults.maxReceiveCount;
    const deduplicationWindow = props.deduplicationWindow ?? Duration.seconds(Defaults.deduplicationWindowSeconds);
    const deliveryRatePerSecond = props.deliveryRatePerSecond ?? Defaults.deliveryRatePerSecond;
    const slackTimeout = props.slackTimeout ?? Duration.millis(Defaults.slackTimeoutMs);
    const rollupAfter = props.rollupAfter ?? Duration.seconds(Defaults.rollupAfterSeconds);

    // Secrets: passed in, or created with a placeholder the handlers recognise.
    this.signingSecret =
      props.signingSecret ??
      new secretsmanager.Secret(this, 'SigningSecret', {
        description: 'Dodo Payments webhook signing key(s), whitespace-separated while rotating',
        secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
        removalPolicy,
      });
    if (props.slackBotTokenSecret !== undefined) {
      this.slackBotTokenSecret = props.slackBotTokenSecret;
    } else if (hasDefaultRoute(props)) {
      this.slackWebhookSecret =
        props.slackWebhookSecret ??
        new secretsmanager.Secret(this, 'SlackWebhookSecret', {
          description: 'Slack incoming-webhook URL for Dodo Payments notifications (plain URL or {"url": "..."})',
          secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
          removalPolicy,
        });
    }
    const defaultSecret = this.slackBotTokenSecret ?? this.slackWebhookSecret;
    const routes: ResolvedRoute[] = [
      ...(defaultSecret
        ? [
            {
              id: DEFAULT_ROUTE_ID,
              events: props.events ?? ['*'],
              slackSecret: defaultSecret,
              ...slackAppOfRoute(props),
              transformation: props.transformation ?? Transformation.builtin(),
            },
          ]
        : []),
      ...(props.routes ?? []).map((route) => ({
        id: route.id,
        events: route.events,
        // validateProps made sure exactly one of them is set.
        slackSecret: (route.slackBotTokenSecret ?? route.slackWebhookSecret)!,
        ...slackAppOfRoute(route),
        transformation: route.transformation ?? Transformation.builtin(),
        ...(route.filter === undefined ? {} : { filter: route.filter }),
        ...(route.modes === undefined ? {} : { modes: route.modes }),
        ...(route.mentions === undefined ? {} : { mentions: route.mentions }),
      })),
    ];

    // User code goes into the transformer bundle; the routes only carry its id.
    const userCode: Record<string, string> = {};
    const routeConfigs: RouteConfig[] = routes.map((route) => {
      const bound = route.transformation._bind(route.id);
      if (bound.code) userCode[bound.code.codeId] = bound.code.source;
      return {
        id: route.id,
        events: [...route.events],
        slackSecretId: route.slackSecret.secretArn,
        ...(route.slackChannelId === undefined ? {} : { slackChannelId: route.slackChannelId }),
        ...(route.replyBroadcast === undefined ? {} : { replyBroadcast: [...route.replyBroadcast] }),
        transformation: bound.spec,
        ...(route.filter === undefined ? {} : { filter: route.filter }),
        ...(route.modes === undefined ? {} : { modes: [...route.modes] }),
        ...(route.mentions === undefined ? {} : { mentions: [...route.mentions] }),
      };
    });
    checkRoutesFitTheEnvironment(routeConfigs);

    // Queues. The queue has a fixed name so the dead-letter queue's redrive-allow policy can name
    // it by ARN: a reference to the queue's ARN would be a cycle (the queue names the DLQ).
    // The name ends in the first 8 characters of the stack's id (a UUID per stack creation), so a
    // queue retained by a deleted stack never collides with the queue of the stack deployed again.
    const stack = Stack.of(this);
    const stackUuidStart = Fn.select(0, Fn.split('-', Fn.select(2, Fn.split('/', stack.stackId))));
    const queueName = `${Names.uniqueResourceName(this, { maxLength: 64, separator: '-' })}-Queue-${stackUuidStart}`;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
      redriveAllowPolicy: {
        redrivePermission: sqs.RedrivePermission.BY_QUEUE,
        sourceQueues: [
          sqs.Queue.fromQueueArn(this, 'SourceQueueArn', `arn:${stack.partition}:sqs:${stack.region}:${stack.account}:${queueName}`),
        ],
      },
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName,
      visibilityTimeout: Duration.seconds(TRANSFORMER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    // Deduplication table, in the shape Powertools' DynamoDBPersistenceLayer expects by default.
    this.deduplicationTable = new dynamodb.Table(this, 'DeduplicationTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiration',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      // Retained by default: a replaced table would forget delivered webhook ids, and Dodo's
      // retries and redrives within deduplicationWindow would post twice.
      removalPolicy,
    });

    // Threads and cards of app-mode routes (lib/slack-app.ts).
    const threads = usesSlackApp(props) ? new SlackThreadTable(this, 'SlackThreads', { ...(props.threadTtl ? { ttl: props.threadTtl } : {}), encryptionKey: this.encryptionKey, removalPolicy }) : undefined;
    this.threadTable = threads?.table;

    // Receiver.
    const eventFilter = unionOfGlobs(routes.flatMap((route) => route.events));
    this.receiverFunction = this.handlerFunction('Receiver', 'receiver', {
      description: 'Dodo Payments webhooks: verifies the Standard Webhooks signature and queues the event',
      timeout: RECEIVER_TIMEOUT,
      memorySize: 256,
      logRetention,
      tracing,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      serviceName: ServiceName.Receiver,
      userCode: {},
      environment: {
        [ReceiverEnv.SigningSecretArn]: this.signingSecret.secretArn,
        [ReceiverEnv.QueueUrl]: this.queue.queueUrl,
        [ReceiverEnv.EventFilter]: JSON.stringify(eventFilter),
        [ReceiverEnv.TimestampToleranceSeconds]: String(timestampTolerance.toSeconds()),
        [ReceiverEnv.SecretCacheTtlSeconds]: String(secretCacheTtl.toSeconds()),
      },
    });
    this.signingSecret.grantRead(this.receiverFunction);
    this.queue.grantSendMessages(this.receiverFunction);

    // Transformer. User code's sandbox needs room to grow (USER_CODE_TRANSFORMER_MEMORY_SIZE).
    const runsUserCode = routeConfigs.some((route) => route.transformation.kind === 'code');
    const transformerMemorySize = props.transformerMemorySize ?? (runsUserCode ? USER_CODE_TRANSFORMER_MEMORY_SIZE : DEFAULT_TRANSFORMER_MEMORY_SIZE);
    if (runsUserCode && !Token.isUnresolved(transformerMemorySize) && transformerMemorySize < USER_CODE_TRANSFORMER_MEMORY_SIZE) {
      throw new Error(
        `DodoSlackNotifier: invalid props:\n- transformerMemorySize must be at least ${USER_CODE_TRANSFORMER_MEMORY_SIZE} MB when a route runs user code ` +
          `(its sandbox may grow the function by ${USER_CODE_MEMORY_GROWTH_MB} MB for one event), got ${transformerMemorySize}`,
      );
    }
    this.transformerFunction = this.handlerFunction('Transformer', 'transformer', {
      description: 'Dodo Payments webhooks: dedupes, transforms and posts queued events to Slack',
      timeout: TRANSFORMER_TIMEOUT,
      memorySize: transformerMemorySize,
      logRetention,
      tracing,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      serviceName: ServiceName.Transformer,
      userCode,
      environment: {
        [TransformerEnv.Routes]: JSON.stringify(routeConfigs),
        [TransformerEnv.QueueUrl]: this.queue.queueUrl,
        [TransformerEnv.DeadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [TransformerEnv.IdempotencyTableName]: this.deduplicationTable.tableName,
        [TransformerEnv.DeduplicationWindowSeconds]: String(deduplicationWindow.toSeconds()),
        [TransformerEnv.SecretCacheTtlSeconds]: String(secretCacheTtl.toSeconds()),
        [TransformerEnv.MaxReceiveCount]: String(maxReceiveCount),
        [TransformerEnv.SlackTimeoutMs]: String(slackTimeout.toMilliseconds()),
        // Each concurrent instance gets its share of Slack's per-webhook budget.
        [TransformerEnv.DeliveryRatePerSecond]: String(deliveryRatePerSecond / TRANSFORMER_MAX_CONCURRENCY),
        [TransformerEnv.DeliveryBurst]: String(Defaults.deliveryBurst),
        [TransformerEnv.RollupAfterSeconds]: String(rollupAfter.toSeconds()),
        ...(props.rollupNeverFold?.length ? { [TransformerEnv.RollupNeverFold]: props.rollupNeverFold.join(',') } : {}),
        ...(threads ? threads.environment(Defaults.slackTier3CallsPerMinute / TRANSFORMER_MAX_CONCURRENCY) : {}),
      },
    });
    this.transformerFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: TRANSFORMER_BATCH_SIZE,
        reportBatchItemFailures: true,
        maxConcurrency: TRANSFORMER_MAX_CONCURRENCY,
      }),
    );
    // Roll-ups drain a backlog with sqs:ReceiveMessage and delete what a posted roll-up covered with
    // sqs:DeleteMessage: both come with the event source's consume grant (test/lib/resources.test.ts checks them).
    // The transformer sets visibility itself (Slack's Retry-After), not only through the event source.
    this.queue.grant(this.transformerFunction, 'sqs:ChangeMessageVisibility');
    // A record whose turn never came (Slack 429, no time left) is re-queued as a fresh message at
    // its last receive, instead of being moved to the DLQ by SQS without a reason.
    this.queue.grantSendMessages(this.transformerFunction);
    // Dead-letters permanent failures directly, with the reason as attributes.
    this.deadLetterQueue.grantSendMessages(this.transformerFunction);
    for (const secret of uniqueSecrets(routes.map((route) => route.slackSecret))) {
      secret.grantRead(this.transformerFunction);
    }
    checkDodoApiProps(props.dodoApiKeySecret, props.dodoApiUrl);
    grantDodoApiKey(this.transformerFunction, props.dodoApiKeySecret, props.dodoApiUrl);
    threads?.grantTransformer(this.transformerFunction);
    // Exactly what Powertools idempotency does: get, put (conditional), update, delete of one item.
    this.deduplicationTable.grant(
      this.transformerFunction,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    // The table is encrypted with the key: reading and writing items needs it.
    grantTableKeyUse(this.encryptionKey, this.transformerFunction);

    // API.
    const accessLogGroup = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const createCloudWatchRole = props.createApiGatewayCloudWatchRole ?? true;
    this.api = new apigateway.RestApi(this, 'Api', {
      description: 'Receives Dodo Payments webhooks',
      // API Gateway metrics are keyed by this name: unique per notifier, so two never share alarms.
      restApiName: Names.uniqueResourceName(this, { maxLength: 128 }),
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      cloudWatchRole: createCloudWatchRole,
      deployOptions: {
        throttlingRateLimit: props.throttlingRateLimit ?? DEFAULT_THROTTLING_RATE_LIMIT,
        throttlingBurstLimit: props.throttlingBurstLimit ?? DEFAULT_THROTTLING_BURST_LIMIT,
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        // Errors only: execution logs at INFO would include request metadata we do not need.
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: tracing,
      },
    });
    // Only the invoke permission for the deployed stage, not the one for the console's test
    // invoke (Control Tower's CT.LAMBDA.PR.2 refuses a permission without a source account).
    const webhookMethod = this.api.root
      .resourceForPath(WEBHOOK_PATH)
      .addMethod('POST', new apigateway.LambdaIntegration(this.receiverFunction, { proxy: true, allowTestInvoke: false }));
    for (const child of webhookMethod.node.children) {
      if (child instanceof lambda.CfnPermission) child.sourceAccount = stack.account;
    }
    this.endpointUrl = this.api.urlForPath(WEBHOOK_PATH);
    // RestApi adds an output with the stage URL (…/prod/), which is not where Dodo posts; the
    // stack outputs endpointUrl instead, and a user's app shows what it chooses.
    this.api.node.tryRemoveChild('Endpoint');

    // Alarms.
    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'Dodo Slack notifier alarms',
        enforceSSL: true,
        // A customer-managed key: CloudWatch alarms cannot publish to a topic under aws/sns.
        masterKey: this.encryptionKey,
      });
    }
    if (props.alarmEmail !== undefined) {
      this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(props.alarmEmail));
    }
    this.alarms = createAlarms(this);
    const alarmAction = new cloudwatchActions.SnsAction(this.alarmTopic);
    for (const alarm of Object.values(this.alarms) as cloudwatch.Alarm[]) {
      alarm.addAlarmAction(alarmAction);
    }

    if (props.dashboard === true) this.dashboard = createDashboard(this);

    // Alerts read the summaries' counters: with alerts alone, the counters come without a schedule.
    if (props.summaries || props.alerts) {
      this.summaries = new NotifierSummaries(this, 'Summaries', {
        summaries: props.summaries ?? {},
        queue: this.queue,
        transformerFunction: this.transformerFunction,
        encryptionKey: this.encryptionKey,
        removalPolicy,
        createFunction: (environment) =>
          this.handlerFunction('Summary', 'summaries', {
            description: 'Dodo Payments webhooks: composes the scheduled summaries and queues them for delivery',
            timeout: Duration.seconds(60),
            memorySize: 256,
            logRetention,
            tracing,
            vpc: props.vpc,
            vpcSubnets: props.vpcSubnets,
            serviceName: ServiceName.Summaries,
            userCode: {},
            environment,
          }),
      });
      this.summaries.errorsAlarm.addAlarmAction(alarmAction);
      grantDodoApiKey(this.summaries.summaryFunction, props.dodoApiKeySecret, props.dodoApiUrl);
    }
    if (props.alerts && this.summaries) {
      this.alerts = new NotifierAlerts(this, 'Alerts', {
        alerts: props.alerts,
        table: this.summaries.table,
        queue: this.queue,
        routeIds: routes.map((route) => route.id),
        encryptionKey: this.encryptionKey,
        webhookQueued: this.metricWebhookQueued(),
        createFunction: (environment) =>
          this.handlerFunction('Alerts', 'alerts', {
            description: 'Dodo Payments webhooks: evaluates the alert rules and queues alerts for delivery',
            timeout: Duration.seconds(60),
            memorySize: 256,
            logRetention,
            tracing,
            vpc: props.vpc,
            vpcSubnets: props.vpcSubnets,
            serviceName: ServiceName.Alerts,
            userCode: {},
            environment,
          }),
      });
      this.alerts.errorsAlarm.addAlarmAction(alarmAction);
      this.alerts.silenceAlarm?.addAlarmAction(alarmAction);
      this.alerts.silenceAlarm?.addOkAction(alarmAction);
    }

    acknowledgeNagFindings(this, { tracing });
  }

  /**
   * Any custom metric of the notifier by name (`MessageDelivered`, `SignatureFailure`, …), with the
   * `service` dimension its function emits it with. Sum over 5 minutes by default. Throws for a
   * name the notifier does not emit.
   */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return notifierMetric(metricName, props);
  }

  /** Webhooks that reached the receiver. Sum over 5 minutes by default. */
  public metricWebhookReceived(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.WebhookReceived, props);
  }
  /** Verified webhooks put on the queue. Sum over 5 minutes by default. */
  public metricWebhookQueued(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.WebhookQueued, props);
  }
  /** Verified webhooks of event types no route takes. Sum over 5 minutes by default. */
  public metricWebhookIgnored(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.WebhookIgnored, props);
  }
  /** Webhooks rejected with 401 (missing headers, bad signature, stale timestamp). Sum over 5 minutes by default. */
  public metricSignatureFailure(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.SignatureFailure, props);
  }
  /** Signed webhooks whose body is not a Dodo event (400). Sum over 5 minutes by default. */
  public metricInvalidPayload(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.InvalidPayload, props);
  }
  /** Webhooks over the size limit (413). Sum over 5 minutes by default. */
  public metricPayloadTooLarge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.PayloadTooLarge, props);
  }
  /** Webhooks answered 503 (signing secret not set, queue unavailable). Sum over 5 minutes by default. */
  public metricReceiverUnavailable(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.ReceiverUnavailable, props);
  }
  /** Messages Slack accepted. Sum over 5 minutes by default. */
  public metricMessageDelivered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.MessageDelivered, props);
  }
  /** Events a transformation cancelled. Sum over 5 minutes by default. */
  public metricMessageSkipped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.MessageSkipped, props);
  }
  /** Deliveries dropped because the webhook id was already delivered. Sum over 5 minutes by default. */
  public metricDuplicateSuppressed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.DuplicateSuppressed, props);
  }
  /** Deliveries that failed and will be retried. Sum over 5 minutes by default. */
  public metricDeliveryRetried(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.DeliveryRetried, props);
  }
  /** Slack 429 answers. Sum over 5 minutes by default. */
  public metricSlackRateLimited(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.SlackRateLimited, props);
  }
  /** Messages the transformer sent to the dead-letter queue itself. Sum over 5 minutes by default. */
  public metricMessageDeadLettered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.MessageDeadLettered, props);
  }
  /** Events a transformation could not turn into a Slack message. Sum over 5 minutes by default. */
  public metricTransformationError(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.TransformationError, props);
  }
  /** Roll-up messages Slack accepted (each stands for many events). Sum over 5 minutes by default. */
  public metricRollupPosted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.RollupPosted, props);
  }
  /** Events covered by a roll-up instead of a message of their own. Sum over 5 minutes by default. */
  public metricEventsRolledUp(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.EventsRolledUp, props);
  }
  /** Milliseconds from the webhook's timestamp to Slack's `ok`. p99 over 5 minutes by default. */
  public metricDeliveryLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.DeliveryLatency, { statistic: cloudwatch.Stats.p(99), ...props });
  }
  /** Dodo API look-ups that failed (timeout, 4xx, 5xx, unusable key); those messages showed IDs. */
  public metricNameLookupFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.NameLookupFailed, props);
  }
  /** Messages that did not wait on the Dodo API because it failed moments ago. */
  public metricNameLookupSkipped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.NameLookupSkipped, props);
  }

  /**
   * The key policy statements CloudWatch Logs (to encrypt the log groups) and CloudWatch alarms
   * (to publish to the encrypted topic) need. Added to a key of this app; an imported key's
   * policy cannot be changed from here, so the synth warns with what it must allow.
   */
  private allowServicesToUseKey(): void {
    const stack = Stack.of(this);
    const logsArn = `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`;
    const statements = [
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': logsArn } },
      }),
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    ];
    const added = statements.map((statement) => this.encryptionKey.addToResourcePolicy(statement, true).statementAdded);
    if (added.some((ok) => !ok)) {
      Annotations.of(this).addWarningV2(
        'dodo-slack-notifier:encryptionKeyPolicy',
        'encryptionKey is an imported key, so its key policy cannot be changed here: it must allow ' +
          `logs.<region>.amazonaws.com (kms:Encrypt*, Decrypt*, ReEncrypt*, GenerateDataKey*, Describe*) and ` +
          'cloudwatch.amazonaws.com (kms:Decrypt, GenerateDataKey*), or the log groups fail to create and the alarms cannot notify.',
      );
    }
  }

  private handlerFunction(
    id: string,
    handler: HandlerName,
    options: {
      readonly description: string;
      readonly timeout: Duration;
      readonly memorySize: number;
      readonly logRetention: logs.RetentionDays;
      readonly tracing: boolean;
      readonly vpc?: ec2.IVpc;
      readonly vpcSubnets?: ec2.SubnetSelection;
      readonly serviceName: string;
      /** User transformation sources by code id, shipped with the bundle (see lambda/sandbox/registry.ts). */
      readonly userCode: Readonly<Record<string, string>>;
      readonly environment: Record<string, string>;
    },
  ): nodejs.NodejsFunction {
    const prebundled = locatePrebundledHandler(handler);
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: options.logRetention,
      encryptionKey: this.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Own role instead of AWSLambdaBasicExecutionRole: logs may go to this function's log group only.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the Dodo Slack notifier ${handler} function`,
    });
    logGroup.grantWrite(role);
    return new nodejs.NodejsFunction(this, `${id}Function`, {
      role,
      ...(prebundled ? this.prebundledCode(prebundled, options.userCode) : this.bundledFromSources(handler, options.userCode)),
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: options.description,
      timeout: options.timeout,
      memorySize: options.memorySize,
      logGroup,
      tracing: options.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      vpc: options.vpc,
      vpcSubnets: options.vpcSubnets,
      environment: {
        POWERTOOLS_SERVICE_NAME: options.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...options.environment,
      },
    });
  }

  /**
   * The handler as `npm run build` bundled it into the package (no esbuild or Docker at synth); user
   * transformation code goes beside it as a file, in a folder named by its content (so the same
   * code is the same asset).
   */
  private prebundledCode(dir: string, userCode: Readonly<Record<string, string>>): Pick<nodejs.NodejsFunctionProps, 'code' | 'handler'> {
    const handler = `${path.basename(PREBUNDLED_HANDLER_FILE, '.js')}.handler`;
    if (Object.keys(userCode).length === 0) return { code: lambda.Code.fromAsset(dir), handler };
    const json = JSON.stringify(userCode);
    // A fresh private folder (mkdtemp: 0700, a name nobody could have prepared): a shared, predictable
    // path would let another local user plant files in the asset or a symlink to write through. The
    // asset's hash is of its contents, so the same code is still the same asset.
    const assetDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dodo-slack-notifier-asset-'));
    fs.copyFileSync(path.join(dir, PREBUNDLED_HANDLER_FILE), path.join(assetDir, PREBUNDLED_HANDLER_FILE));
    fs.writeFileSync(path.join(assetDir, USER_CODE_FILE), json);
    return { code: lambda.Code.fromAsset(assetDir), handler };
  }

  /** The handler bundled at synth by esbuild from the TypeScript sources (this repository, or a package built without bundles). */
  private bundledFromSources(handler: HandlerName, userCode: Readonly<Record<string, string>>): Partial<nodejs.NodejsFunctionProps> {
    const location = locateHandler(handler);
    return {
      entry: location.entry,
      handler: 'handler',
      depsLockFilePath: location.depsLockFilePath,
      projectRoot: location.projectRoot,
      // SDK bundled and tree-shaken from its ES module builds: faster cold starts than the
      // runtime's copy, and the SDK version the tests ran against (see lib/bundling.ts). The user
      // code is a JS expression that evaluates to a JSON string: { [codeId]: source }.
      bundling: { ...LAMBDA_BUNDLING, define: handler === 'transformer' ? { [USER_CODE_DEFINE]: JSON.stringify(JSON.stringify(userCode)) } : {} },
    };
  }
}

/**
 * Lambda holds at most 4 KB of environment variables per function, and the routes travel in one
 * (their secrets' ARNs are resolved only at deploy time). Checked at synth with each ARN counted at
 * its longest likely length, so a deploy never fails on it: filters and mentions are what grow.
 */
const ROUTES_ENVIRONMENT_BUDGET_BYTES = 2_800;
const SECRET_ARN_LENGTH = 110;

function checkRoutesFitTheEnvironment(routes: readonly RouteConfig[]): void {
  const bytes = Buffer.byteLength(JSON.stringify(routes.map((route) => ({ ...route, slackSecretId: 'a'.repeat(SECRET_ARN_LENGTH) }))));
  if (bytes > ROUTES_ENVIRONMENT_BUDGET_BYTES) {
    throw new Error(
      `DodoSlackNotifier: the routes take about ${bytes} bytes of the transformer's environment, more than the ${ROUTES_ENVIRONMENT_BUDGET_BYTES} ` +
        'left of Lambda\'s 4 KB: shorten the filters and mentions (one $in instead of several $or), or split the routes across two notifiers',
    );
  }
}

/** Globs of all routes, without repeats; just `*` when any route takes everything. */
function unionOfGlobs(globs: readonly string[]): string[] {
  if (globs.includes('*')) return ['*'];
  return [...new Set(globs)];
}

/** One grant per secret, even when routes share one. */
function uniqueSecrets(secrets: readonly secretsmanager.ISecret[]): secretsmanager.ISecret[] {
  return [...new Set(secrets)];
}

/** The app-mode part of a route's config (nothing for an incoming-webhook route). */
function slackAppOfRoute(route: { readonly slackBotTokenSecret?: secretsmanager.ISecret; readonly slackChannelId?: string; readonly replyBroadcast?: string[] }): {
  slackChannelId?: string;
  replyBroadcast?: readonly string[];
} {
  if (route.slackBotTokenSecret === undefined || route.slackChannelId === undefined) return {};
  return { slackChannelId: route.slackChannelId, ...(route.replyBroadcast === undefined ? {} : { replyBroadcast: route.replyBroadcast }) };
}
