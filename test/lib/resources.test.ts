/**
 * The resources a bare `new DodoSlackNotifier(stack, 'Notifier')` creates, and every documented
 * default. One synthesized template is shared by all tests in this file.
 */
import { Transformation } from '../../lib/transformation';
import { type CfnElement, Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { IConstruct } from 'constructs';
import { METRICS_NAMESPACE, MetricName, ServiceName } from '../../lambda/shared/metrics';
import { ReceiverEnv, RouteConfig, SECRET_PLACEHOLDER, TransformerEnv } from '../../lambda/shared/function-env';
import { actionsOn, functionEnv, onlyResource, renderCfnString, resourcesOf, roleStatements, synthNotifier } from './helpers';

const { stack, notifier, template } = synthNotifier();
const ref = (logicalId: string) => ({ Ref: logicalId });
const arnOf = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);

const queueId = logicalId(notifier.queue);
const dlqId = logicalId(notifier.deadLetterQueue);
const tableId = logicalId(notifier.deduplicationTable);
const signingSecretId = logicalId(notifier.signingSecret);
const slackSecretId = logicalId(notifier.slackWebhookSecret!);
const receiverEnv = functionEnv(template, 'NotifierReceiverFunction');
const transformerEnv = functionEnv(template, 'NotifierTransformerFunction');

describe('API', () => {
  test('has POST /webhooks/dodo with a Lambda proxy integration to the receiver', () => {
    const resources = Object.values(resourcesOf<{ PathPart: string }>(template, 'AWS::ApiGateway::Resource')).map((r) => r.Properties.PathPart);
    expect(resources.sort()).toEqual(['dodo', 'webhooks']);
    template.resourceCountIs('AWS::ApiGateway::Method', 1);
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      AuthorizationType: 'NONE',
      Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
    });
    const uri = JSON.stringify(onlyResource<{ Integration: { Uri: unknown } }>(template, 'AWS::ApiGateway::Method').Properties.Integration.Uri);
    expect(uri).toContain(logicalId(notifier.receiverFunction));
  });

  test('is regional and lets API Gateway invoke the receiver', () => {
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      FunctionName: arnOf(logicalId(notifier.receiverFunction)),
    });
  });

  test('adds no output to the user\'s stack (RestApi\'s automatic stage URL, ending in /prod/, is not where Dodo posts)', () => {
    expect(template.toJSON().Outputs).toBeUndefined();
    expect(notifier.api.node.tryFindChild('Endpoint')).toBeUndefined();
  });

  test('stage throttling defaults to 50 requests/s with bursts of 100', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }),
      ]),
    });
  });

  test('writes JSON access logs to a log group kept one year by default, KMS-encrypted', () => {
    const accessLogGroupId = logicalId(notifier.node.findChild('ApiAccessLogs'));
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: { DestinationArn: arnOf(accessLogGroupId), Format: Match.stringLikeRegexp('"requestId"') },
    });
    expect(onlyResource(template, 'AWS::Logs::LogGroup', accessLogGroupId).Properties).toMatchObject({
      RetentionInDays: 365,
      KmsKeyId: arnOf(logicalId(notifier.encryptionKey)),
    });
  });

  test('logs errors only, never request or response bodies', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ LoggingLevel: 'ERROR', DataTraceEnabled: false, MetricsEnabled: true })]),
    });
  });

  test('creates the account role API Gateway needs for access logs by default', () => {
    template.resourceCountIs('AWS::ApiGateway::Account', 1);
  });

  test('endpointUrl is the URL of this API and stage plus /webhooks/dodo', () => {
    const apiId = Object.keys(template.findResources('AWS::ApiGateway::RestApi'))[0];
    const stageId = Object.keys(template.findResources('AWS::ApiGateway::Stage'))[0];
    expect(renderCfnString(stack.resolve(notifier.endpointUrl))).toBe(
      `https://<Ref:${apiId}>.execute-api.<Ref:AWS::Region>.<Ref:AWS::URLSuffix>/<Ref:${stageId}>/webhooks/dodo`,
    );
  });
});

