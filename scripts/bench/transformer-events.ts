/**
 * Child process of `npm run bench` (bundled with the Lambda esbuild settings): CPU per event
 * through the real transformer handler (SQS batch -> dedupe -> built-in template -> Slack post ->
 * settle) and, alternated round by round in this process, through its minimal twin
 * (scripts/bench/minimal-twins.ts), with in-process stand-ins: SQS and Secrets Manager `send`
 * answered in memory, DynamoDB replaced by the project's MemoryPersistenceLayer (same Powertools
 * idempotency code on top), and `fetch` answering 200 "ok" like Slack, to the handler and the twin
 * alike. Sends `{ usPerEvent: number[], minimalUsPerEvent: number[], ... }` over IPC.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { MemoryPersistenceLayer } from '../../test/support/memory-persistence';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import { loadFixtures, newWebhookId } from './fixtures';
import { cpuPerEventSideBySide, fakeLambdaContext } from './lambda-context';
import { minimalTransformer } from './minimal-twins';
import { signatureCheckTimer } from './signature-unit';

/** Measured rounds; each round's figure is a side's CPU over all its turns. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
/**
 * Turns of the handler and of its twin per round, each BLOCK_BATCHES batches. Rounds are long
 * (3,000 events, about half a second) so that each holds several young-generation collections and
 * each side pays for them in proportion to what it allocates (see lambda-context.ts).
 */
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 60);
/** Unmeasured rounds first: JIT and caches settle (the first secret read happens here). */
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 1);
/** The construct's SQS event source batch size. */
const BATCH_SIZE = 5;
/** Batches per turn (50 events, the fixtures in turn). */
const BLOCK_BATCHES = 10;
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:dodo-events';
const SLACK_URL = 'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';

async function main(): Promise<void> {
  let secretReads = 0;
  (SecretsManagerClient.prototype as unknown as { send: () => Promise<unknown> }).send = async () => {
    secretReads += 1;
    return { SecretString: SLACK_URL };
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
  const twin = minimalTransformer({ slackUrl: SLACK_URL });
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
  /**
   * One turn's batches, full ones of BATCH_SIZE records, the fixtures taken in turn where the last
   * turn stopped; each side has its own, so the handler and its twin see the same event types.
   */
  const batchMaker = (): (() => SQSEvent[]) => {
    let next = 0;
    return () => {
      const batches: SQSEvent[] = [];
      for (let batch = 0; batch < BLOCK_BATCHES; batch += 1) {
        const records: SQSRecord[] = [];
        for (let index = 0; index < BATCH_SIZE; index += 1) {
          const fixture = fixtures[next];
          next = (next + 1) % fixtures.length;
          records.push(record(fixture.body, fixture.envelope.type));
        }
        batches.push({ Records: records });
      }
      return batches;
    };
  };
  const oursBatches = batchMaker();
  const twinBatches = batchMaker();

  /** Counted per side: failed batch items, posts that reached the Slack stand-in, SQS calls. */
  const count = { failedItems: 0, posted: 0, sqsCalls: 0, minimalFailedItems: 0, minimalPosted: 0 };
  const runAll = async (batches: readonly SQSEvent[]): Promise<void> => {
    const [postedBefore, sqsBefore] = [posted, sqsCalls];
    for (const batch of batches) {
      const response = await handler(batch, context);
      count.failedItems += response.batchItemFailures.length;
    }
    count.posted += posted - postedBefore;
    count.sqsCalls += sqsCalls - sqsBefore;
  };
  const runTwin = async (batches: readonly SQSEvent[]): Promise<void> => {
    const postedBefore = posted;
    for (const batch of batches) {
      const response = await twin(batch);
      count.minimalFailedItems += response.batchItemFailures.length;
    }
    count.minimalPosted += posted - postedBefore;
  };

  for (let block = 0; block < WARMUP_ROUNDS * BLOCKS; block += 1) {
    await runAll(oursBatches());
    await runTwin(twinBatches());
  }
  Object.assign(count, { failedItems: 0, posted: 0, sqsCalls: 0, minimalFailedItems: 0, minimalPosted: 0 });

  const timeCheck = signatureCheckTimer(fixtures);
  const { usPerEvent, minimalUsPerEvent, checkUs } = await cpuPerEventSideBySide(
    ROUNDS,
    BLOCKS,
    BLOCK_BATCHES * BATCH_SIZE,
    { prepare: oursBatches, run: runAll },
    { prepare: twinBatches, run: runTwin },
    timeCheck,
  );
  process.send?.({
    usPerEvent,
    minimalUsPerEvent,
    checkUs,
    events: ROUNDS * BLOCKS * BLOCK_BATCHES * BATCH_SIZE,
    ...count,
    secretReads,
    fixtures: fixtures.length,
  });
}

main().catch((error: unknown) => {
  process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
});
