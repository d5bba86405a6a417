import { Duration, Names, RemovalPolicy, SecretValue, Token } from 'aws-cdk-lib';
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
import { METRICS_NAMESPACE, MetricName, ServiceName } from '../lambda/shared/metrics';
import { ReceiverEnv, RouteConfig, SECRET_PLACEHOLDER, TransformerEnv } from '../lambda/shared/function-env';
import { WEBHOOK_PATH } from '../lambda/shared/webhook';
import { globProblems } from '../lambda/shared/event-glob';
import { locateHandler, HandlerName } from './lambda-entry';
import { LAMBDA_BUNDLING } from './bundling';
import { acknowledgeNagFindings } from './nag-acknowledgements';
import { Transformation } from './transformation';

/** Id of the route made of the construct's top-level props. */
export const DEFAULT_ROUTE_ID = 'default';

/**
 * The transformer's SQS event source runs at most this many function instances. Lambda's minimum
 * for `maxConcurrency`; together with the per-instance delivery rate it keeps us within Slack's
 * limit of about one message per second per incoming webhook.
 */
export const TRANSFORMER_MAX_CONCURRENCY = 2;

/** Transformer timeout; the queue's visibility timeout is six times this, as AWS recommends. */
const TRANSFORMER_TIMEOUT = Duration.seconds(60);
/** Dodo waits 15 s for an answer; the receiver must answer well inside that. */
const RECEIVER_TIMEOUT = Duration.seconds(10);
const TRANSFORMER_BATCH_SIZE = 5;
const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_22_X;
/** Global the transformer bundle reads its embedded user transformations from (see lambda/sandbox/registry.ts). */
const USER_CODE_DEFINE = '__DODO_SLACK_USER_CODE__';

/** Stage-wide API Gateway throttling. */
export interface DodoSlackThrottle {
  /** Steady-state requests per second for the whole stage. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the steady rate. */
  readonly burstLimit: number;
}

/** One more Slack channel: the events it takes, its incoming webhook, and how its messages look. */
export interface DodoSlackRoute {
  /**
   * Stable identifier: letters and digits, starting with a letter (e.g. `Risk`, `Sales`). Used in
   * construct ids, idempotency keys, logs and dead-letter attributes; changing it re-delivers
   * events already deduplicated under the old id. `default` is reserved for the top-level route.
   */
  readonly id: string;
  /** Event-type globs this route takes, e.g. `['dispute.*']`. */
  readonly events: string[];
  /** Secret holding this channel's Slack incoming-webhook URL (plain URL or JSON `{"url": "…"}`). */
  readonly slackWebhookSecret: secretsmanager.ISecret;
  /**
   * How this route's messages are built.
   * @default Transformation.builtin()
   */
  readonly transformation?: Transformation;
}

/** Props of {@link DodoSlackNotifier}. All optional: the defaults deploy a working pipeline. */
export interface DodoSlackNotifierProps {
  /**
   * Secret holding the Slack incoming-webhook URL of the default route (plain URL or JSON
   * `{"url": "…"}`). Only its ARN reaches the functions.
   * @default - a new secret holding a placeholder, unless `routes` is given (then there is no default route)
   */
  readonly slackWebhookSecret?: secretsmanager.ISecret;
  /**
   * Secret holding the Dodo webhook signing key(s) (`whsec_` + base64), several separated by whitespace
   * while rotating.
   * @default - a new secret holding a placeholder; the receiver answers 503 until it is set
   */
  readonly signingSecret?: secretsmanager.ISecret;
  /**
   * Event-type globs the default route takes (`*`, `payment.*`, `dispute.opened`).
   * @default ['*']
   */
  readonly events?: string[];
  /**
   * How the default route turns events into Slack messages.
   * @default Transformation.builtin()
   */
  readonly transformation?: Transformation;
  /**
   * More Slack channels. Every event goes to each route whose globs match it; each route is
   * delivered, retried, dead-lettered and deduplicated on its own.
   * @default - only the default route
   */
  readonly routes?: DodoSlackRoute[];
  /**
   * How far a webhook's timestamp may be from the receiver's clock (replay protection; 1 s..1 h, whole seconds).
   * @default Duration.minutes(5)
   */
  readonly timestampTolerance?: Duration;
  /**
   * How long the functions cache secret values before reading them again (1 s..1 h).
   * @default Duration.minutes(5)
   */
  readonly secretCacheTtl?: Duration;
  /**
   * Deliveries of one message before SQS moves it to the dead-letter queue (1..1000).
   * @default 10
   */
  readonly maxReceiveCount?: number;
  /**
   * How long a delivered `webhook-id` is remembered to drop duplicates; keep it above Dodo's
   * retry span of about 27.6 hours (1 h..365 days).
   * @default Duration.hours(48)
   */
  readonly deduplicationWindow?: Duration;
  /**
   * Messages per second posted to one Slack incoming webhook, across all transformer instances
   * (Slack allows about one per second per webhook); more than 0, at most 100.
   * @default 1
   */
  readonly deliveryRatePerSecond?: number;
  /**
   * How long the transformer waits for Slack to answer one post (1..10 s).
   * @default Duration.seconds(5)
   */
  readonly slackTimeout?: Duration;
  /**
   * API Gateway stage throttling.
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  readonly throttle?: DodoSlackThrottle;
  /**
   * Topic the alarms notify.
   * @default - a new topic (TLS enforced)
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Email address subscribed to the alarm topic (AWS sends a confirmation mail first).
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Retention of the functions' logs and the API access logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Create the account-wide role API Gateway uses to write logs (`AWS::ApiGateway::Account`).
   * API Gateway refuses access logs until the account has one; set `false` when your
   * organisation already manages that setting.
   * @default true
   */
  readonly createApiGatewayCloudWatchRole?: boolean;
}

