/**
 * The design's answer table through the real Lambda handler: real core, real Powertools, real SQS
 * and Secrets Manager adapters; only the AWS SDK `send` is mocked (aws-sdk-client-mock).
 * All stdout/stderr/console output is captured to prove no signing key is ever logged.
 */
import { omit } from '../../lambda/shared/omit';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { Webhook } from 'standardwebhooks';
import { MAX_BODY_BYTES } from '../../lambda/shared/webhook';
import { MessageAttribute } from '../../lambda/shared/queue-message';
import { MetricName } from '../../lambda/shared/metrics';
import { ReceiverEnv, SECRET_PLACEHOLDER } from '../../lambda/shared/function-env';
import { Defaults } from '../../lambda/shared/defaults';
import { fakeLambdaContext } from '../../scripts/bench/lambda-context';

// --- output capture (installed before the handler module creates its logger and metrics) ---------
const captured: string[] = [];
const restorers: Array<() => void> = [];
function capture(stream: NodeJS.WriteStream): void {
  const original = stream.write.bind(stream);
  stream.write = ((chunk: unknown) => {
    captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  });
  restorers.push(() => (stream.write = original));
}
capture(process.stdout);
capture(process.stderr);
for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
    captured.push(args.map(String).join(' '));
  });
  restorers.push(() => spy.mockRestore());
}

// --- clock: the cache, the tolerance check and our signatures all read Date.now --------------------
let nowMs = Date.UTC(2026, 2, 14, 9, 30, 0);
const dateNow = jest.spyOn(Date, 'now').mockImplementation(() => nowMs);
const nowSeconds = () => Math.floor(nowMs / 1000);

process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
process.env.AWS_REGION = 'eu-west-1';
// What Lambda sets on an on-demand instance; without it Powertools never reports a cold start.
process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded after the environment above is set: Powertools reads it when the module creates its logger
const receiverModule = require('../../lambda/receiver/handler') as typeof import('../../lambda/receiver/handler');
const { createReceiverHandler, receiverConfigFromEnv } = receiverModule;

const secretsManager = mockClient(SecretsManagerClient);
const sqs = mockClient(SQSClient);

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/dodo-webhooks';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:dodo-signing-AbCdEf';
const baseEnv = { [ReceiverEnv.SigningSecretArn]: SECRET_ARN, [ReceiverEnv.QueueUrl]: QUEUE_URL };

/** Every key material that appears in this file, to search the logs for at the end. */
const allSecrets: string[] = [];
function newSecret(): { secret: string; base64: string } {
  const base64 = randomBytes(32).toString('base64');
  allSecrets.push(base64);
  return { secret: `whsec_${base64}`, base64 };
}
const keyA = newSecret();
const keyB = newSecret();

const FIXTURES = join(__dirname, '../fixtures/dodo');
const fixture = (type: string): Buffer => readFileSync(join(FIXTURES, `${type}.json`));

let idCounter = 0;
function signedHeaders(body: Buffer | string, secret: string, options: { id?: string; timestamp?: number } = {}): Record<string, string> {
  const id = options.id ?? `msg_test_${++idCounter}`;
  const timestamp = options.timestamp ?? nowSeconds();
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': new Webhook(secret).sign(id, new Date(timestamp * 1000), Buffer.isBuffer(body) ? body.toString('utf8') : body),
  };
}

function apiEvent(body: Buffer | string | null, headers: Record<string, string>, options: { base64?: boolean; multi?: Record<string, string[]> } = {}): APIGatewayProxyEvent {
  const bytes = body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return {
    resource: '/webhooks/dodo',
    path: '/webhooks/dodo',
    httpMethod: 'POST',
    headers,
    multiValueHeaders: options.multi ?? Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
    body: bytes === null ? null : options.base64 ? bytes.toString('base64') : bytes.toString('utf8'),
    isBase64Encoded: options.base64 ?? false,
  };
}

