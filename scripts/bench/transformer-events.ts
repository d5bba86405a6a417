/**
 * Child process of `npm run bench` (bundled with the Lambda esbuild settings): CPU per event
 * through the real transformer handler (SQS batch -> dedupe -> built-in template -> Slack post ->
 * settle), with in-process stand-ins: SQS and Secrets Manager `send` answered in memory, DynamoDB
 * replaced by the project's MemoryPersistenceLayer (same Powertools idempotency code on top), and
 * `fetch` answering 200 "ok" like Slack. Sends `{ usPerEvent: number[], ... }` over IPC.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { MemoryPersistenceLayer } from '../../test/support/memory-persistence';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import { loadFixtures, newWebhookId } from './fixtures';
import { cpuMicrosPerEvent, fakeLambdaContext } from './lambda-context';
import { signatureCheckTimer } from './signature-unit';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
/** Passes over every fixture per round. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 10);
/** Unmeasured rounds first: JIT and caches settle (the first secret read happens here). */
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 8);
/** The construct's SQS event source batch size. */
const BATCH_SIZE = 5;
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:dodo-events';

async function main(): Promise<void> {
  let secretReads = 0;
  (SecretsManagerClient.prototype as unknown as { send: () => Promise<unknown> }).send = async () => {
    secretReads += 1;
    return { SecretString: 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX' };
  };
  let sqsCalls = 0;
  const sqs = { send: async () => ((sqsCalls += 1), {}) } as unknown as SQSClient;
  let posted = 0;
  globalThis.fetch = (async (_url: string | URL | Request, init?: RequestInit) => {
    if (typeof init?.body !== 'string' || init.body.length === 0) throw new Error('empty Slack post');
    posted += 1;
    return new Response('ok', { status: 200, headers: { 'content-type': 'text/html' } });
  }) as typeof fetch;

  const route: RouteConfig = {
    id: 'default',
    events: ['*'],
    slackSecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo-slack-url',
    transformation: { kind: 'builtin', options: {} },
  };
  const handler = createTransformerHandler({
    env: {
      ...process.env,
      [TransformerEnv.Routes]: JSON.stringify([route]),
      [TransformerEnv.QueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/dodo-events',
      [TransformerEnv.DeadLetterQueueUrl]: 'https://sqs.us-east-1.amazonaws.com/123456789012/dodo-events-dlq',
      // Pacing waits are wall time, not CPU; a high rate keeps the run short without skipping the limiter's code.
      [TransformerEnv.DeliveryRatePerSecond]: '1000000',
      [TransformerEnv.DeliveryBurst]: '1000000',
    },
    sqs,
    persistenceStore: new MemoryPersistenceLayer(),
  });
  const context = fakeLambdaContext('dodo-slack-transformer', 60_000);
  const fixtures = loadFixtures(process.argv[2]);

  const record = (body: string, eventType: string): SQSRecord => {
    const webhookId = newWebhookId();
    const now = Date.now();
    const attribute = (stringValue: string) => ({ stringValue, dataType: 'String', stringListValues: [], binaryListValues: [] });
    return {
      messageId: `${webhookId}-sqs`,
      receiptHandle: `AQEB${webhookId}`,
      body,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(now),
        SenderId: 'AROAEXAMPLE:dodo-slack-receiver',
        ApproximateFirstReceiveTimestamp: String(now),
      },
      messageAttributes: {
        [MessageAttribute.WebhookId]: attribute(webhookId),
        [MessageAttribute.WebhookTimestamp]: attribute(String(Math.floor(now / 1000))),
        [MessageAttribute.EventType]: attribute(eventType),
      },
      md5OfBody: '00000000000000000000000000000000',
      eventSource: 'aws:sqs',
      eventSourceARN: QUEUE_ARN,
      awsRegion: 'us-east-1',
    };
  };
  const makeBatches = (): SQSEvent[] => {
    const records: SQSRecord[] = [];
    for (let repeat = 0; repeat < REPEATS; repeat += 1) {
      for (const fixture of fixtures) records.push(record(fixture.body, fixture.envelope.type));
    }
    const batches: SQSEvent[] = [];
    for (let start = 0; start < records.length; start += BATCH_SIZE) batches.push({ Records: records.slice(start, start + BATCH_SIZE) });
    return batches;
  };

  let failedItems = 0;
  const runAll = async (batches: readonly SQSEvent[]): Promise<void> => {
    for (const batch of batches) {
      const response = await handler(batch, context);
      failedItems += response.batchItemFailures.length;
    }
  };

  for (let round = 0; round < WARMUP_ROUNDS; round += 1) await runAll(makeBatches());
  const warmPosted = posted;
  const warmSqs = sqsCalls;

  const prepared = Array.from({ length: ROUNDS }, makeBatches);
  const eventsPerRound = fixtures.length * REPEATS;
  const timeCheck = signatureCheckTimer(fixtures);
  const { usPerEvent, checkUs } = await cpuMicrosPerEvent(ROUNDS, eventsPerRound, (round) => runAll(prepared[round]), timeCheck);
  process.send?.({
    usPerEvent,
    checkUs,
    events: ROUNDS * eventsPerRound,
    posted: posted - warmPosted,
    sqsCalls: sqsCalls - warmSqs,
    failedItems,
    secretReads,
    fixtures: fixtures.length,
  });
}

main().catch((error: unknown) => {
  process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
});