describe('functions', () => {
  test.each([
    ['NotifierReceiverFunction', 10, 256],
    ['NotifierTransformerFunction', 60, 256],
  ])('%s runs Node.js 22 on arm64 with its timeout and memory', (prefix, timeout, memory) => {
    const fn = onlyResource(template, 'AWS::Lambda::Function', prefix).Properties;
    expect(fn).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Timeout: timeout,
      MemorySize: memory,
    });
  });

  test('transformerMemorySize sets the transformer\'s memory (512, the default before, stays available)', () => {
    const { template: larger } = synthNotifier({ transformerMemorySize: 512 });
    expect(onlyResource(larger, 'AWS::Lambda::Function', 'NotifierTransformerFunction').Properties).toMatchObject({ MemorySize: 512 });
  });

  test('a route with user code gets 512 MB by default, and less is refused: its sandbox may grow the process by 192 MB', () => {
    const code = Transformation.fromInline('function handler(webhook) { webhook.payload = { text: "x" }; return webhook; }');
    const { template } = synthNotifier({ transformation: code });
    expect(onlyResource(template, 'AWS::Lambda::Function', 'NotifierTransformerFunction').Properties).toMatchObject({ MemorySize: 512 });
    expect(() => synthNotifier({ transformation: code, transformerMemorySize: 256 })).toThrow(/transformerMemorySize must be at least 512 MB when a route runs user code/);
  });

  test.each([
    ['NotifierReceiverFunction', 'NotifierReceiverLogs', ServiceName.Receiver],
    ['NotifierTransformerFunction', 'NotifierTransformerLogs', ServiceName.Transformer],
  ] as const)('%s logs to its own log group (one year, KMS-encrypted) and names its Powertools service', (prefix, logsPrefix, service) => {
    const fn = onlyResource<{ LoggingConfig: unknown; Environment: { Variables: unknown } }>(template, 'AWS::Lambda::Function', prefix).Properties;
    const logGroupId = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) => id.startsWith(logsPrefix))!;
    expect(fn.LoggingConfig).toEqual({ LogGroup: ref(logGroupId) });
    expect(onlyResource(template, 'AWS::Logs::LogGroup', logsPrefix).Properties).toMatchObject({
      RetentionInDays: 365,
      KmsKeyId: arnOf(logicalId(notifier.encryptionKey)),
    });
    expect(fn.Environment.Variables).toMatchObject({
      POWERTOOLS_SERVICE_NAME: service,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
    });
  });

  test('roles use no managed policies: logs only to their own log group', () => {
    for (const [rolePrefix, logsPrefix] of [
      ['NotifierReceiverRole', 'NotifierReceiverLogs'],
      ['NotifierTransformerRole', 'NotifierTransformerLogs'],
    ]) {
      expect(onlyResource(template, 'AWS::IAM::Role', rolePrefix).Properties.ManagedPolicyArns).toBeUndefined();
      const logGroupId = Object.keys(template.findResources('AWS::Logs::LogGroup')).find((id) => id.startsWith(logsPrefix))!;
      expect(actionsOn(roleStatements(template, rolePrefix), arnOf(logGroupId))).toEqual([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]);
    }
  });
});

describe('receiver', () => {
  test('gets the signing secret ARN, queue URL and default filter/tolerance/cache settings', () => {
    expect(receiverEnv).toMatchObject({
      [ReceiverEnv.SigningSecretArn]: ref(signingSecretId),
      [ReceiverEnv.QueueUrl]: ref(queueId),
      [ReceiverEnv.EventFilter]: '["*"]',
      [ReceiverEnv.TimestampToleranceSeconds]: '300',
      [ReceiverEnv.SecretCacheTtlSeconds]: '300',
    });
  });

  test('may read the signing secret and send to the queue, nothing else', () => {
    const statements = roleStatements(template, 'NotifierReceiverRole');
    expect(actionsOn(statements, ref(signingSecretId))).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(actionsOn(statements, arnOf(queueId))).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    expect(actionsOn(statements, ref(slackSecretId))).toEqual([]);
    // The fourth: X-Ray, which has no resource-level permissions.
    expect(statements).toHaveLength(4);
    expect(statements).toContainEqual({ Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Effect: 'Allow', Resource: '*' });
  });
});