function setSigningSecret(value: string): void {
  secretsManager.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: value });
}
const secretFetches = () => secretsManager.commandCalls(GetSecretValueCommand).length;
const sentMessages = () => sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input);

const lambdaContext = fakeLambdaContext('dodo-slack-receiver');

/** A handler for `env` (over the base environment), invoked with a Lambda context as the runtime would. */
function receiver(env: Record<string, string> = {}) {
  const handle = createReceiverHandler(receiverConfigFromEnv({ ...baseEnv, ...env }));
  return (event: APIGatewayProxyEvent) => handle(event, lambdaContext);
}

/** The EMF documents written since `mark` (and before `until`). */
type EmfDocument = Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };
function emfDocumentsSince(mark: number, until?: number): EmfDocument[] {
  return captured
    .slice(mark, until)
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfDocument);
}

/** Custom metric names in the EMF documents written since `mark`. */
function metricsSince(mark: number): string[] {
  return emfDocumentsSince(mark).flatMap((document) => document._aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name)));
}

/** The JSON log lines (not EMF) written since `mark`. */
function logLinesSince(mark: number): Array<Record<string, unknown>> {
  return captured
    .slice(mark)
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.startsWith('{') && !line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeEach(() => {
  secretsManager.reset();
  sqs.reset();
  sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  setSigningSecret(keyA.secret);
  nowMs += 3_600_000; // each test starts an hour later, far from any earlier cache entry
});

afterAll(() => {
  dateNow.mockRestore();
  for (const restore of restorers.reverse()) restore();
});

describe('200 queued', () => {
  test('a signed fixture is queued with the raw body and its attributes, and answered 200 {"received":true}', async () => {
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const headers = signedHeaders(body, keyA.secret, { id: 'msg_queued_1' });
    const mark = captured.length;

    const result = await handle(apiEvent(body, headers));

    expect(result).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"received":true}' });
    expect(sentMessages()).toEqual([
      {
        QueueUrl: QUEUE_URL,
        MessageBody: body.toString('utf8'),
        MessageAttributes: {
          [MessageAttribute.WebhookId]: { DataType: 'String', StringValue: 'msg_queued_1' },
          [MessageAttribute.WebhookTimestamp]: { DataType: 'String', StringValue: headers['webhook-timestamp'] },
          [MessageAttribute.EventType]: { DataType: 'String', StringValue: 'payment.succeeded' },
        },
      },
    ]);
    expect(metricsSince(mark)).toEqual(expect.arrayContaining([MetricName.WebhookReceived, MetricName.WebhookQueued]));
    const logLine = captured.slice(mark).find((chunk) => chunk.includes('Webhook answered'));
    expect(JSON.parse(logLine!)).toMatchObject({ correlation_id: 'msg_queued_1', webhookId: 'msg_queued_1', eventType: 'payment.succeeded', outcome: 'queued' });
  });

  test('every Dodo fixture is accepted and queued byte for byte', async () => {
    const handle = receiver();
    const files = readdirSync(FIXTURES).filter((name) => name.endsWith('.json'));
    expect(files.length).toBeGreaterThanOrEqual(48);
    for (const file of files) {
      const body = readFileSync(join(FIXTURES, file));
      const result = await handle(apiEvent(body, signedHeaders(body, keyA.secret)));
      expect([file, result.statusCode]).toEqual([file, 200]);
    }
    const sent = sentMessages();
    expect(sent).toHaveLength(files.length);
    expect(sent.map((message) => message.MessageAttributes?.[MessageAttribute.EventType].StringValue)).toEqual(
      files.map((file) => (JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { type: string }).type),
    );
  });

  test('a base64-encoded body with multi-byte characters is verified and queued as the exact bytes', async () => {
    const handle = receiver();
    const text = fixture('payment.succeeded').toString('utf8').replace(/"name": "[^"]*"/, '"name": "Zoë Ångström-Ødegård 🙂 <!channel>"');
    expect(text).toContain('🙂');
    const body = Buffer.from(text, 'utf8');

    const result = await handle(apiEvent(body, signedHeaders(body, keyA.secret), { base64: true }));

    expect(result.statusCode).toBe(200);
    expect(sentMessages()[0].MessageBody).toBe(text);
  });

  test('header names in any case, also only in multiValueHeaders, and a signature split over two header lines', async () => {
    const handle = receiver();
    const body = fixture('refund.succeeded');
    const signed = signedHeaders(body, keyA.secret);
    const forged = signedHeaders(body, keyB.secret, { id: signed['webhook-id'], timestamp: Number(signed['webhook-timestamp']) });
    const upper = { 'WEBHOOK-ID': signed['webhook-id'], 'Webhook-Timestamp': signed['webhook-timestamp'], 'webhook-SIGNATURE': signed['webhook-signature'] };

    expect((await handle(apiEvent(body, upper))).statusCode).toBe(200);
    expect((await handle({ ...apiEvent(body, {}, { multi: Object.fromEntries(Object.entries(upper).map(([k, v]) => [k, [v]])) }) })).statusCode).toBe(200);
    const twoLines = {
      'Webhook-Id': [signed['webhook-id']],
      'Webhook-Timestamp': [signed['webhook-timestamp']],
      'Webhook-Signature': [forged['webhook-signature'], signed['webhook-signature']],
    };
    expect((await handle(apiEvent(body, { 'Webhook-Signature': signed['webhook-signature'] }, { multi: twoLines }))).statusCode).toBe(200);
    expect(sentMessages()).toHaveLength(3);
  });

  test('a body exactly at the size limit is still accepted', async () => {
    const handle = receiver();
    const head = '{"type":"payment.succeeded","data":{},"pad":"';
    const body = Buffer.from(head + 'x'.repeat(MAX_BODY_BYTES - head.length - 2) + '"}');
    expect(body.length).toBe(MAX_BODY_BYTES);
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret)))).statusCode).toBe(200);
    expect(sentMessages()).toHaveLength(1);
  });

  test('the exported handler reads its configuration from the environment', async () => {
    Object.assign(process.env, baseEnv, { [ReceiverEnv.EventFilter]: '["payment.*"]', [ReceiverEnv.TimestampToleranceSeconds]: '60' });
    const refund = fixture('refund.succeeded');
    const payment = fixture('payment.failed');
    const late = nowSeconds() - 90;
    expect(JSON.parse((await receiverModule.handler(apiEvent(refund, signedHeaders(refund, keyA.secret)), lambdaContext)).body)).toEqual({ received: true, ignored: true });
    expect((await receiverModule.handler(apiEvent(payment, signedHeaders(payment, keyA.secret, { timestamp: late })), lambdaContext)).statusCode).toBe(401);
    expect((await receiverModule.handler(apiEvent(payment, signedHeaders(payment, keyA.secret)), lambdaContext)).statusCode).toBe(200);
    expect(sentMessages()).toHaveLength(1);
  });
});