/** The alarms of the notifier, by stable name; all notify `alarmTopic`. */
export interface DodoSlackNotifierAlarms {
  /** Messages waiting in the dead-letter queue (≥ 1): events Slack has not received. */
  readonly deadLetterQueueNotEmpty: cloudwatch.Alarm;
  /** Oldest message in the queue older than 15 minutes: delivery is stuck or far behind. */
  readonly queueMessageAge: cloudwatch.Alarm;
  /** Receiver function errors (≥ 1 in 5 minutes). */
  readonly receiverErrors: cloudwatch.Alarm;
  /** Transformer function errors (≥ 1 in 5 minutes); failed records alone do not count. */
  readonly transformerErrors: cloudwatch.Alarm;
  /** API Gateway 5XX answers (≥ 1 in 5 minutes), e.g. signing secret not set yet. */
  readonly apiServerErrors: cloudwatch.Alarm;
  /** Webhooks rejected for a bad or missing signature (≥ 1 in 5 minutes). */
  readonly signatureFailures: cloudwatch.Alarm;
  /** Events a transformation could not turn into a Slack message (≥ 1 in 5 minutes). */
  readonly transformationErrors: cloudwatch.Alarm;
}

/** Which function emits each custom metric, i.e. its `service` dimension. */
const METRIC_SERVICE: Record<MetricName, string> = {
  WebhookReceived: ServiceName.Receiver,
  WebhookQueued: ServiceName.Receiver,
  WebhookIgnored: ServiceName.Receiver,
  SignatureFailure: ServiceName.Receiver,
  InvalidPayload: ServiceName.Receiver,
  PayloadTooLarge: ServiceName.Receiver,
  ReceiverUnavailable: ServiceName.Receiver,
  MessageDelivered: ServiceName.Transformer,
  MessageSkipped: ServiceName.Transformer,
  DuplicateSuppressed: ServiceName.Transformer,
  DeliveryRetried: ServiceName.Transformer,
  SlackRateLimited: ServiceName.Transformer,
  MessageDeadLettered: ServiceName.Transformer,
  TransformationError: ServiceName.Transformer,
  DeliveryLatency: ServiceName.Transformer,
};

interface ResolvedRoute {
  readonly id: string;
  readonly events: readonly string[];
  readonly slackWebhookSecret: secretsmanager.ISecret;
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
  /** The routes the transformer serves, as handed to it in `ROUTES`. */
  public readonly routeConfigs: readonly RouteConfig[];

