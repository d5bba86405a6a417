/**
 * The counting harness: the real receiver and transformer handlers, wired from the synthesized
 * template's environment, against the emulators the tests use (dynalite for DynamoDB, fauxqs for
 * SQS) and stand-ins on 127.0.0.1 for Secrets Manager (answers GetSecretValue) and Slack (an
 * incoming webhook, or the Web API in app mode). Each webhook goes the way it goes on AWS: an API
 * Gateway proxy event into the receiver, then the event source's receive of a batch, the
 * transformer, the event source's delete. Every AWS request is counted on the wire (observe.ts),
 * every byte the handlers log, every invocation's wall time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createReceiverHandler, receiverConfigFromEnv } from '../../../lambda/receiver/handler';
import { createTransformerHandler, type TransformerHandler } from '../../../lambda/transformer/handler';
import { ReceiverEnv, TransformerEnv, type RouteConfig } from '../../../lambda/shared/function-env';
import { toSqsMessage } from '../../../lambda/shared/aws/sqs-message';
import { startDynalite, type Dynalite } from '../../../test/support/dynalite';
import { threadTableDefinition } from '../../../test/support/dynalite-threads';
import { startFauxqs, type Fauxqs } from '../../../test/support/fauxqs';
import { FakeSlack } from '../../../test/support/fake-slack';
import { FakeSlackApi } from '../../../test/support/fake-slack-api';
import { toLambdaEvent } from '../../../test/support/delivery';
import { lambdaContext } from '../../../test/support/lambda-context';
import { loadFixtures, newSigningSecret, signedHeaders, type Fixture } from '../fixtures';
import { resolveLocalhostNames } from '../stand-ins';
import { launchDayPicker } from '../launch-day';
import { liveChildren } from '../processes';
import { CallRecorder, type AwsCall } from './observe';
import { APP_CHANNEL, type SynthesizedNotifier } from './template';

const SIGNING_SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo/signing-AbCdEf';
const SLACK_SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo/slack-AbCdEf';
const BOT_TOKEN = 'xoxb-test-0000-token';

/** What one run of webhooks cost in requests, log bytes and invocation time. */
export interface PipelineRun {
  readonly webhooks: number;
  readonly calls: readonly AwsCall[];
  readonly logBytes: Readonly<Record<string, number>>;
  /** Wall time of each invocation, ms, by function. */
  readonly durationsMs: Readonly<Record<'receiver' | 'transformer', readonly number[]>>;
  /** Records per transformer invocation. */
  readonly batchSizes: readonly number[];
  /** Requests that reached Slack (incoming webhook posts, or Web API calls in app mode). */
  readonly slackRequests: number;
  /** Distinct custom metrics (namespace, name, dimensions) in the EMF documents the handlers wrote. */
  readonly customMetrics: readonly string[];
}

export interface Emulators {
  readonly recorder: CallRecorder;
  readonly db: Dynalite;
  readonly fauxqs: Fauxqs;
  readonly slack: FakeSlack;
  readonly slackApi: FakeSlackApi;
  stop(): Promise<void>;
}

/** Starts the emulators and stand-ins and points the SDK's default clients at them through the environment. */
export async function startEmulators(): Promise<Emulators> {
  resolveLocalhostNames();
  const signing = newSigningSecret();
  signingKey = signing.key;
  const db = await startDynalite();
  const fauxqs = await startFauxqs();
  liveChildren.add(fauxqs.process);
  const slack = await new FakeSlack().start();
  const slackApi = await new FakeSlackApi().start();
  const secrets = await startSecretsStandIn({ [SIGNING_SECRET_ID]: signing.secret, [SLACK_SECRET_ID]: slack.url('/services/T000/B000/cost-model'), [BOT_SECRET_MARK]: BOT_TOKEN });
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
    AWS_ENDPOINT_URL_SQS: fauxqs.address,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
  });
  delete process.env.AWS_PROFILE;
  const recorder = new CallRecorder();
  recorder.install(db.endpoint);
  return {
    recorder,
    db,
    fauxqs,
    slack,
    slackApi,
    async stop() {
      recorder.uninstall();
      fauxqs.stop();
      liveChildren.delete(fauxqs.process);
      await Promise.all([slack.stop(), slackApi.stop(), db.stop(), new Promise<void>((resolve) => secrets.server.close(() => resolve()))]);
    },
  };
}

let signingKey: Buffer;
/** Any secret id holding `slack-bot` is the app mode's bot token. */
const BOT_SECRET_MARK = 'slack-bot';