describe('200 ignored', () => {
  test('an event type outside the filter is answered 200 ignored and not queued', async () => {
    const handle = receiver({ [ReceiverEnv.EventFilter]: '["payment.*","dispute.opened"]' });
    const mark = captured.length;
    for (const type of ['refund.succeeded', 'dispute.won', 'subscription.active']) {
      const body = fixture(type);
      const result = await handle(apiEvent(body, signedHeaders(body, keyA.secret)));
      expect(result).toMatchObject({ statusCode: 200, body: '{"received":true,"ignored":true}' });
    }
    expect(sentMessages()).toEqual([]);
    expect(metricsSince(mark).filter((name) => name === MetricName.WebhookIgnored)).toHaveLength(3);

    const opened = fixture('dispute.opened');
    expect((await handle(apiEvent(opened, signedHeaders(opened, keyA.secret)))).body).toBe('{"received":true}');
    expect(sentMessages()).toHaveLength(1);
  });

  test('the legacy payout.not_initiated is forwarded where payout.created is selected', async () => {
    const handle = receiver({ [ReceiverEnv.EventFilter]: '["payout.created"]' });
    const body = Buffer.from(fixture('payout.created').toString('utf8').replace('"type": "payout.created"', '"type": "payout.not_initiated"'));
    expect(body.toString()).toContain('payout.not_initiated');
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret)))).body).toBe('{"received":true}');
    expect(sentMessages()[0].MessageAttributes?.[MessageAttribute.EventType].StringValue).toBe('payout.not_initiated');
  });
});

