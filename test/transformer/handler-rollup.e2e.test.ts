/**
 * Roll-ups on the Lambda path, against the fauxqs SQS emulator: the handler is invoked
 * the way the event source invokes it (a receive of at most 5 records, then the records not reported
 * failed are deleted), and drains the rest of the backlog itself when the batch is behind. Slack is a
 * stand-in on 127.0.0.1; the idempotency records are on DynamoDB's API (dynalite, a table shaped
 * like the construct's, reached by the handler's own default client), so a roll-up's claims are
 * real concurrent conditional writes.
 * Coverage is read from what Slack got: a roll-up (`<N> events` in its text) covers the webhook-ids
 * its metadata lists; any other message covers the one event whose envelope timestamp it shows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import { answer, FakeSlack, ok } from '../support/fake-slack';
import { toLambdaEvent } from '../support/delivery';
import { lambdaContext } from '../support/lambda-context';
import { rollupMixType } from '../support/rollup-mix';
import { captureOutput } from '../support/capture-output';
import { useAwsEmulators } from '../support/aws-emulators';
import { embeddableSource, userCodeRegistryFrom, type UserCodeRegistry } from '../../lambda/sandbox/registry';

jest.setTimeout(150_000);

const SLACK_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-url-AbCdEf';
const SLACK_PATH = '/services/T123/B456/rollup-secret-token';
const FIRST_MARKER = 1_900_000_000;
const FIXTURES = join(__dirname, '..', 'fixtures', 'dodo');
const bodies = new Map<string, Record<string, unknown>>();

function event(tag: string, index: number): QueuedWebhook {
  const type = rollupMixType(index);
  if (!bodies.has(type)) bodies.set(type, JSON.parse(readFileSync(join(FIXTURES, `${type}.json`), 'utf8')) as Record<string, unknown>);
  const body = JSON.stringify({ ...bodies.get(type), timestamp: new Date((FIRST_MARKER + index) * 1000).toISOString() });
  return { webhookId: `msg_lambda_${tag}_${index}`, webhookTimestamp: String(Math.floor(Date.now() / 1000)), eventType: type, body };
}

describe('roll-ups through the transformer handler over SQS (fauxqs)', () => {
  const slack = new FakeSlack();
  const secretsManager = mockClient(SecretsManagerClient);
  let restoreOutput: () => void;
  let logged: string[];
  const emulators = useAwsEmulators();

  beforeAll(() => slack.start());
  afterAll(() => slack.stop());
  beforeEach(() => {
    slack.requests.length = 0;
    slack.respond = () => ok;
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand, { SecretId: SLACK_SECRET_ARN }).callsFake(() => Promise.resolve({ SecretString: JSON.stringify({ url: slack.url(SLACK_PATH) }) }));
    logged = [];
    restoreOutput = captureOutput(logged);
  });
  afterEach(() => {
    restoreOutput();
    expect(logged.join('')).not.toContain('rollup-secret-token');
  });

  let queues = 0;
  async function setup(rollupAfterSeconds: number, options: { readonly transformation?: RouteConfig['transformation']; readonly userCode?: UserCodeRegistry; readonly ratePerSecond?: number } = {}) {
    const dlqUrl = (await emulators.sqs.send(new CreateQueueCommand({ QueueName: `rollup-dlq-${++queues}` }))).QueueUrl!;
    const queueUrl = (await emulators.sqs.send(new CreateQueueCommand({ QueueName: `rollup-${queues}`, Attributes: { VisibilityTimeout: '360' } }))).QueueUrl!;
    const routes: RouteConfig[] = [{ id: 'default', events: ['*'], slackSecretId: SLACK_SECRET_ARN, transformation: options.transformation ?? { kind: 'builtin', options: {} } }];
    const handler = createTransformerHandler({
      env: {
        [TransformerEnv.Routes]: JSON.stringify(routes),
        [TransformerEnv.QueueUrl]: queueUrl,
        [TransformerEnv.DeadLetterQueueUrl]: dlqUrl,
        [TransformerEnv.MaxReceiveCount]: '10',
        [TransformerEnv.SlackTimeoutMs]: '1000',
        // Slack's pace, on one instance.
        [TransformerEnv.DeliveryRatePerSecond]: String(options.ratePerSecond ?? 1),
        [TransformerEnv.DeliveryBurst]: '1',
        [TransformerEnv.RollupAfterSeconds]: String(rollupAfterSeconds),
        [TransformerEnv.IdempotencyTableName]: await emulators.db.createDeduplicationTable(),
      },
      sqs: emulators.sqs,
      allowInsecureLocalhostSlack: true,
      ...(options.userCode ? { userCode: options.userCode } : {}),
    });
    /** The event source: receive up to 5 (the construct's batch size), invoke, delete what did not fail. */
    async function invokeOnce(): Promise<number> {
      const received = await emulators.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 5, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
      const messages = received.Messages ?? [];
      if (messages.length === 0) return 0;
      const response = await handler(toLambdaEvent(messages), lambdaContext());
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      for (const message of messages) if (!failed.has(message.MessageId!)) await emulators.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      return messages.length;
    }
    async function sendAll(events: QueuedWebhook[]): Promise<void> {
      for (let i = 0; i < events.length; i += 10) {
        const entries = events.slice(i, i + 10).map((e, j) => ({ Id: String(j), ...toSqsMessage(e) }));
        const result = await emulators.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        expect(result.Failed ?? []).toEqual([]);
      }
    }
    async function depth(): Promise<number> {
      const attributes = (await emulators.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes ?? {};
      return Number(attributes.ApproximateNumberOfMessages ?? 0) + Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    }
    return { queueUrl, invokeOnce, sendAll, depth };
  }

  function coverage(tag: string) {
    const times = new Map<number, number>();
    const problems: string[] = [];
    let claimed = 0;
    let rollups = 0;
    const pattern = new RegExp(`^msg_lambda_${tag}_(\\d+)$`);
    for (const request of slack.requests.filter((r) => (r as { answered?: number }).answered === 200)) {
      const count = /(\d+) events/.exec(String(request.json.text));
      let indexes: number[];
      if (count) {
        rollups += 1;
        claimed += Number(count[1]);
        const ids = String((request.json.metadata as { event_payload?: { webhook_ids?: string } } | undefined)?.event_payload?.webhook_ids ?? '').split(' ');
        if (ids.length !== Number(count[1])) problems.push(`says ${count[1]}, lists ${ids.length}`);
        indexes = ids.map((id) => Number(pattern.exec(id)?.[1] ?? NaN));
      } else {
        claimed += 1;
        const marker = /<!date\^(\d+)\^/.exec(request.body);
        indexes = [marker ? Number(marker[1]) - FIRST_MARKER : NaN];
      }
      for (const index of indexes) {
        if (Number.isInteger(index)) times.set(index, (times.get(index) ?? 0) + 1);
        else problems.push(`unidentified: ${request.body.slice(0, 100)}`);
      }
    }
    return { times, claimed, rollups, problems };
  }

  test('600 events: every one covered exactly once, in far fewer messages, the queue empty; re-sent ids post nothing', async () => {
    const EVENTS = 600;
    const q = await setup(10);
    const events = Array.from({ length: EVENTS }, (_, i) => event('burst', i));
    const started = Date.now();
    await q.sendAll(events);

    // How soon is the benchmark's to say; the deadline here only ends a broken run.
    while (Date.now() - started < 120_000) {
      if ((await q.invokeOnce()) === 0 && (await q.depth()) === 0) break;
    }
    expect(await q.depth()).toBe(0);
    const covered = coverage('burst');
    const missing = events.map((_, i) => i).filter((i) => !covered.times.has(i));
    const twice = [...covered.times.entries()].filter(([, n]) => n > 1).map(([i]) => i);
    expect({ missing, twice, problems: covered.problems }).toEqual({ missing: [], twice: [], problems: [] });
    expect(covered.claimed).toBe(EVENTS);
    expect(covered.rollups).toBeGreaterThan(0);
    expect(slack.requests.length).toBeLessThan(60);
    const rolledUp = slack.requests.flatMap((r) => String((r.json.metadata as { event_payload?: { webhook_ids?: string } } | undefined)?.event_payload?.webhook_ids ?? '').split(' '));
    expect(events.filter((e) => e.eventType === 'dispute.opened' && rolledUp.includes(e.webhookId))).toEqual([]);

    const before = slack.requests.length;
    await q.sendAll(events.filter((_, i) => i % 10 === 0));
    const again = Date.now();
    while (Date.now() - again < 60_000) {
      if ((await q.invokeOnce()) === 0 && (await q.depth()) === 0) break;
    }
    expect(await q.depth()).toBe(0);
    expect(slack.requests.length).toBe(before);
  });

  test('a roll-up Slack refuses for now posts nothing singly and deletes nothing: its records come back as a whole', async () => {
    const q = await setup(1);
    await q.sendAll(Array.from({ length: 40 }, (_, i) => event('refused', i * 100 + 1)));
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the oldest is now older than rollupAfter
    slack.respond = () => answer(503, 'service_unavailable');
    expect(await q.invokeOnce()).toBe(5);
    // One request: the roll-up of all 40 (none went out on its own).
    expect(slack.requests).toHaveLength(1);
    expect(String(slack.requests[0].json.text)).toMatch(/^40 events /);
    // Every message is still on the queue, hidden for the retry's backoff.
    expect(await q.depth()).toBe(40);
    const visible = await emulators.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    expect(visible.Messages ?? []).toEqual([]);
  });
  test("a route with the Dodo dashboard's payment_notifs.js never folds: a burst of 30 behind the pace posts 30 messages from that code", async () => {
    const EVENTS = 30;
    const source = readFileSync(join(__dirname, '..', 'fixtures', 'dashboard', 'payment_notifs.js'), 'utf8');
    const q = await setup(1, {
      transformation: { kind: 'code', codeId: 'payment_notifs.js', timeoutMs: 1000 },
      userCode: userCodeRegistryFrom({ 'payment_notifs.js': embeddableSource(source, 'payment_notifs.js') }),
      ratePerSecond: 10,
    });
    const template = JSON.parse(readFileSync(join(FIXTURES, 'payment.succeeded.json'), 'utf8')) as Record<string, unknown>;
    const events = Array.from({ length: EVENTS }, (_, i): QueuedWebhook => {
      const type = i % 5 === 0 ? 'payment.failed' : 'payment.succeeded';
      return { webhookId: `msg_lambda_code_${i}`, webhookTimestamp: String(Math.floor(Date.now() / 1000)), eventType: type, body: JSON.stringify({ ...template, type }) };
    });
    await q.sendAll(events);
    await new Promise((resolve) => setTimeout(resolve, 1100)); // the oldest is now older than rollupAfter: a built-in route would fold
    const started = Date.now();
    while (Date.now() - started < 60_000) {
      if ((await q.invokeOnce()) === 0 && (await q.depth()) === 0) break;
    }
    expect(await q.depth()).toBe(0);
    const texts = slack.requests.filter((r) => (r as { answered?: number }).answered === 200).map((r) => String(r.json.text));
    expect(texts).toHaveLength(EVENTS);
    expect(texts.filter((text) => /\d+ events/.test(text))).toEqual([]);
    expect(texts.every((text) => /^(✅ Payment Successful|❌ Payment Failed)\nAmount: \$\d+\.\d\d\n/.test(text))).toBe(true);
    expect(texts.filter((text) => text.startsWith('❌ Payment Failed'))).toHaveLength(6);
  });
});