  constructor(scope: Construct, id: string, props: DodoSlackNotifierProps = {}) {
    super(scope, id);
    validateProps(props);

    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const timestampTolerance = props.timestampTolerance ?? Duration.minutes(5);
    const secretCacheTtl = props.secretCacheTtl ?? Duration.minutes(5);
    const maxReceiveCount = props.maxReceiveCount ?? 10;
    const deduplicationWindow = props.deduplicationWindow ?? Duration.hours(48);
    const deliveryRatePerSecond = props.deliveryRatePerSecond ?? 1;
    const slackTimeout = props.slackTimeout ?? Duration.seconds(5);
    const throttle = props.throttle ?? { rateLimit: 50, burstLimit: 100 };

    // Secrets: passed in, or created with a placeholder the handlers recognise.
    this.signingSecret =
      props.signingSecret ??
      new secretsmanager.Secret(this, 'SigningSecret', {
        description: 'Dodo Payments webhook signing key(s), whitespace-separated while rotating',
        secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
      });
    const hasDefaultRoute = props.routes === undefined || props.slackWebhookSecret !== undefined;
    if (hasDefaultRoute) {
      this.slackWebhookSecret =
        props.slackWebhookSecret ??
        new secretsmanager.Secret(this, 'SlackWebhookSecret', {
          description: 'Slack incoming-webhook URL for Dodo Payments notifications (plain URL or {"url": "..."})',
          secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
        });
    }
    const routes: ResolvedRoute[] = [
      ...(this.slackWebhookSecret
        ? [
            {
              id: DEFAULT_ROUTE_ID,
              events: props.events ?? ['*'],
              slackWebhookSecret: this.slackWebhookSecret,
              transformation: props.transformation ?? Transformation.builtin(),
            },
          ]
        : []),
      ...(props.routes ?? []).map((route) => ({
        id: route.id,
        events: route.events,
        slackWebhookSecret: route.slackWebhookSecret,
        transformation: route.transformation ?? Transformation.builtin(),
      })),
    ];

    // User code goes into the transformer bundle; the routes only carry its id.
    const userCode: Record<string, string> = {};
    this.routeConfigs = routes.map((route) => {
      const bound = route.transformation._bind(route.id);
      if (bound.code) userCode[bound.code.codeId] = bound.code.source;
      return {
        id: route.id,
        events: [...route.events],
        slackSecretId: route.slackWebhookSecret.secretArn,
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
        [TransformerEnv.Routes]: JSON.stringify(this.routeConfigs),
        [TransformerEnv.QueueUrl]: this.queue.queueUrl,
        [TransformerEnv.DeadLetterQueueUrl]: this.deadLetterQueue.queueUrl,
        [TransformerEnv.IdempotencyTableName]: this.deduplicationTable.tableName,
        [TransformerEnv.DeduplicationWindowSeconds]: String(deduplicationWindow.toSeconds()),
        [TransformerEnv.SecretCacheTtlSeconds]: String(secretCacheTtl.toSeconds()),
        [TransformerEnv.MaxReceiveCount]: String(maxReceiveCount),
        [TransformerEnv.SlackTimeoutMs]: String(slackTimeout.toMilliseconds()),
        // Each concurrent instance gets its share of Slack's per-webhook budget.
        [TransformerEnv.DeliveryRatePerSecond]: String(deliveryRatePerSecond / TRANSFORMER_MAX_CONCURRENCY),
        [TransformerEnv.DeliveryBurst]: '1',
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
    for (const secret of uniqueSecrets(routes.map((route) => route.slackWebhookSecret))) {
      secret.grantRead(this.transformerFunction);
    }
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
        throttlingRateLimit: throttle.rateLimit,
        throttlingBurstLimit: throttle.burstLimit,
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
    this.alarms = this.createAlarms();
    const alarmAction = new cloudwatchActions.SnsAction(this.alarmTopic);
    for (const alarm of Object.values(this.alarms) as cloudwatch.Alarm[]) {
      alarm.addAlarmAction(alarmAction);
    }

    this.dashboard = this.createDashboard();

    acknowledgeNagFindings(this);
  }

  /** Any custom metric of the notifier, with the `service` dimension its function emits it with. */
  public metric(metricName: MetricName, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: METRIC_SERVICE[metricName] },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
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

  private createAlarms(): DodoSlackNotifierAlarms {
    const fiveMinutes = Duration.minutes(5);
    const atLeastOnce = (
      id: string,
      metric: cloudwatch.IMetric,
      description: string,
    ): cloudwatch.Alarm =>
      new cloudwatch.Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        // No data means no traffic, which is not a failure.
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
    return {
      deadLetterQueueNotEmpty: atLeastOnce(
        'DeadLetterQueueNotEmptyAlarm',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        'Dodo events are in the dead-letter queue and have not reached Slack. Read the dead-letter-reason attribute, fix, then start a DLQ redrive.',
      ),
      queueMessageAge: new cloudwatch.Alarm(this, 'QueueMessageAgeAlarm', {
        metric: this.queue.metricApproximateAgeOfOldestMessage({
          period: fiveMinutes,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: Duration.minutes(15).toSeconds(),
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription:
          'A Dodo event has waited more than 15 minutes for delivery to Slack (Slack down, rate limited, or Slack secret not set).',
      }),
      receiverErrors: atLeastOnce(
        'ReceiverErrorsAlarm',
        this.receiverFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        'The webhook receiver function failed; Dodo will retry the affected webhooks.',
      ),
      transformerErrors: atLeastOnce(
        'TransformerErrorsAlarm',
        this.transformerFunction.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        'The transformer function failed as a whole (not a single record); its batch will be retried.',
      ),
      apiServerErrors: atLeastOnce(
        'ApiServerErrorsAlarm',
        this.api.metricServerError({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
        'The webhook endpoint answered 5XX (often: signing secret not set yet). Dodo retries these.',
      ),
      signatureFailures: atLeastOnce(
        'SignatureFailuresAlarm',
        this.metricSignatureFailure({ period: fiveMinutes }),
        'Webhooks were rejected for a bad signature or timestamp: check the signing secret matches Dodo, or someone is probing the endpoint.',
      ),
      transformationErrors: atLeastOnce(
        'TransformationErrorsAlarm',
        this.metricTransformationError({ period: fiveMinutes }),
        'A transformation failed for an event, which went to the dead-letter queue. Fix the transformation, then redrive.',
      ),
    };
  }

  private createDashboard(): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
    });
    const graph = (title: string, left: cloudwatch.IMetric[], right: cloudwatch.IMetric[] = []) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
    const label = (metric: cloudwatch.Metric, text: string) => metric.with({ label: text });

    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          '## Dodo Payments → Slack\nDodo → API Gateway → receiver → queue → transformer → Slack. ' +
          'Failed events wait in the dead-letter queue for a redrive.',
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      graph('Received', [
        label(this.metricWebhookReceived(), 'received'),
        label(this.metricWebhookQueued(), 'queued'),
        label(this.metricWebhookIgnored(), 'ignored (filtered)'),
      ]),
      graph('Rejected', [
        label(this.metricSignatureFailure(), 'signature failures (401)'),
        label(this.metricInvalidPayload(), 'invalid (400)'),
        label(this.metricPayloadTooLarge(), 'too large (413)'),
        label(this.metricReceiverUnavailable(), 'unavailable (503)'),
        this.api.metricServerError({ label: 'API 5XX', statistic: cloudwatch.Stats.SUM }),
      ]),
      graph('Delivered', [
        label(this.metricMessageDelivered(), 'delivered'),
        label(this.metricMessageSkipped(), 'skipped'),
        label(this.metricDuplicateSuppressed(), 'duplicates dropped'),
      ]),
    );
    dashboard.addWidgets(
      graph('Failed and retried', [
        label(this.metricDeliveryRetried(), 'retried'),
        label(this.metricSlackRateLimited(), 'rate limited (429)'),
        label(this.metricTransformationError(), 'transformation errors'),
        label(this.metricMessageDeadLettered(), 'dead-lettered by transformer'),
      ]),
      graph('Queues', [
        this.queue.metricApproximateNumberOfMessagesVisible({ label: 'queue depth', statistic: cloudwatch.Stats.MAXIMUM }),
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          label: 'dead-lettered (DLQ depth)',
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
      ]),
      graph(
        'Latency',
        [
          label(this.metricDeliveryLatency({ statistic: cloudwatch.Stats.p(50) }), 'delivery p50 (ms)'),
          label(this.metricDeliveryLatency({ statistic: cloudwatch.Stats.p(99) }), 'delivery p99 (ms)'),
          this.receiverFunction.metricDuration({ label: 'receiver p99 (ms)', statistic: cloudwatch.Stats.p(99) }),
          this.transformerFunction.metricDuration({ label: 'transformer p99 (ms)', statistic: cloudwatch.Stats.p(99) }),
        ],
        [
          this.queue.metricApproximateAgeOfOldestMessage({
            label: 'oldest queued message (s)',
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
        ],
      ),
    );
    dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: 'Alarms',
        alarms: Object.values(this.alarms) as cloudwatch.Alarm[],
        width: 24,
        height: 3,
      }),
    );
    return dashboard;
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

const ROUTE_ID_SHAPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Every problem with the props at once, so one failed synth shows them all. */
function validateProps(props: DodoSlackNotifierProps): void {
  const problems: string[] = [];
  const checkGlobs = (where: string, globs: readonly string[]) => {
    if (globs.length === 0) {
      problems.push(`${where} must list at least one event glob; use ['*'] for every event`);
    }
    for (const glob of globs) {
      if (Token.isUnresolved(glob)) continue;
      problems.push(...globProblems(glob).map((problem) => `${where}: ${problem}`));
    }
  };
  const checkDuration = (name: string, value: Duration | undefined, min: Duration, max: Duration, unit: 'seconds' | 'milliseconds') => {
    if (value === undefined || value.isUnresolved()) return;
    const ms = value.toMilliseconds();
    if (unit === 'seconds' && ms % 1000 !== 0) {
      problems.push(`${name} must be whole seconds, got ${value.toHumanString()}`);
    }
    if (ms < min.toMilliseconds() || ms > max.toMilliseconds()) {
      problems.push(`${name} must be between ${min.toHumanString()} and ${max.toHumanString()}, got ${value.toHumanString()}`);
    }
  };

  if (props.events !== undefined) checkGlobs('events', props.events);
  const hasDefaultRoute = props.routes === undefined || props.slackWebhookSecret !== undefined;
  if (!hasDefaultRoute) {
    if (props.events !== undefined) {
      problems.push('events applies to the default route, which exists only with slackWebhookSecret; set slackWebhookSecret or move the globs into a route');
    }
    if (props.transformation !== undefined) {
      problems.push('transformation applies to the default route, which exists only with slackWebhookSecret; set slackWebhookSecret or move it into a route');
    }
    if (props.routes !== undefined && props.routes.length === 0) {
      problems.push('routes is empty and slackWebhookSecret is not set, so no event would go anywhere; add a route or set slackWebhookSecret');
    }
  }
  const seenRouteIds = new Set<string>();
  for (const [index, route] of (props.routes ?? []).entries()) {
    const where = `routes[${index}] (${JSON.stringify(route.id)})`;
    if (!ROUTE_ID_SHAPE.test(route.id)) {
      problems.push(`${where}: id must be 1-64 letters and digits starting with a letter, e.g. "Risk"`);
    } else if (route.id.toLowerCase() === DEFAULT_ROUTE_ID) {
      problems.push(`${where}: id "${DEFAULT_ROUTE_ID}" is reserved for the top-level route; choose another id`);
    } else if (seenRouteIds.has(route.id.toLowerCase())) {
      problems.push(`${where}: duplicate route id; every route needs its own id (compared case-insensitively)`);
    }
    seenRouteIds.add(route.id.toLowerCase());
    checkGlobs(`${where} events`, route.events);
  }

  const maxReceiveCount = props.maxReceiveCount;
  if (maxReceiveCount !== undefined && !Token.isUnresolved(maxReceiveCount)) {
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      problems.push(`maxReceiveCount must be a whole number 1..1000, got ${maxReceiveCount}`);
    }
  }
  checkDuration('timestampTolerance', props.timestampTolerance, Duration.seconds(1), Duration.hours(1), 'seconds');
  // The transformer needs a positive TTL: 0 would mean a Secrets Manager call per message.
  checkDuration('secretCacheTtl', props.secretCacheTtl, Duration.seconds(1), Duration.hours(1), 'seconds');
  checkDuration('deduplicationWindow', props.deduplicationWindow, Duration.hours(1), Duration.days(365), 'seconds');
  checkDuration('slackTimeout', props.slackTimeout, Duration.seconds(1), Duration.seconds(10), 'milliseconds');

  const rate = props.deliveryRatePerSecond;
  if (rate !== undefined && !Token.isUnresolved(rate) && !(Number.isFinite(rate) && rate > 0 && rate <= 100)) {
    problems.push(`deliveryRatePerSecond must be more than 0 and at most 100, got ${rate}`);
  }
  if (props.throttle) {
    const { rateLimit, burstLimit } = props.throttle;
    if (!Token.isUnresolved(rateLimit) && !(Number.isFinite(rateLimit) && rateLimit > 0)) {
      problems.push(`throttle.rateLimit must be more than 0 requests per second, got ${rateLimit}`);
    }
    if (!Token.isUnresolved(burstLimit) && !(Number.isInteger(burstLimit) && burstLimit >= 1)) {
      problems.push(`throttle.burstLimit must be a whole number of at least 1, got ${burstLimit}`);
    }
  }
  if (props.alarmEmail !== undefined && !Token.isUnresolved(props.alarmEmail) && !EMAIL_SHAPE.test(props.alarmEmail)) {
    problems.push(`alarmEmail must be an email address like ops@example.com, got ${JSON.stringify(props.alarmEmail)}`);
  }

  if (problems.length > 0) {
    throw new Error(`DodoSlackNotifier: invalid props:\n- ${problems.join('\n- ')}`);
  }
}