describe('401 unauthorized', () => {
  test.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])('missing %s: 401 without touching the secret or the queue', async (name) => {
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const headers = signedHeaders(body, keyA.secret);
    delete headers[name];
    const mark = captured.length;

    const result = await handle(apiEvent(body, headers));

    expect(result.statusCode).toBe(401);
    expect((JSON.parse(result.body) as { error: string }).error).toMatch(/missing/);
    expect(secretFetches()).toBe(0);
    expect(sentMessages()).toEqual([]);
    expect(metricsSince(mark)).toContain(MetricName.SignatureFailure);
  });

  test('a signature by another key: 401, not queued', async () => {
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const result = await handle(apiEvent(body, signedHeaders(body, keyB.secret)));
    expect(result).toMatchObject({ statusCode: 401, body: '{"error":"invalid signature"}' });
    expect(sentMessages()).toEqual([]);
  });

  test('a re-serialised body (what a JSON body parser would hand over) is refused', async () => {
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const headers = signedHeaders(body, keyA.secret);
    const reserialised = JSON.stringify(JSON.parse(body.toString('utf8')));
    expect((await handle(apiEvent(reserialised, headers))).statusCode).toBe(401);
    expect(sentMessages()).toEqual([]);
  });

  test('timestamps outside the default ±5 minutes are refused in both directions; inside are accepted', async () => {
    const handle = receiver();
    const body = fixture('payment.succeeded');
    for (const [delta, status] of [[-301, 401], [301, 401], [-300, 200], [300, 200]] as const) {
      const result = await handle(apiEvent(body, signedHeaders(body, keyA.secret, { timestamp: nowSeconds() + delta })));
      expect([delta, result.statusCode]).toEqual([delta, status]);
      if (status === 401) expect((JSON.parse(result.body) as { error: string }).error).toMatch(/tolerance/);
    }
    expect(sentMessages()).toHaveLength(2);
  });

  test('the tolerance is configurable', async () => {
    const handle = receiver({ [ReceiverEnv.TimestampToleranceSeconds]: '900' });
    const body = fixture('payment.succeeded');
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret, { timestamp: nowSeconds() - 899 })))).statusCode).toBe(200);
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret, { timestamp: nowSeconds() + 901 })))).statusCode).toBe(401);
  });
});

