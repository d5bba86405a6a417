/**
 * How one X-Ray trace follows a webhook through SQS (the `tracing` prop): in Lambda, the SDK's
 * recursion-detection middleware copies the invocation's trace id (`_X_AMZN_TRACE_ID`) into the
 * `X-Amzn-Trace-Id` header of the receiver's SendMessage; SQS keeps it as the message's
 * AWSTraceHeader and Lambda continues the trace in the transformer. Checked here on the real SQS
 * client against a stand-in SQS endpoint on 127.0.0.1 that records the request headers.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import { sqsWebhookQueue } from '../../lambda/receiver/sqs-webhook-queue';

let server: Server;
let endpoint: string;
const seen: IncomingHttpHeaders[] = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(request.headers);
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ MessageId: 'm-1', MD5OfMessageBody: 'x' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  process.env = savedEnv;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function enqueueOnce(env: Record<string, string | undefined>): Promise<IncomingHttpHeaders> {
  Object.assign(process.env, env);
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete process.env[key];
  // md5: false, since the stand-in does not compute SQS's body checksum.
  const sqs = new SQSClient({ endpoint, region: 'us-east-1', md5: false, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  try {
    seen.length = 0;
    await sqsWebhookQueue(sqs, `${endpoint}/123456789012/queue`)({
      body: '{"type":"payment.succeeded"}',
      webhookId: 'msg_1',
      webhookTimestamp: '1700000000',
      eventType: 'payment.succeeded',
    });
    return seen[0];
  } finally {
    sqs.destroy();
  }
}

const TRACE = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';

test('in a traced Lambda invocation, SendMessage carries the trace id SQS hands on to the transformer', async () => {
  const headers = await enqueueOnce({ AWS_LAMBDA_FUNCTION_NAME: 'receiver', _X_AMZN_TRACE_ID: TRACE });
  expect(headers['x-amzn-trace-id']).toBe(TRACE);
});

test('outside Lambda (serve, tests) no trace header is sent', async () => {
  const headers = await enqueueOnce({ AWS_LAMBDA_FUNCTION_NAME: undefined, _X_AMZN_TRACE_ID: TRACE });
  expect(headers['x-amzn-trace-id']).toBeUndefined();
});
