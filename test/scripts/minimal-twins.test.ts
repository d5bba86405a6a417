/**
 * The benchmark's yardstick: the minimal twins really do the job they stand for (the receiver's
 * verifies Standard Webhooks signatures, as the standardwebhooks library makes them, and queues;
 * the transformer's posts to Slack), and the side-by-side measurement takes turns as it says.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { Webhook } from 'standardwebhooks';
import { MINIMAL_SLACK_TEXT, minimalReceiver, minimalTransformer } from '../../scripts/bench/minimal-twins';
import { cpuPerEventSideBySide, type MeasuredSide } from '../../scripts/bench/lambda-context';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/dodo-events';
const BODY = '{"type":"payment.succeeded","data":{"payment_id":"pay_1"}}';

describe('minimal receiver', () => {
  const key = randomBytes(32);
  const webhook = new Webhook(`whsec_${key.toString('base64')}`);
  const sqs = mockClient(SQSClient);
  const NOW = Date.UTC(2026, 11, 7, 9, 0, 0);
  const receive = minimalReceiver({ key, sqs: new SQSClient({ region: 'us-east-1' }), queueUrl: QUEUE_URL, toleranceSeconds: 300, now: () => NOW });
  const signed = (id: string, at: number, body = BODY, signer = webhook) => ({
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at / 1000)),
    'webhook-signature': signer.sign(id, new Date(at), body),
  });

  beforeEach(() => {
    sqs.reset();
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  });
  afterAll(() => sqs.restore());

  test('a webhook signed as Standard Webhooks signs it is queued with its body', async () => {
    const answer = await receive({ headers: signed('msg_ok', NOW), body: BODY });
    expect(answer.statusCode).toBe(200);
    expect(sqs.commandCalls(SendMessageCommand).map((call) => call.args[0].input)).toEqual([{ QueueUrl: QUEUE_URL, MessageBody: BODY }]);
  });

  test('one valid signature among several is enough', async () => {
    const other = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
    const headers = signed('msg_two', NOW);
    headers['webhook-signature'] = `${signed('msg_two', NOW, BODY, other)['webhook-signature']} ${headers['webhook-signature']}`;
    expect((await receive({ headers, body: BODY })).statusCode).toBe(200);
  });

  test.each([
    ['signed with another key', () => signed('msg_forged', NOW, BODY, new Webhook(`whsec_${randomBytes(32).toString('base64')}`))],
    ['signed over another body', () => signed('msg_body', NOW, BODY.replace('pay_1', 'pay_2'))],
    ['signed under another id', () => ({ ...signed('msg_a', NOW), 'webhook-id': 'msg_b' })],
    ['timestamp outside the tolerance', () => signed('msg_old', NOW - 301_000)],
    ['timestamp not a number', () => ({ ...signed('msg_nan', NOW), 'webhook-timestamp': 'soon' })],
    ['no signature header', () => ({ 'webhook-id': 'msg_none', 'webhook-timestamp': String(NOW / 1000) })],
  ])('%s: refused with 401, nothing queued', async (_case, headers) => {
    const answer = await receive({ headers: headers(), body: BODY });
    expect(answer.statusCode).toBe(401);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });
});

describe('minimal transformer', () => {
  let server: Server;
  let slackUrl: string;
  const posts: { method: string; contentType: string | undefined; body: string }[] = [];
  let status = 200;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (chunk: string) => (body += chunk));
      request.on('end', () => {
        posts.push({ method: request.method ?? '', contentType: request.headers['content-type'], body });
        response.writeHead(status, { 'content-type': 'text/plain' });
        response.end(status === 200 ? 'ok' : 'invalid_payload');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    slackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0/B0/x`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    posts.length = 0;
    status = 200;
  });

  const batch = (...bodies: string[]): SQSEvent => ({ Records: bodies.map((body, index) => ({ messageId: `m-${index}`, body })) }) as unknown as SQSEvent;

  test('every record of a batch is posted to the Slack stand-in as the fixed text', async () => {
    const answer = await minimalTransformer({ slackUrl })(batch(BODY, BODY.replace('pay_1', 'pay_2')));
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(posts).toEqual([
      { method: 'POST', contentType: 'application/json', body: JSON.stringify({ text: MINIMAL_SLACK_TEXT }) },
      { method: 'POST', contentType: 'application/json', body: JSON.stringify({ text: MINIMAL_SLACK_TEXT }) },
    ]);
  });

  test('a record that is not a webhook envelope fails without a post; the others go', async () => {
    const answer = await minimalTransformer({ slackUrl })(batch('not json', BODY, '{"data":{}}'));
    expect(answer).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-2' }] });
    expect(posts).toHaveLength(1);
  });

  test('a post Slack refuses is a failed record', async () => {
    status = 400;
    expect(await minimalTransformer({ slackUrl })(batch(BODY))).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-0' }] });
  });
});

describe('cpuPerEventSideBySide', () => {
  test('the two sides take turns block by block, the first turn alternating, each block built just before it runs', async () => {
    const log: string[] = [];
    const side = (name: string): MeasuredSide<number> => ({
      prepare: () => {
        log.push(`${name} prepare`);
        return [1, 2];
      },
      run: (items) => {
        log.push(`${name} run ${items.length}`);
        return Promise.resolve();
      },
    });
    let checks = 0;
    const result = await cpuPerEventSideBySide(2, 2, 2, side('ours'), side('minimal'), () => ((checks += 1), 3));

    const turns = (first: string, second: string) => [`${first} prepare`, `${first} run 2`, `${second} prepare`, `${second} run 2`];
    expect(log).toEqual([
      ...turns('ours', 'minimal'), // round 0, block 0
      ...turns('minimal', 'ours'), // round 0, block 1
      ...turns('minimal', 'ours'), // round 1, block 0
      ...turns('ours', 'minimal'), // round 1, block 1
    ]);
    expect(checks).toBe(2);
    expect(result.checkUs).toEqual([3, 3]);
    expect(result.usPerEvent).toHaveLength(2);
    expect(result.minimalUsPerEvent).toHaveLength(2);
    for (const value of [...result.usPerEvent, ...result.minimalUsPerEvent]) expect(value).toBeGreaterThanOrEqual(0);
  });
});
