/**
 * The construct: every resource of the flow and how they are wired. What users configure and its
 * validation live in props.ts; metrics, alarms and the dashboard in monitoring.ts.
 */
import { Duration, Names, RemovalPolicy, SecretValue } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
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
import { DEFAULT_ROUTE_ID, ReceiverEnv, RouteConfig, SECRET_PLACEHOLDER, TransformerEnv } from '../lambda/shared/function-env';
import { METRICS_NAMESPACE, MetricName, ServiceName } from '../lambda/shared/metrics';
import { WEBHOOK_PATH } from '../lambda/shared/webhook';
import { LAMBDA_BUNDLING } from './bundling';
import { locateHandler, HandlerName } from './lambda-entry';
import { createAlarms, createDashboard, DodoSlackNotifierAlarms, notifierMetric } from './monitoring';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import {
  DEFAULT_THROTTLING_BURST_LIMIT,
  DEFAULT_THROTTLING_RATE_LIMIT,
  DodoSlackNotifierProps,
  hasDefaultRoute,
  validateProps,
} from './props';
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
  /** One dashboard with the whole flow. */
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DodoSlackNotifierProps = {}) {
    super(scope, id);
    validateProps(props);

    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    // The handlers and `dodo-slack serve` fall back to the same Defaults when a setting is missing.
    const timestampTolerance = props.timestampTolerance ?? Duration.seconds(Defaults.timestampToleranceSeconds);
    const secretCacheTtl = props.secretCacheTtl ?? Duration.seconds(Defaults.secretCacheTtlSeconds);
    const maxReceiveCount = props.maxReceiveCount ?? Defaults.maxReceiveCount;
    const deduplicationWindow = props.deduplicationWindow ?? Duration.seconds(Defaults.deduplicationWindowSeconds);
    const deliveryRatePerSecond = props.deliveryRatePerSecond ?? Defaults.deliveryRatePerSecond;
    const slackTimeout = props.slackTimeout ?? Duration.millis(Defaults.slackTimeoutMs);

    // Secrets: passed in, or created with a placeholder the handlers recognise.
    this.signingSecret =
      props.signingSecret ??
      new secretsmanager.Secret(this, 'SigningSecret', {
        description: 'Dodo Payments webhook signing key(s), whitespace-separated while rotating',
        secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
      });
    if (props.slackBotTokenSecret !== undefined) {
      this.slackBotTokenSecret = props.slackBotTokenSecret;
    } else if (hasDefaultRoute(props)) {
      this.slackWebhookSecret =
        props.slackWebhookSecret ??
        new secretsmanager.Secret(this, 'SlackWebhookSecret', {
          description: 'Slack incoming-webhook URL for Dodo Payments notifications (plain URL or {"url": "..."})',
          secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
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
      };
    });

    // Queues.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(TRANSFORMER_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });

    // Deduplication table, in the shape Powertools' DynamoDBPersistenceLayer expects by default.
    this.deduplicationTable = new dynamodb.Table(this, 'DeduplicationTable', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiration',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Only short-lived dedupe records; nothing to keep when the notifier is removed.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Threads and cards of app-mode routes (lib/slack-app.ts).
    const threads = usesSlackApp(props) ? new SlackThreadTable(this, 'SlackThreads', { ...(props.threadTtl ? { ttl: props.threadTtl } : {}) }) : undefined;
    this.threadTable = threads?.table;

    // Receiver.
    const eventFilter = unionOfGlobs(routes.flatMap((route) => route.events));
    this.receiverFunction = this.handlerFunction('Receiver', 'receiver', {
      description: 'Dodo Payments webhooks: verifies the Standard Webhooks signature and queues the event',
      timeout: RECEIVER_TIMEOUT,
      memorySize: 256,
      logRetention,
      serviceName: ServiceName.Receiver,
      define: {},
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

    // Transformer.
    this.transformerFunction = this.handlerFunction('Transformer', 'transformer', {
      description: 'Dodo Payments webhooks: dedupes, transforms and posts queued events to Slack',
      timeout: TRANSFORMER_TIMEOUT,
      memorySize: 512,
      logRetention,
      serviceName: ServiceName.Transformer,
      // A JS expression that evaluates to a JSON string: { [codeId]: source }.
      define: { [USER_CODE_DEFINE]: JSON.stringify(JSON.stringify(userCode)) },
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
    threads?.grantTransformer(this.transformerFunction);
    // Exactly what Powertools idempotency does: get, put (conditional), update, delete of one item.
    this.deduplicationTable.grant(
      this.transformerFunction,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );

    // API.
    const accessLogGroup = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: logRetention,
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
      },
    });
    this.api.root
      .resourceForPath(WEBHOOK_PATH)
      .addMethod('POST', new apigateway.LambdaIntegration(this.receiverFunction, { proxy: true }));
    this.endpointUrl = this.api.urlForPath(WEBHOOK_PATH);

    // Alarms.
    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
        displayName: 'Dodo Slack notifier alarms',
        enforceSSL: true,
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

    this.dashboard = createDashboard(this);

    acknowledgeNagFindings(this);
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
  /** Milliseconds from the webhook's timestamp to Slack's `ok`. p99 over 5 minutes by default. */
  public metricDeliveryLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.DeliveryLatency, { statistic: cloudwatch.Stats.p(99), ...props });
  }

  private handlerFunction(
    id: string,
    handler: HandlerName,
    options: {
      readonly description: string;
      readonly timeout: Duration;
      readonly memorySize: number;
      readonly logRetention: logs.RetentionDays;
      readonly serviceName: string;
      readonly define: Record<string, string>;
      readonly environment: Record<string, string>;
    },
  ): nodejs.NodejsFunction {
    const location = locateHandler(handler);
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: options.logRetention,
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
      entry: location.entry,
      handler: 'handler',
      depsLockFilePath: location.depsLockFilePath,
      projectRoot: location.projectRoot,
      runtime: LAMBDA_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      description: options.description,
      timeout: options.timeout,
      memorySize: options.memorySize,
      logGroup,
      environment: {
        POWERTOOLS_SERVICE_NAME: options.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...options.environment,
      },
      // SDK bundled and tree-shaken from its ES module builds: faster cold starts than the
      // runtime's copy, and the SDK version the tests ran against (see lib/bundling.ts).
      bundling: { ...LAMBDA_BUNDLING, define: options.define },
    });
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