describe('transformer', () => {
  test('consumes the queue in batches of 5, reporting item failures, at most 2 at a time', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: arnOf(queueId),
      FunctionName: ref(logicalId(notifier.transformerFunction)),
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 2 },
    });
  });

  test('gets the default route and every documented default setting', () => {
    const routes = JSON.parse(renderCfnString(transformerEnv[TransformerEnv.Routes])) as RouteConfig[];
    expect(routes).toEqual([
      { id: 'default', events: ['*'], slackSecretId: `<Ref:${slackSecretId}>`, transformation: { kind: 'builtin', options: {} } },
    ]);
    expect(transformerEnv).toMatchObject({
      [TransformerEnv.QueueUrl]: ref(queueId),
      [TransformerEnv.DeadLetterQueueUrl]: ref(dlqId),
      [TransformerEnv.IdempotencyTableName]: ref(tableId),
      [TransformerEnv.DeduplicationWindowSeconds]: String(48 * 3600),
      [TransformerEnv.SecretCacheTtlSeconds]: '300',
      [TransformerEnv.MaxReceiveCount]: '10',
      [TransformerEnv.SlackTimeoutMs]: '5000',
      // 1 message/s per Slack webhook, shared by the 2 concurrent instances.
      [TransformerEnv.DeliveryRatePerSecond]: '0.5',
      [TransformerEnv.DeliveryBurst]: '1',
    });
  });


  test('permissions: Slack secret read, queue visibility and re-queue, DLQ send, idempotency items', () => {
    const statements = roleStatements(template, 'NotifierTransformerRole');
    expect(actionsOn(statements, ref(slackSecretId))).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    expect(actionsOn(statements, ref(signingSecretId))).toEqual([]);
    expect(actionsOn(statements, arnOf(queueId))).toEqual(
      expect.arrayContaining(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']),
    );
    // Re-queue of records that were never attempted (429, out of time) at their last receive.
    expect(actionsOn(statements, arnOf(queueId))).toContain('sqs:SendMessage');
    expect(actionsOn(statements, arnOf(dlqId))).toEqual(['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage']);
    expect(actionsOn(statements, arnOf(tableId))).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
  });
});

describe('queues', () => {
  test('queue: SQS-managed SSE, visibility 6x the transformer timeout, redrive after 10 receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 360,
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlqId), maxReceiveCount: 10 },
    });
  });

  test('dead-letter queue: 14 days, SQS-managed SSE, no redrive of its own', () => {
    const dlq = onlyResource(template, 'AWS::SQS::Queue', dlqId).Properties;
    expect(dlq).toMatchObject({ MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
    expect(dlq.RedrivePolicy).toBeUndefined();
  });

  test('dead-letter queue: its redrive-allow policy names the queue, by the ARN the queue gets', () => {
    const dlq = onlyResource<{ RedriveAllowPolicy: { redrivePermission: string; sourceQueueArns: unknown[] } }>(template, 'AWS::SQS::Queue', dlqId).Properties;
    const queueName = renderCfnString(onlyResource(template, 'AWS::SQS::Queue', queueId).Properties.QueueName);
    // The path-derived prefix, then the start of the stack's UUID (Fn::Select of Fn::Split of AWS::StackId).
    expect(queueName).toMatch(/^TestStack-Notifier-[A-F0-9]{8}-Queue-<\{"Fn::Select":\[0,\{"Fn::Split":\["-",\{"Fn::Select":\[2,\{"Fn::Split":\["\/",\{"Ref":"AWS::StackId"\}\]\}\]\}\]\}\]\}>$/);
    expect(dlq.RedriveAllowPolicy.redrivePermission).toBe('byQueue');
    expect(dlq.RedriveAllowPolicy.sourceQueueArns.map(renderCfnString)).toEqual([
      `arn:<Ref:AWS::Partition>:sqs:<Ref:AWS::Region>:<Ref:AWS::AccountId>:${queueName}`,
    ]);
    // At most 80 characters once deployed: the prefix, "-Queue-" and 8 characters of the UUID.
    expect(queueName.replace(/<.*>$/, 'a1b2c3d4').length).toBeLessThanOrEqual(80);
  });

  test.each([['queue'], ['dead-letter queue']])('%s refuses requests without TLS', (which) => {
    const id = which === 'queue' ? queueId : dlqId;
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(id)],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('secrets', () => {
  test('both are created with the placeholder value when not passed', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    for (const id of [signingSecretId, slackSecretId]) {
      expect(onlyResource(template, 'AWS::SecretsManager::Secret', id).Properties.SecretString).toBe(SECRET_PLACEHOLDER);
    }
  });
});

describe('deduplication table', () => {
  test('on demand, key id (string), TTL on expiration: the Powertools idempotency defaults', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });

  test('is kept when it leaves the stack (its ids keep retries and redrives from posting twice)', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('is encrypted with the notifier key, which the transformer may use for items, nothing more', () => {
    const keyId = logicalId(notifier.encryptionKey);
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: arnOf(keyId) } });
    expect(actionsOn(roleStatements(template, 'NotifierTransformerRole'), arnOf(keyId))).toEqual([
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:Encrypt',
      'kms:GenerateDataKey',
      'kms:ReEncryptFrom',
      'kms:ReEncryptTo',
    ]);
    expect(actionsOn(roleStatements(template, 'NotifierReceiverRole'), arnOf(keyId))).toEqual([]);
  });
});

