/**
 * Child process of `npm run bench` (bundled with the Lambda esbuild settings): CPU per event
 * through the real transformer handler (SQS batch -> dedupe -> built-in template -> Slack post ->
 * settle) and, alternated block by block in this process, through its minimal twin
 * (scripts/bench/minimal-twins.ts). Both post with `fetch` to the same Slack stand-in (an HTTP
 * server on 127.0.0.1 in the bench's process: stand-ins.ts), so the request work any transformer
 * must do is on both sides. What only the handler does is answered in process: Secrets Manager
 * (read once, cached), SQS (a successful batch makes no call) and DynamoDB, replaced by the
 * in-memory layer under the same Powertools idempotency code. Sends `{ usPerEvent: number[],
 * minimalUsPerEvent: number[], ... }` over IPC.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import { Limits } from '../../lambda/shared/limits';
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
 * Turns of the handler and of its twin per round, each BLOCK_BATCHES batches. With a Slack request
 * per event a round (600 events a side) holds several young-generation collections, so each side
 * pays for them in proportion to what it allocates (see lambda-context.ts).
 */
const BLOCKS = Number(process.env.BENCH_BLOCKS ?? 12);
/** Unmeasured rounds first: JIT and caches settle (the first secret read happens here). */
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 1);
/** The construct's SQS event source batch size. */
const BATCH_SIZE = 5;
/** Batches per turn (50 events, the fixtures in turn). */
const BLOCK_BATCHES = 10;
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:dodo-events';

async function main(): Promise<void> {
  const slackUrl = process.env.BENCH_SLACK_URL;
  if (!slackUrl) throw new Error('BENCH_SLACK_URL is not set: the Slack stand-in (stand-ins.ts) gives it');
  let secretReads = 0;
  (SecretsManagerClient.prototype as unknown as { send: () => Promise<unknown> }).send = () => {
    secretReads += 1;
    return Promise.resolve({ SecretString: slackUrl });
  };
  let sqsCalls = 0;
  const sqs = { send: () => ((sqsCalls += 1), Promise.resolve({})) } as unknown as SQSClient;
  // Counts the posts the stand-in answered, for the handler and the twin alike.
  let posted = 0;
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
    const response = await realFetch(...args);
    if (response.ok) posted += 1;
    return response;
  });

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
      // Pacing waits are wall time, not CPU; the highest rate and burst allowed keep the run short without skipping the limiter's code.
      [TransformerEnv.DeliveryRatePerSecond]: String(Limits.deliveryRatePerSecond.max),
      [TransformerEnv.DeliveryBurst]: String(Limits.deliveryBurst.max),
    },
    sqs,
    persistenceStore: new MemoryPersistenceLayer(),
    // The stand-in is plain HTTP on 127.0.0.1.
    allowInsecureLocalhostSlack: true,
  });
  const twin = minimalTransformer({ slackUrl });
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