describe('400 invalid payload (after a valid signature)', () => {
  test.each([
    ['not JSON', 'this is not json'],
    ['a JSON array', '[{"type":"payment.succeeded"}]'],
    ['no type', '{"business_id":"bus_1","data":{}}'],
    ['a numeric type', '{"type":42,"data":{}}'],
    ['an empty type', '{"type":"","data":{}}'],
  ])('%s: 400, not queued', async (_label, text) => {
    const handle = receiver();
    const mark = captured.length;
    const result = await handle(apiEvent(text, signedHeaders(text, keyA.secret)));
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(result.body)).toEqual({ error: expect.any(String) as unknown });
    expect(sentMessages()).toEqual([]);
    expect(metricsSince(mark)).toContain(MetricName.InvalidPayload);
  });

  test('a body that is not UTF-8: 400', async () => {
    const handle = receiver();
    const body = Buffer.concat([Buffer.from('{"type":"payment.succeeded","x":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const id = 'msg_binary';
    const ts = nowSeconds();
    const { signWebhook, parseSigningKeys } = await import('../../lambda/receiver/signature');
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signWebhook(parseSigningKeys(keyA.secret).keys[0].bytes, id, ts, body) };
    const result = await handle(apiEvent(body, headers, { base64: true }));
    expect(result).toMatchObject({ statusCode: 400, body: '{"error":"body is not UTF-8 JSON"}' });
    expect(sentMessages()).toEqual([]);
  });
});

describe('413 payload too large', () => {
  test('a body over the limit is refused before any secret fetch, even with a valid signature', async () => {
    const handle = receiver();
    const head = '{"type":"payment.succeeded","pad":"';
    const body = Buffer.from(head + 'x'.repeat(MAX_BODY_BYTES - head.length) + '"}');
    const mark = captured.length;
    for (const base64 of [false, true]) {
      const result = await handle(apiEvent(body, signedHeaders(body, keyA.secret), { base64 }));
      expect(result.statusCode).toBe(413);
    }
    expect(secretFetches()).toBe(0);
    expect(sentMessages()).toEqual([]);
    expect(metricsSince(mark)).toContain(MetricName.PayloadTooLarge);
  });
});

describe('503 unavailable', () => {
  test('the placeholder secret answers 503 (Dodo retries), and the operator\'s value applies within the refresh interval', async () => {
    setSigningSecret(SECRET_PLACEHOLDER);
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const mark = captured.length;

    const first = await handle(apiEvent(body, signedHeaders(body, keyA.secret)));
    expect(first).toMatchObject({ statusCode: 503, body: '{"error":"signing key not configured yet"}' });
    expect(sentMessages()).toEqual([]);
    expect(metricsSince(mark)).toContain(MetricName.ReceiverUnavailable);

    setSigningSecret(keyA.secret);
    nowMs += 11_000;
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret)))).statusCode).toBe(200);
    expect(sentMessages()).toHaveLength(1);
  });

  test('a secret without any usable key: 503, with the problem logged by position and never the value', async () => {
    const broken = `whsec_${keyA.base64.slice(0, 10)}$${keyA.base64.slice(11)}`;
    setSigningSecret(broken);
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const mark = captured.length;

    const result = await handle(apiEvent(body, signedHeaders(body, keyA.secret)));

    expect(result).toMatchObject({ statusCode: 503, body: '{"error":"signing key unavailable"}' });
    const output = captured.slice(mark).join('');
    expect(output).toContain('signing key #1 of 1 is not base64: unexpected character at position 17');
    expect(output).not.toContain(keyA.base64.slice(0, 10));
    expect(sentMessages()).toEqual([]);
  });

  test('one bad key next to a good one: the good one keeps working and the bad one is logged', async () => {
    setSigningSecret(`whsec_not*base64 ${keyA.secret}`);
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const mark = captured.length;
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret)))).statusCode).toBe(200);
    expect(captured.slice(mark).join('')).toContain('signing key #1 of 2 is not base64');
  });

  test('Secrets Manager failing: 503', async () => {
    secretsManager.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException: not authorized'));
    const handle = receiver();
    const body = fixture('payment.succeeded');
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret)))).statusCode).toBe(503);
    expect(sentMessages()).toEqual([]);
  });

  test('SQS failing: 503 so Dodo retries', async () => {
    sqs.on(SendMessageCommand).rejects(new Error('ServiceUnavailable'));
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const mark = captured.length;
    const result = await handle(apiEvent(body, signedHeaders(body, keyA.secret)));
    expect(result).toMatchObject({ statusCode: 503, body: '{"error":"queue unavailable, retry later"}' });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
    expect(metricsSince(mark)).toContain(MetricName.ReceiverUnavailable);
  });
});