/** A Secrets Manager stand-in: GetSecretValue over the JSON protocol, secrets by id. */
async function startSecretsStandIn(values: Record<string, string>): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      const key = Object.keys(values).find((id) => id === SecretId || (SecretId ?? '').includes(id));
      response.writeHead(key ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify(key ? { ARN: SecretId, Name: SecretId, SecretString: values[key], VersionId: 'v1' } : { __type: 'ResourceNotFoundException', message: 'not found' }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

interface Wired {
  readonly receiver: ReturnType<typeof createReceiverHandler>;
  readonly transformers: TransformerHandler[];
  readonly queueUrl: string;
  readonly poller: SQSClient;
}

let queues = 0;

/** Creates the queues and tables of one configuration and the handlers, with the template's environment. */
async function wire(emulators: Emulators, notifier: SynthesizedNotifier, instances: number, transformerEnv: Record<string, string>): Promise<Wired> {
  const { fauxqs, db } = emulators;
  queues += 1;
  const dlqUrl = (await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: `cost-dlq-${queues}` }))).QueueUrl!;
  const queueUrl = (await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: `cost-${queues}`, Attributes: { VisibilityTimeout: '360' } }))).QueueUrl!;
  const app = notifier.configuration === 'app';
  const route: RouteConfig = {
    id: 'default',
    events: ['*'],
    slackSecretId: app ? `arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo/${BOT_SECRET_MARK}-AbCdEf` : SLACK_SECRET_ID,
    ...(app ? { slackChannelId: APP_CHANNEL } : {}),
    transformation: { kind: 'builtin', options: {} },
  };
  const tables: Record<string, string> = { [TransformerEnv.IdempotencyTableName]: await db.createDeduplicationTable() };
  if (notifier.summary) {
    const name = `summaries-${queues}`;
    await db.createSummaryTable(name);
    tables[TransformerEnv.SummaryTableName] = name;
  }
  if (app) {
    const name = `threads-${queues}`;
    await db.client.send(new CreateTableCommand({ ...threadTableDefinition(), TableName: name }));
    tables[TransformerEnv.ThreadTableName] = name;
  }
  const receiver = createReceiverHandler(
    receiverConfigFromEnv({ ...notifier.receiver.env, [ReceiverEnv.SigningSecretArn]: SIGNING_SECRET_ID, [ReceiverEnv.QueueUrl]: queueUrl }),
  );
  const env = {
    ...notifier.transformer.env,
    [TransformerEnv.Routes]: JSON.stringify([route]),
    [TransformerEnv.QueueUrl]: queueUrl,
    [TransformerEnv.DeadLetterQueueUrl]: dlqUrl,
    ...tables,
    ...transformerEnv,
  };
  const transformers = Array.from({ length: instances }, () =>
    createTransformerHandler({ env, allowInsecureLocalhostSlack: true, ...(app ? { slackApiUrl: emulators.slackApi.url } : {}) }),
  );
  const poller = new SQSClient({ endpoint: fauxqs.address, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  return { receiver, transformers, queueUrl, poller };
}

function apiGatewayEvent(fixture: Fixture): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    Host: 'abc123.execute-api.us-east-1.amazonaws.com',
    'User-Agent': 'Svix-Webhooks/1.0',
    'X-Amzn-Trace-Id': 'Root=1-00000000-000000000000000000000000',
    'X-Forwarded-For': '203.0.113.10',
    ...signedHeaders(signingKey, fixture.body),
  };
  return {
    body: fixture.body,
    isBase64Encoded: false,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    httpMethod: 'POST',
    path: '/webhooks/dodo',
    resource: '/webhooks/dodo',
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

/** Wall time of `run`, less the time the recorder spent sizing DynamoDB items meanwhile (the handler did not wait for that on AWS). */
const timed = async <T>(recorder: CallRecorder, durations: number[], run: () => Promise<T>): Promise<T> => {
  const started = performance.now();
  const lookups = recorder.lookupMs();
  try {
    return await run();
  } finally {
    durations.push(performance.now() - started - (recorder.lookupMs() - lookups));
  }
};

/** The event source's part: receive a batch (long poll), invoke, delete what did not fail in one batch call. */
async function pollOnce(emulators: Emulators, wired: Wired, transformer: TransformerHandler, batchSize: number, durations: number[], batchSizes: number[]): Promise<number> {
  const { recorder } = emulators;
  const received = await recorder.as('event-source', () =>
    wired.poller.send(new ReceiveMessageCommand({ QueueUrl: wired.queueUrl, MaxNumberOfMessages: batchSize, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] })),
  );
  const messages = received.Messages ?? [];
  if (messages.length === 0) return 0;
  batchSizes.push(messages.length);
  const response = await recorder.as('transformer', () => timed(recorder, durations, () => transformer(toLambdaEvent(messages), lambdaContext({ functionName: 'dodo-slack-transformer' }))));
  const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
  const done = messages.filter((message) => !failed.has(message.MessageId!));
  if (done.length > 0) {
    await recorder.as('event-source', () =>
      wired.poller.send(new DeleteMessageBatchCommand({ QueueUrl: wired.queueUrl, Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! })) })),
    );
  }
  return messages.length;
}

