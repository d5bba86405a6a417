/**
 * One request table, two adapters, the same answers: the API Gateway Lambda handler
 * (createReceiverHandler, AWS SDK `send` mocked) and the real `dodo-slack serve` HTTP server
 * (startLocalServer, real HTTP requests over a raw socket so every header line, its spelling and
 * its order is exactly as written in the table). Signatures come from the `standardwebhooks`
 * reference library.
 */
import { testServerOptions } from '../support/local-server';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { Webhook } from 'standardwebhooks';
import { ReceiverEnv } from '../../lambda/shared/function-env';
import { startLocalServer, type LocalServer } from '../../lambda/local/server';
import { fakeLambdaContext } from '../../scripts/bench/lambda-context';

// Quiet Powertools (set before the handler module creates its logger and metrics).
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.AWS_REGION ??= 'eu-west-1';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the environment above is set: Powertools reads it when the module creates its logger
const { createReceiverHandler, receiverConfigFromEnv } = require('../../lambda/receiver/handler') as typeof import('../../lambda/receiver/handler');

const SIGNING_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dodo-signing-AbCdEf';
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dodo-webhooks';
const BODY = readFileSync(join(__dirname, '../fixtures/dodo/payment.succeeded.json'), 'utf8');

/** One header line, exactly as sent. */
type HeaderLine = readonly [name: string, value: string];

interface Row {
  readonly name: string;
  readonly lines: (id: string, timestamp: number) => HeaderLine[];
  readonly status: number;
}

function sign(secret: string, id: string, timestamp: number): string {
  return new Webhook(secret).sign(id, new Date(timestamp * 1000), BODY);
}
const valid = (id: string, timestamp: number) => sign(SIGNING_SECRET, id, timestamp);
const forged = (id: string, timestamp: number) => sign(OTHER_SECRET, id, timestamp);
const idAndTimestamp = (id: string, timestamp: number): HeaderLine[] => [
  ['webhook-id', id],
  ['webhook-timestamp', String(timestamp)],
];

const TABLE: readonly Row[] = [
  { name: 'valid signature alone', status: 200, lines: (id, ts) => [...idAndTimestamp(id, ts), ['webhook-signature', valid(id, ts)]] },
  {
    name: 'signature header twice, valid one last',
    status: 200,
    lines: (id, ts) => [...idAndTimestamp(id, ts), ['webhook-signature', forged(id, ts)], ['webhook-signature', valid(id, ts)]],
  },
  {
    name: 'signature header twice, valid one first',
    status: 200,
    lines: (id, ts) => [...idAndTimestamp(id, ts), ['webhook-signature', valid(id, ts)], ['webhook-signature', forged(id, ts)]],
  },
  {
    name: 'signature header three times, valid one in the middle, names spelled differently',
    status: 200,
    lines: (id, ts) => [...idAndTimestamp(id, ts), ['Webhook-Signature', forged(id, ts)], ['WEBHOOK-SIGNATURE', valid(id, ts)], ['webhook-signature', forged(id, ts)]],
  },
  {
    name: 'header names in mixed case',
    status: 200,
    lines: (id, ts) => [
      ['WEBHOOK-ID', id],
      ['Webhook-Timestamp', String(ts)],
      ['webhook-SIGNATURE', valid(id, ts)],
    ],
  },
  { name: 'webhook-signature missing', status: 401, lines: (id, ts) => idAndTimestamp(id, ts) },
  { name: 'webhook-id missing', status: 401, lines: (id, ts) => [['webhook-timestamp', String(ts)], ['webhook-signature', valid(id, ts)]] },
  { name: 'bad signature (another key)', status: 401, lines: (id, ts) => [...idAndTimestamp(id, ts), ['webhook-signature', forged(id, ts)]] },
  {
    name: 'signature header twice, both bad',
    status: 401,
    lines: (id, ts) => [...idAndTimestamp(id, ts), ['webhook-signature', forged(id, ts)], ['webhook-signature', 'v1,AAAA']],
  },
];

// --- adapter (a): the Lambda handler, with the event API Gateway builds from these header lines -----
const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);
const lambdaContext = fakeLambdaContext('dodo-slack-receiver');

/** API Gateway REST proxy: every line in multiValueHeaders (grouped by name as spelled), the last line of each in headers. */
function apiEvent(lines: readonly HeaderLine[]): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, value] of lines) {
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  return {
    resource: '/webhooks/dodo',
    path: '/webhooks/dodo',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    multiValueHeaders: { 'Content-Type': ['application/json'], ...multiValueHeaders },
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
    body: BODY,
    isBase64Encoded: false,
  };
}

// --- adapter (b): the local server, over a raw socket ------------------------------------------------
/** Sends one HTTP/1.1 request with exactly these header lines; resolves with the status code. */
function rawPost(port: number, path: string, lines: readonly HeaderLine[], body: string): Promise<number> {
  const bytes = Buffer.from(body, 'utf8');
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    'Content-Type: application/json',
    `Content-Length: ${bytes.length}`,
    'Connection: close',
    ...lines.map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('connect', () => socket.end(Buffer.concat([Buffer.from(head, 'latin1'), bytes])));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const statusLine = /^HTTP\/1\.1 (\d{3}) /.exec(Buffer.concat(chunks).toString('latin1'));
      if (statusLine === null) reject(new Error(`no HTTP answer: ${Buffer.concat(chunks).toString('latin1').slice(0, 200)}`));
      else resolve(Number(statusLine[1]));
    });
  });
}

let workDir: string;
let server: LocalServer;
const serverOutput: string[] = [];
let handle: (event: APIGatewayProxyEvent) => Promise<{ statusCode: number }>;

beforeAll(async () => {
  secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: SIGNING_SECRET });
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  const lambda = createReceiverHandler(receiverConfigFromEnv({ [ReceiverEnv.SigningSecretArn]: SECRET_ARN, [ReceiverEnv.QueueUrl]: QUEUE_URL }));
  handle = (event) => lambda(event, lambdaContext);

  workDir = mkdtempSync(join(tmpdir(), 'header-parity-'));
  server = await startLocalServer(testServerOptions(SIGNING_SECRET, workDir, serverOutput));
});

afterAll(async () => {
  await server?.close();
  secretsManager.restore();
  sqs.restore();
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

let counter = 0;

describe.each(TABLE)('$name', (row) => {
  test(`Lambda and serve both answer ${row.status}`, async () => {
    const timestamp = Math.floor(Date.now() / 1000);
    const lambdaLines = row.lines(`msg_parity_lambda_${++counter}`, timestamp);
    const serveLines = row.lines(`msg_parity_serve_${counter}`, timestamp);
    const sentBefore = sqs.commandCalls(SendMessageCommand).length;

    const lambdaStatus = (await handle(apiEvent(lambdaLines))).statusCode;
    const serveStatus = await rawPost(server.port, new URL(server.url).pathname, serveLines, BODY);

    expect({ lambda: lambdaStatus, serve: serveStatus }).toEqual({ lambda: row.status, serve: row.status });
    // Accepted means queued (Lambda: one SendMessage), refused means not.
    expect(sqs.commandCalls(SendMessageCommand).length - sentBefore).toBe(row.status === 200 ? 1 : 0);
  });
});
