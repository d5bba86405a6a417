/**
 * Child process of `npm run bench` (bundled with the Lambda esbuild settings): CPU per event
 * through the real receiver handler, with the AWS clients answered in process (no network).
 * Sends `{ usPerEvent: number[], ... }` to the parent over IPC.
 *
 * The fakes replace `send` on the SDK client classes, as aws-sdk-client-mock does: the handler,
 * its Secrets Manager cache, the core receiver, Powertools Logger and Metrics all run as deployed;
 * what is skipped is the SDK's request serialisation, signing and the HTTPS call itself.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createReceiverHandler } from '../../lambda/receiver/handler';
import { loadFixtures, newSigningSecret, signedHeaders } from './fixtures';
import { cpuMicrosPerEvent, fakeLambdaContext } from './lambda-context';
import { signatureCheckTimer } from './signature-unit';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
/** Passes over every fixture per round. */
const REPEATS = Number(process.env.BENCH_REPEATS ?? 20);
/** Unmeasured rounds first: JIT and caches settle (the first secret read happens here). */
const WARMUP_ROUNDS = Number(process.env.BENCH_WARMUP_ROUNDS ?? 8);

async function main(): Promise<void> {
  const { secret, key } = newSigningSecret();
  let queued = 0;
  let secretReads = 0;
  (SQSClient.prototype as unknown as { send: () => Promise<unknown> }).send = async () => {
    queued += 1;
    return { MessageId: `m-${queued}` };
  };
  (SecretsManagerClient.prototype as unknown as { send: () => Promise<unknown> }).send = async () => {
    secretReads += 1;
    return { SecretString: secret };
  };

  const handler = createReceiverHandler({
    signingSecretId: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo-signing',
    queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/dodo-events',
    eventGlobs: ['*'],
    toleranceSeconds: 300,
    secretCacheTtlSeconds: 300,
  });
  const context = fakeLambdaContext('dodo-slack-receiver');
  const fixtures = loadFixtures(process.argv[2]);

  /** API Gateway REST proxy events as the integration delivers them (headers twice: single and multi-value). */
  const makeEvents = (): APIGatewayProxyEvent[] => {
    const events: APIGatewayProxyEvent[] = [];
    for (let repeat = 0; repeat < REPEATS; repeat += 1) {
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
    }
    return events;
  };

  let rejected = 0;
  const runAll = async (events: readonly APIGatewayProxyEvent[]): Promise<void> => {
    for (const event of events) {
      const response = await handler(event, context);
      if (response.statusCode !== 200) rejected += 1;
    }
  };

  for (let round = 0; round < WARMUP_ROUNDS; round += 1) await runAll(makeEvents());
  const warmQueued = queued;

  const prepared = Array.from({ length: ROUNDS }, makeEvents);
  const eventsPerRound = fixtures.length * REPEATS;
  const timeCheck = signatureCheckTimer(fixtures);
  const { usPerEvent, checkUs } = await cpuMicrosPerEvent(ROUNDS, eventsPerRound, (round) => runAll(prepared[round]), timeCheck);
  process.send?.({ usPerEvent, checkUs, events: ROUNDS * eventsPerRound, queued: queued - warmQueued, rejected, secretReads, fixtures: fixtures.length });
}

main().catch((error: unknown) => {
  process.send?.({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
});