describe('alarms', () => {
  const topicId = logicalId(notifier.alarmTopic);
  const alarmProps = (alarm: cloudwatch.Alarm) => onlyResource(template, 'AWS::CloudWatch::Alarm', logicalId(alarm)).Properties;

  test('a TLS-only topic is created, with no subscription by default', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('seven alarms, exposed by stable name, each notifying the topic and quiet without data', () => {
    expect(Object.keys(notifier.alarms).sort()).toEqual([
      'apiServerErrors',
      'deadLetterQueueNotEmpty',
      'queueMessageAge',
      'receiverErrors',
      'signatureFailures',
      'transformationErrors',
      'transformerErrors',
    ]);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    for (const alarm of Object.values(notifier.alarms) as cloudwatch.Alarm[]) {
      expect(alarmProps(alarm)).toMatchObject({ AlarmActions: [ref(topicId)], TreatMissingData: 'notBreaching' });
    }
  });

  test('dead-letter queue: one visible message is enough', () => {
    expect(alarmProps(notifier.alarms.deadLetterQueueNotEmpty)).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('queue: oldest message older than 15 minutes', () => {
    expect(alarmProps(notifier.alarms.queueMessageAge)).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  test.each([
    ['receiverErrors', 'receiverFunction'],
    ['transformerErrors', 'transformerFunction'],
  ] as const)('%s: errors of that function', (alarmName, fnName) => {
    expect(alarmProps(notifier.alarms[alarmName])).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: ref(logicalId(notifier[fnName])) }],
      Threshold: 1,
    });
  });

  test('API 5XX, keyed by an API name unique to this notifier', () => {
    const apiName = onlyResource<{ Name: string }>(template, 'AWS::ApiGateway::RestApi').Properties.Name;
    expect(apiName).toMatch(/^TestStackNotifier/);
    expect(alarmProps(notifier.alarms.apiServerErrors)).toMatchObject({
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: [{ Name: 'ApiName', Value: apiName }],
    });
  });

  test.each([
    ['signatureFailures', MetricName.SignatureFailure, ServiceName.Receiver],
    ['transformationErrors', MetricName.TransformationError, ServiceName.Transformer],
  ] as const)('%s: custom metric with the Powertools service dimension', (alarmName, metricName, service) => {
    expect(alarmProps(notifier.alarms[alarmName])).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: metricName,
      Dimensions: [{ Name: 'service', Value: service }],
      Statistic: 'Sum',
      Threshold: 1,
    });
  });
});

describe('metrics and dashboard', () => {
  test.each(Object.values(MetricName))('metric%s() reads that metric in the shared namespace with the emitting service', (name) => {
    const method = (notifier as unknown as Record<string, unknown>)[`metric${name}`] as () => cloudwatch.Metric;
    expect(typeof method).toBe('function');
    const metric = method.call(notifier);
    expect(metric.namespace).toBe(METRICS_NAMESPACE);
    expect(metric.metricName).toBe(name);
    const receiverMetrics: string[] = [
      MetricName.WebhookReceived,
      MetricName.WebhookQueued,
      MetricName.WebhookIgnored,
      MetricName.SignatureFailure,
      MetricName.InvalidPayload,
      MetricName.PayloadTooLarge,
      MetricName.ReceiverUnavailable,
    ];
    expect(metric.dimensions).toEqual({ service: receiverMetrics.includes(name) ? ServiceName.Receiver : ServiceName.Transformer });
  });

  test('metric(name) reads any metric the notifier emits and refuses a name it does not emit', () => {
    const delivered = notifier.metric('MessageDelivered');
    expect([delivered.namespace, delivered.metricName, delivered.dimensions]).toEqual([
      METRICS_NAMESPACE,
      'MessageDelivered',
      { service: ServiceName.Transformer },
    ]);
    // A misspelt name would give an alarm that never fires; the error lists the right spellings.
    expect(() => notifier.metric('MessageDelivred')).toThrow(
      `DodoSlackNotifier.metric: unknown metric name "MessageDelivred"; the notifier emits ${Object.values(MetricName).join(', ')}`,
    );
    // Names inherited from Object.prototype are not metric names either.
    expect(() => notifier.metric('toString')).toThrow(/unknown metric name "toString"/);
  });

  test('metric methods accept overrides', () => {
    const metric = notifier.metricMessageDelivered({ statistic: 'Average', period: Duration.minutes(1) });
    expect(metric.statistic).toBe('Average');
    expect(metric.period.toSeconds()).toBe(60);
    expect(notifier.metricMessageDelivered().period.toSeconds()).toBe(300);
    expect(notifier.metricDeliveryLatency().statistic).toBe('p99');
  });

  test('no dashboard by default (3 USD a month): the metrics and alarms hold the same', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(notifier.dashboard).toBeUndefined();
  });

  test('with dashboard: true, one dashboard shows the whole flow', () => {
    const withDashboard = synthNotifier({ dashboard: true }).template;
    withDashboard.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const body = JSON.stringify(onlyResource(withDashboard, 'AWS::CloudWatch::Dashboard').Properties.DashboardBody);
    for (const expected of [
      ...Object.values(MetricName),
      'received',
      'signature failures (401)',
      'invalid (400)',
      'too large (413)',
      'queued',
      'delivered',
      'skipped',
      'retried',
      'rate limited (429)',
      'dead-lettered (DLQ depth)',
      'transformation errors',
      'delivery p50 (ms)',
      'delivery p99 (ms)',
      'receiver p99 (ms)',
      'transformer p99 (ms)',
      'ApproximateAgeOfOldestMessage',
      'alarm',
    ]) {
      expect(body).toContain(expected);
    }
  });
});