describe('key rotation', () => {
  test('a key changed in the console applies at once: refetch on mismatch, then rate-limited', async () => {
    const handle = receiver({ [ReceiverEnv.SecretCacheTtlSeconds]: '300' });
    const body = fixture('payment.succeeded');
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret)))).statusCode).toBe(200);
    expect(secretFetches()).toBe(1);

    // Operator replaces key A with key B in the console; Dodo now signs with B.
    setSigningSecret(keyB.secret);
    nowMs += 15_000;
    expect((await handle(apiEvent(body, signedHeaders(body, keyB.secret)))).statusCode).toBe(200);
    expect(secretFetches()).toBe(2);

    // A flood of forged requests right after: no refetch within the rate-limit interval.
    for (let i = 0; i < 5; i++) {
      nowMs += 1000;
      expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret)))).statusCode).toBe(401);
    }
    expect(secretFetches()).toBe(2);
    // Once the interval has passed, one mismatch may refetch again.
    nowMs += 10_000;
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret)))).statusCode).toBe(401);
    expect(secretFetches()).toBe(3);
    expect(sentMessages()).toHaveLength(2);
  });

  test('the cache TTL expires on its own', async () => {
    const handle = receiver({ [ReceiverEnv.SecretCacheTtlSeconds]: '60' });
    const body = fixture('payment.succeeded');
    await handle(apiEvent(body, signedHeaders(body, keyA.secret)));
    nowMs += 30_000;
    await handle(apiEvent(body, signedHeaders(body, keyA.secret)));
    expect(secretFetches()).toBe(1);
    nowMs += 31_000;
    await handle(apiEvent(body, signedHeaders(body, keyA.secret)));
    expect(secretFetches()).toBe(2);
  });

  test('console first: with "A B" in the secret, signatures by A and by B are both accepted', async () => {
    setSigningSecret(`${keyA.secret}\n${keyB.secret}`);
    const handle = receiver();
    const body = fixture('subscription.renewed');
    for (const secret of [keyA.secret, keyB.secret]) {
      expect((await handle(apiEvent(body, signedHeaders(body, secret)))).statusCode).toBe(200);
    }
    expect(secretFetches()).toBe(1);
  });

  test('Dodo first: while Dodo signs with old and new key, either key alone in the secret accepts', async () => {
    const body = fixture('subscription.renewed');
    const a = signedHeaders(body, keyA.secret, { id: 'msg_rot' });
    const b = signedHeaders(body, keyB.secret, { id: 'msg_rot', timestamp: Number(a['webhook-timestamp']) });
    const both = { ...a, 'webhook-signature': `${a['webhook-signature']} ${b['webhook-signature']}` };
    for (const secret of [keyA.secret, keyB.secret]) {
      setSigningSecret(secret);
      const handle = receiver();
      expect((await handle(apiEvent(body, both))).statusCode).toBe(200);
    }
  });
});

describe('test mode and live mode', () => {
  test('a key labelled test: queues its webhooks with webhook-mode "test"; the live or unlabelled key queues them without it', async () => {
    setSigningSecret(`live:${keyA.secret}\ntest:${keyB.secret}`);
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const mark = captured.length;
    expect((await handle(apiEvent(body, signedHeaders(body, keyB.secret, { id: 'msg_test_mode' })))).statusCode).toBe(200);
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret, { id: 'msg_live_mode' })))).statusCode).toBe(200);
    const [testMessage, liveMessage] = sentMessages();
    expect(testMessage.MessageAttributes?.[MessageAttribute.WebhookMode]).toEqual({ DataType: 'String', StringValue: 'test' });
    expect(testMessage.MessageBody).toBe(body.toString('utf8'));
    // Absent means live: a live webhook's message is exactly what it was before modes existed.
    expect(Object.keys(liveMessage.MessageAttributes ?? {}).sort()).toEqual([MessageAttribute.EventType, MessageAttribute.WebhookId, MessageAttribute.WebhookTimestamp].sort());
    const answered = emfDocumentsSince(mark).filter((document) => document.outcome === 'queued');
    expect(answered.map((document) => [document.webhookId, document.mode])).toEqual([
      ['msg_test_mode', 'test'],
      ['msg_live_mode', undefined],
    ]);
  });

  test('a key with a mistyped label is ignored (logged by position), never taken for live', async () => {
    setSigningSecret(`${keyA.secret} tset:${keyB.secret}`);
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const mark = captured.length;
    expect((await handle(apiEvent(body, signedHeaders(body, keyB.secret)))).statusCode).toBe(401);
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret)))).statusCode).toBe(200);
    expect(logLinesSince(mark).filter((line) => line.message === 'Signing secret has an unusable key').map((line) => line.problem)).toEqual([
      expect.stringMatching(/^signing key #2 of 2 has an unknown mode label/),
    ]);
  });
});

