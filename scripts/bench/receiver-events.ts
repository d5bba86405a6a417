/**
 * Child process of `npm run bench` (bundled with the Lambda esbuild settings): CPU per event
 * through the real receiver handler and, alternated block by block in this process, through its
 * minimal twin (scripts/bench/minimal-twins.ts). Both send every accepted webhook with the SDK's
 * SQSClient to the same SQS stand-in (the fauxqs emulator, in another process: stand-ins.ts), so
 * the request work any receiver must do is on both sides. Only Secrets Manager is answered in
 * process (it is read once and cached). Sends `{ usPerEvent: number[], minimalUsPerEvent: number[],
 * ... }` to the parent over IPC.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createReceiverHandler } from '../../lambda/receiver/handler';
import { loadFixtures, newSigningSecret, signedHeaders } from './fixtures';
import { cpuPerEventSideBySide, fakeLambdaContext } from './lambda-context';
import { minimalReceiver } from './minimal-twins';
import { signatureCheckTimer } from './signature-unit';
import { resolveLocalhostNames } from './stand-ins';

/** Measured rounds; each round's figure is a side's CPU over all its turns. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
/**
 * Passes over every fixture per round; one pass is one turn of the handler or of its twin. With an
 * SQS request per event a round (384 events a side) holds several young-generation collections, so
 * each side pays for them in proportion to what it allocates (see lambda-context.ts).
 */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 8);
/** Unmeasured rounds first: JIT and caches settle (the first secret read happens here). */
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 1);

async function main(): Promise<void> {
  resolveLocalhostNames();
  const { secret, key } = newSigningSecret();
  let queued = 0;
  let secretReads = 0;
  // Counts what reaches the stand-in, for the handler and the twin alike (one increment per request).
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with apply on the client that sends, below
  const send = SQSClient.prototype.send;
  (SQSClient.prototype as unknown as { send: (...args: unknown[]) => Promise<unknown> }).send = async function (this: SQSClient, ...args: unknown[]) {
    const answer = await (send as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    queued += 1;
    return answer;
  };
  (SecretsManagerClient.prototype as unknown as { send: () => Promise<unknown> }).send = () => {
    secretReads += 1;
    return Promise.resolve({ SecretString: secret });
  };

  const queueUrl = process.env.BENCH_QUEUE_URL;
  if (!queueUrl) throw new Error('BENCH_QUEUE_URL is not set: the SQS stand-in (stand-ins.ts) gives it');
  const handler = createReceiverHandler({
    signingSecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo-signing',
    queueUrl,
    eventGlobs: ['*'],
    toleranceSeconds: 300,
    secretCacheTtlSeconds: 300,
  });
  const twin = minimalReceiver({ key, sqs: new SQSClient({}), queueUrl, toleranceSeconds: 300 });
  const context = fakeLambdaContext('dodo-slack-receiver');
  const fixtures = loadFixtures(process.argv[2]);

  /** One pass over the fixtures as API Gateway REST proxy events, as the integration delivers them (headers twice: single and multi-value). */
  const makeEvents = (): APIGatewayProxyEvent[] => {
    const events: APIGatewayProxyEvent[] = [];
    for (const fixture of fixtures) {
      const headers: Record<string, string> = {
        Accept: '*/*',
        'Content-Type': 'application/json',
        Host: 'abc123.execute-api.us-east-1.amazonaws.com',
        'User-Agent': 'Svix-Webhooks/1.0',
        'X-Amzn-Trace-Id': 'Root=1-00000000-000000000000000000000000',
        'X-Forwarded-For': '203.0.113.10',
        'X-Forwarded-Port': '443',
        'X-Forwarded-Proto': 'https',
        ...signedHeaders(key, fixture.body),
      };
      events.push({
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
      });
    }
    return events;
  };

  /** Counted per side: what each accepted and what reached the SQS stand-in. */
  const count = { rejected: 0, queued: 0, minimalRejected: 0, minimalQueued: 0 };
  const runAll = async (events: readonly APIGatewayProxyEvent[]): Promise<void> => {
    const queuedBefore = queued;
    for (const event of events) {
      const response = await handler(event, context);
      if (response.statusCode !== 200) count.rejected += 1;
    }
    count.queued += queued - queuedBefore;
  };
  const runTwin = async (events: readonly APIGatewayProxyEvent[]): Promise<void> => {
    const queuedBefore = queued;
    for (const event of events) {
      const response = await twin(event);
      if (response.statusCode !== 200) count.minimalRejected += 1;
    }
    count.minimalQueued += queued - queuedBefore;
  };

  for (let pass = 0; pass < WARMUP_ROUNDS * REPEATS; pass += 1) {
    await runAll(makeEvents());
    await runTwin(makeEvents());
  }
  Object.assign(count, { rejected: 0, queued: 0, minimalRejected: 0, minimalQueued: 0 });

  const timeCheck = signatureCheckTimer(fixtures);
  const { usPerEvent, minimalUsPerEvent, checkUs } = await cpuPerEventSideBySide(
    ROUNDS,
    REPEATS,
    fixtures.length,
    { prepare: makeEvents, run: runAll },
    { prepare: makeEvents, run: runTwin },
    timeCheck,
  );
  process.send?.({
    usPerEvent,
    minimalUsPerEvent,
    checkUs,
    events: ROUNDS * REPEATS * fixtures.length,
    ...count,
    secretReads,
    fixtures: fixtures.length,
  });
}

main().catch((error: unknown) => {
  process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
});