describe('every created resource is a public member, and the member is that resource in the template', () => {
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  /** The logical ids of the resources of a type (with a logical id prefix), sorted. */
  const idsOf = (type: string, prefix = '') => Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix)).sort();

  test.each([
    // The logical ids pinned in logical-ids.test.ts: these members are the stateful resources.
    ['queue', () => notifier.queue.queueArn, arnOf('NotifierQueueC94A553E'), 'AWS::SQS::Queue'],
    ['deadLetterQueue', () => notifier.deadLetterQueue.queueArn, arnOf('NotifierDeadLetterQueueB9B042D4'), 'AWS::SQS::Queue'],
    ['deduplicationTable', () => notifier.deduplicationTable.tableArn, arnOf('NotifierDeduplicationTableA8BA8E02'), 'AWS::DynamoDB::Table'],
    ['signingSecret', () => notifier.signingSecret.secretArn, ref('NotifierSigningSecret5CAA449E'), 'AWS::SecretsManager::Secret'],
    ['slackWebhookSecret', () => notifier.slackWebhookSecret!.secretArn, ref('NotifierSlackWebhookSecret7C60F2DF'), 'AWS::SecretsManager::Secret'],
    ['alarmTopic', () => notifier.alarmTopic.topicArn, ref('NotifierAlarmTopic2FDBDCA2'), 'AWS::SNS::Topic'],
  ] as const)('%s', (_member, reference, expected, type) => {
    expect(stack.resolve(reference())).toEqual(expected);
    const id = 'Ref' in expected ? expected.Ref : expected['Fn::GetAtt'][0];
    expect(resources[id].Type).toBe(type);
  });

  test('api, receiverFunction, transformerFunction, dashboard: the one resource of their kind', () => {
    const [apiId] = idsOf('AWS::ApiGateway::RestApi');
    const withDashboard = synthNotifier({ dashboard: true });
    const [dashboardId] = Object.keys(withDashboard.template.findResources('AWS::CloudWatch::Dashboard'));
    expect(idsOf('AWS::Lambda::Function', 'NotifierReceiverFunction')).toHaveLength(1);
    expect(idsOf('AWS::Lambda::Function', 'NotifierTransformerFunction')).toHaveLength(1);
    expect(stack.resolve(notifier.api.restApiId)).toEqual(ref(apiId));
    expect(withDashboard.stack.resolve(withDashboard.notifier.dashboard!.dashboardName)).toEqual(ref(dashboardId));
    expect(stack.resolve(notifier.receiverFunction.functionArn)).toEqual(arnOf(idsOf('AWS::Lambda::Function', 'NotifierReceiverFunction')[0]));
    expect(stack.resolve(notifier.transformerFunction.functionArn)).toEqual(
      arnOf(idsOf('AWS::Lambda::Function', 'NotifierTransformerFunction')[0]),
    );
  });

  test('alarms: one member per alarm in the template', () => {
    const alarmIds = (Object.values(notifier.alarms) as cloudwatch.Alarm[]).map((alarm) => (stack.resolve(alarm.alarmArn) as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
    expect(alarmIds.sort()).toEqual(idsOf('AWS::CloudWatch::Alarm'));
  });
});