describe('configuration', () => {
  test('invalid environment fails with every problem named', () => {
    const bad = () => receiverConfigFromEnv({ [ReceiverEnv.EventFilter]: 'payment.*', [ReceiverEnv.TimestampToleranceSeconds]: '-1' });
    for (const problem of [
      'SIGNING_SECRET_ARN is not set',
      'QUEUE_URL is not set',
      'EVENT_FILTER must be a JSON array',
      'TIMESTAMP_TOLERANCE_SECONDS must be a whole number',
    ]) {
      expect(bad).toThrow(problem);
    }
    expect(() => receiverConfigFromEnv({ ...baseEnv, [ReceiverEnv.EventFilter]: '["pay ment"]' })).toThrow(/may only contain/);
  });

  test('defaults: all events, 300 s tolerance, 300 s cache', () => {
    expect(receiverConfigFromEnv(baseEnv)).toEqual({
      signingSecretId: SECRET_ARN,
      queueUrl: QUEUE_URL,
      eventGlobs: ['*'],
      toleranceSeconds: 300,
      secretCacheTtlSeconds: 300,
    });
  });

  test('the fallbacks for variables the construct did not set are the shared Defaults', () => {
    expect(receiverConfigFromEnv(baseEnv)).toMatchObject({
      toleranceSeconds: Defaults.timestampToleranceSeconds,
      secretCacheTtlSeconds: Defaults.secretCacheTtlSeconds,
    });
  });
});

describe('metrics', () => {
  test('every EMF metric the handler emits has exactly the namespace and dimensions the construct\'s metricXxx() reads', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- aws-cdk-lib only for this test: the rest of the file runs without it
    const { App, Stack } = require('aws-cdk-lib') as typeof import('aws-cdk-lib');
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the construct only for this test, as aws-cdk-lib above
    const { DodoSlackNotifier } = require('../../lib/dodo-slack-notifier') as typeof import('../../lib/dodo-slack-notifier');
    const notifier = new DodoSlackNotifier(new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'S'), 'Notifier');

    const handle = receiver({ [ReceiverEnv.EventFilter]: '["payment.*"]' });
    const mark = captured.length;
    const queued = fixture('payment.succeeded');
    const ignored = fixture('refund.succeeded');
    await handle(apiEvent(queued, signedHeaders(queued, keyA.secret)));
    await handle(apiEvent(ignored, signedHeaders(ignored, keyA.secret)));
    await handle(apiEvent(queued, signedHeaders(queued, keyB.secret)));

    // Powertools' own ColdStart (first invocation of the module only) is not one of ours: see 'cold start' below.
    const documents = emfDocumentsSince(mark).filter((document) => !('ColdStart' in document));
    const seen = new Set<string>();
    for (const document of documents) {
      for (const directive of document._aws.CloudWatchMetrics) {
        for (const { Name } of directive.Metrics as Array<{ Name: MetricName }>) {
          seen.add(Name);
          const expected = notifier.metric(Name);
          expect(directive.Namespace).toBe(expected.namespace);
          expect(directive.Dimensions).toEqual([Object.keys(expected.dimensions ?? {})]);
          const emitted = Object.fromEntries(directive.Dimensions[0].map((name) => [name, document[name]]));
          expect([Name, emitted]).toEqual([Name, expected.dimensions]);
        }
      }
    }
    expect([...seen].sort()).toEqual([MetricName.SignatureFailure, MetricName.WebhookIgnored, MetricName.WebhookQueued, MetricName.WebhookReceived].sort());
  });
});