function summarize(emulators: Emulators, webhooks: number, durationsMs: PipelineRun['durationsMs'], batchSizes: number[], slackBefore: number): PipelineRun {
  const { recorder } = emulators;
  return {
    webhooks,
    calls: [...recorder.calls],
    logBytes: Object.fromEntries(recorder.logBytes),
    durationsMs,
    batchSizes,
    slackRequests: emulators.slack.requests.length + emulators.slackApi.calls.length - slackBefore,
    customMetrics: [...recorder.metrics],
  };
}

/**
 * Trickle: webhooks one at a time, each through the whole pipeline before the next arrives, as they
 * do when they come seconds or minutes apart. A first webhook fills the caches (secrets, clients)
 * and is reported apart (`cold`); `webhooks` more are the steady state. Pacing never waits here:
 * the token bucket is full again between webhooks that far apart (the model prices the waits of
 * closer arrivals from the rate in the template).
 */
export async function runTrickle(
  emulators: Emulators,
  notifier: SynthesizedNotifier,
  webhooks: number,
  transformerEnv: Record<string, string> = {},
): Promise<{ readonly cold: PipelineRun; readonly warm: PipelineRun }> {
  const fixtures = loadFixtures();
  const wired = await wire(emulators, notifier, 1, {
    // A full bucket for each webhook: in the harness they follow each other at once.
    [TransformerEnv.DeliveryRatePerSecond]: '1000',
    [TransformerEnv.DeliveryBurst]: '1000',
    ...transformerEnv,
  });
  const run = async (count: number, offset: number): Promise<PipelineRun> => {
    emulators.recorder.reset();
    const slackBefore = emulators.slack.requests.length + emulators.slackApi.calls.length;
    const durations = { receiver: [] as number[], transformer: [] as number[] };
    const batchSizes: number[] = [];
    for (let index = 0; index < count; index += 1) {
      const fixture = fixtures[(offset + index) % fixtures.length];
      const response = await emulators.recorder.as('receiver', () =>
        timed(emulators.recorder, durations.receiver, () => wired.receiver(apiGatewayEvent(fixture), lambdaContext({ functionName: 'dodo-slack-receiver' }))),
      );
      if (response.statusCode !== 200) throw new Error(`the receiver answered ${response.statusCode}: ${response.body}`);
      if ((await pollOnce(emulators, wired, wired.transformers[0], notifier.batchSize, durations.transformer, batchSizes)) !== 1) throw new Error('the queued webhook did not come back from the queue');
    }
    return summarize(emulators, count, durations, batchSizes, slackBefore);
  };
  const cold = await run(1, 0);
  const warm = await run(webhooks, 1);
  return { cold, warm };
}

/**
 * A burst: `webhooks` verified webhooks of the launch-day mix (launch-day.ts) on the queue at once (put there uncounted: the receiver's
 * requests per webhook are the trickle run's), drained by as many transformer instances as the
 * event source runs at most, at the pace and with the roll-ups the template configures, in real
 * time. The transformer's billed time is measured here, waits for Slack's pace included.
 */
export async function runBurst(emulators: Emulators, notifier: SynthesizedNotifier, webhooks: number, transformerEnv: Record<string, string> = {}, deadlineMs = 240_000): Promise<PipelineRun & { readonly seconds: number }> {
  const pick = launchDayPicker(loadFixtures());
  const instances = Math.min(notifier.maxConcurrency, 1000);
  const wired = await wire(emulators, notifier, instances, transformerEnv);
  const nowSeconds = String(Math.floor(Date.now() / 1000));
  for (let index = 0; index < webhooks; index += 10) {
    const entries = Array.from({ length: Math.min(10, webhooks - index) }, (_, offset) => {
      const fixture = pick(index + offset);
      const webhookId = `msg_cost_burst_${queues}_${index + offset}`;
      return { Id: String(offset), ...toSqsMessage({ webhookId, webhookTimestamp: nowSeconds, eventType: fixture.envelope.type, body: fixture.body }) };
    });
    await emulators.recorder.as('harness', () => wired.poller.send(new SendMessageBatchCommand({ QueueUrl: wired.queueUrl, Entries: entries })));
  }
  emulators.recorder.reset();
  // A roll-up claims hundreds of webhook-ids at once: item sizes come from the trickle runs instead of overlapping look-ups.
  emulators.recorder.sizeItems = false;
  const slackBefore = emulators.slack.requests.length + emulators.slackApi.calls.length;
  const durations = { receiver: [] as number[], transformer: [] as number[] };
  const batchSizes: number[] = [];
  const started = Date.now();
  let empty = 0;
  await Promise.all(
    wired.transformers.map(async (transformer) => {
      while (Date.now() - started < deadlineMs) {
        if ((await pollOnce(emulators, wired, transformer, notifier.batchSize, durations.transformer, batchSizes)) > 0) {
          empty = 0;
          continue;
        }
        empty += 1;
        if (empty >= instances * 2) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }),
  );
  emulators.recorder.sizeItems = true;
  const run = summarize(emulators, webhooks, durations, batchSizes, slackBefore);
  return { ...run, calls: run.calls.filter((call) => call.actor !== 'harness'), seconds: (Date.now() - started) / 1000 };
}