describe('cold start', () => {
  test('the ColdStart metric is in the EMF output of the first invocation of an instance only, dimensioned by service and function', async () => {
    // A fresh module: a fresh Lambda instance, whatever ran before in this file.
    let isolated!: typeof import('../../lambda/receiver/handler');
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- a fresh copy inside isolateModules: a fresh Lambda instance
      isolated = require('../../lambda/receiver/handler') as typeof import('../../lambda/receiver/handler');
    });
    const body = fixture('payment.succeeded');
    // Without webhook-id: answered 401 before any secret or queue call (the isolated module's SDK clients are not mocked).
    const withoutId = omit(signedHeaders(body, keyA.secret), 'webhook-id');
    const invoke = isolated.createReceiverHandler(receiverConfigFromEnv(baseEnv));

    const first = captured.length;
    expect((await invoke(apiEvent(body, withoutId), lambdaContext)).statusCode).toBe(401);
    const second = captured.length;
    expect((await invoke(apiEvent(body, withoutId), lambdaContext)).statusCode).toBe(401);
    // A second handler in the same instance is not a new cold start either.
    expect((await isolated.createReceiverHandler(receiverConfigFromEnv(baseEnv))(apiEvent(body, withoutId), lambdaContext)).statusCode).toBe(401);

    const coldStarts = (from: number, until?: number) => emfDocumentsSince(from, until).filter((document) => 'ColdStart' in document);
    expect(coldStarts(first, second)).toEqual([
      expect.objectContaining({
        ColdStart: 1,
        service: 'dodo-slack-receiver',
        function_name: 'dodo-slack-receiver',
        _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Namespace: 'DodoSlackNotifier', Dimensions: [['service', 'function_name']] })] }) as unknown,
      }),
    ]);
    expect(coldStarts(second)).toEqual([]);
    // The application metrics still flush on every invocation, in their own document.
    expect(metricsSince(second).filter((name) => name === MetricName.SignatureFailure)).toHaveLength(2);
  });
});

describe('log keys', () => {
  test('the correlation id of one invocation does not leak into the next (resetKeys)', async () => {
    const handle = receiver();
    const body = fixture('payment.succeeded');
    const mark = captured.length;
    expect((await handle(apiEvent(body, signedHeaders(body, keyA.secret, { id: 'msg_keys_1' })))).statusCode).toBe(200);
    const withoutId = omit(signedHeaders(body, keyA.secret), 'webhook-id');
    expect((await handle(apiEvent(body, withoutId))).statusCode).toBe(401);

    const answered = logLinesSince(mark).filter((line) => line['message'] === 'Webhook answered');
    expect(answered).toHaveLength(2);
    expect(answered[0]).toMatchObject({ outcome: 'queued', correlation_id: 'msg_keys_1', function_name: 'dodo-slack-receiver' });
    expect(answered[1]).toMatchObject({ outcome: 'unauthorized', function_name: 'dodo-slack-receiver' });
    expect(answered[1]).not.toHaveProperty('correlation_id');
  });
});

describe('log hygiene', () => {
  test('no signing key, in any form, appears in any output written during these tests', () => {
    const output = captured.join('');
    // The capture really saw the handler's logs and metrics.
    expect(output).toContain('"outcome":"queued"');
    expect(output).toContain('"outcome":"unauthorized"');
    expect(output).toContain('"_aws"');
    for (const base64 of allSecrets) {
      const raw = Buffer.from(base64, 'base64');
      for (const form of [base64, base64.replace(/=+$/, ''), raw.toString('hex'), raw.toString('base64url'), base64.slice(4, 24)]) {
        expect(output).not.toContain(form);
      }
    }
    // And no full body at info level or above: the fixtures' customer emails stay out of the logs.
    expect(output).not.toContain('@example.com');
  });
});
