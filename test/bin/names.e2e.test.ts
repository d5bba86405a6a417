/**
 * Names, not IDs, through the CLI end to end: `serve` with DODO_API_KEY and --dodo-api-url asks a
 * Dodo API stand-in on 127.0.0.1 (through Dodo's SDK) for the product of a payment, posts its name,
 * and asks once per product however many events name it; with the API answering 500 or not at all,
 * a burst of 5 is still delivered, once each and within 3 s, with no dead letter. `preview` and
 * `summary` take the same key and flag. The key is never printed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { postSignedWebhook } from '../support/signed-post';
import { buildCli, cleanEnv, FakeSlack, FIXTURES_DIR, runCli, startServe, type BuiltCli, type ServeHandle } from './cli-harness';
import { FakeDodoApi, type FakeDodoBehaviour } from '../support/fake-dodo-api';

jest.setTimeout(120_000);

const SIGNING_SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const API_KEY = `dodo_sk_test_${randomBytes(12).toString('hex')}`;
const PRODUCT = 'pdt_X';
const PRODUCT_NAME = 'Pro plan (yearly)';

let cli: BuiltCli;
let scratch: string;
let slack: FakeSlack;
let slackUrl: string;
let api: FakeDodoApi;
let apiUrl: string;
let serve: ServeHandle | undefined;

beforeAll(() => {
  cli = buildCli();
});
beforeEach(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-names-'));
  slack = new FakeSlack();
  slackUrl = await slack.start();
  api = new FakeDodoApi().product(PRODUCT, PRODUCT_NAME);
  apiUrl = await api.start();
});
afterEach(async () => {
  await serve?.process.stop('SIGKILL');
  serve = undefined;
  await slack.stop();
  await api.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** A payment.succeeded of its own (payment id, amount) whose cart holds `PRODUCT`. */
function paymentBody(n: number): string {
  const envelope = JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'payment.succeeded.json'), 'utf8')) as { data: Record<string, unknown> };
  envelope.data = { ...envelope.data, payment_id: `pay_names_${n}`, total_amount: 1000 + n, product_cart: [{ product_id: PRODUCT, quantity: 1 }] };
  return JSON.stringify(envelope);
}

function send(url: string, n: number): Promise<number> {
  return postSignedWebhook(url, { webhookId: `msg_names_${n}_${randomBytes(4).toString('hex')}`, body: paymentBody(n), secret: SIGNING_SECRET });
}

async function startWithKey(): Promise<ServeHandle> {
  serve = await startServe(cli.entry, ['--data-dir', scratch, '--rate', '50', '--dodo-api-url', apiUrl], cleanEnv({ DODO_WEBHOOK_SECRET: SIGNING_SECRET, SLACK_WEBHOOK_URL: slackUrl, DODO_API_KEY: API_KEY }));
  return serve;
}

test("a payment's message names its product, as the API returned it; one request per product however many events name it", async () => {
  const running = await startWithKey();
  expect(await send(running.url, 1)).toBe(200);
  await slack.received(1);
  expect(slack.requests[0].body).toContain(PRODUCT_NAME);
  expect(slack.requests[0].body).toContain(`\`${PRODUCT}\``);
  expect(api.requests).toEqual([{ method: 'GET', path: `/products/${PRODUCT}`, authorization: `Bearer ${API_KEY}` }]);

  const codes = await Promise.all([2, 3, 4].map((n) => send(running.url, n)));
  expect(codes).toEqual([200, 200, 200]);
  await slack.received(4);
  for (const posted of slack.requests) expect(posted.body).toContain(PRODUCT_NAME);
  expect(api.requestsFor(`/products/${PRODUCT}`)).toHaveLength(1);

  // The cache is in the store: a restarted serve does not ask again.
  await running.process.stop('SIGTERM');
  const restarted = await startWithKey();
  expect(await send(restarted.url, 5)).toBe(200);
  await slack.received(5);
  expect(slack.requests[4].body).toContain(PRODUCT_NAME);
  expect(api.requestsFor(`/products/${PRODUCT}`)).toHaveLength(1);
  expect(restarted.process.stdout + restarted.process.stderr).not.toContain(API_KEY);
});

describe.each<[string, FakeDodoBehaviour]>([
  ['answering 500', 'error-500'],
  ['not answering at all', 'hang'],
])('with the API %s', (_name, behaviour) => {
  test('a burst of 5 sent at once is delivered once each, within 3 s of acceptance, with IDs and no dead letter', async () => {
    api.behaviour = behaviour;
    const running = await startWithKey();
    const sentAt = Date.now();
    const codes = await Promise.all([1, 2, 3, 4, 5].map((n) => send(running.url, n)));
    expect(codes).toEqual([200, 200, 200, 200, 200]);
    // Sent before each was accepted: within 3 s of sending is within 3 s of acceptance.
    await slack.received(5, 3000);
    expect(Date.now() - sentAt).toBeLessThanOrEqual(3000);
    await running.process.stop('SIGTERM');
    expect(slack.requests).toHaveLength(5);
    const payments = slack.requests.map((posted) => /pay_names_(\d)/.exec(posted.body)?.[1]).sort();
    expect(payments).toEqual(['1', '2', '3', '4', '5']);
    for (const posted of slack.requests) {
      expect(posted.body).toContain(`\`${PRODUCT}\``);
      expect(posted.body).not.toContain(PRODUCT_NAME);
    }
    const deadLetters = await runCli(cli.entry, ['dead-letters', 'list', '--data-dir', scratch]);
    expect(deadLetters.stdout).toContain('no dead letters');
    expect(running.process.stdout + running.process.stderr).not.toContain(API_KEY);
  });
});

test('preview and summary take the key and --dodo-api-url: the message a user sees before deploying is named', async () => {
  const env = cleanEnv({ DODO_API_KEY: API_KEY });
  const payload = path.join(scratch, 'payment.json');
  writeFileSync(payload, paymentBody(1));
  const preview = await runCli(cli.entry, ['preview', payload, '--dodo-api-url', apiUrl], { env });
  expect(preview.code).toBe(0);
  expect(preview.stdout).toContain(`${PRODUCT_NAME} (\`${PRODUCT}\`)`);
  expect(api.requestsFor(`/products/${PRODUCT}`)).toHaveLength(1);

  // Without the key, as before; the flag alone is a usage error.
  const bare = await runCli(cli.entry, ['preview', payload]);
  expect(bare.stdout).not.toContain(PRODUCT_NAME);
  const flagOnly = await runCli(cli.entry, ['preview', payload, '--dodo-api-url', apiUrl]);
  expect(flagOnly.code).toBe(2);
  expect(flagOnly.stderr).toContain('DODO_API_KEY');

  // A summary of a day with this payment names its top product.
  const running = await startServe(cli.entry, ['--data-dir', scratch], cleanEnv({ DODO_WEBHOOK_SECRET: SIGNING_SECRET, SLACK_WEBHOOK_URL: slackUrl }));
  serve = running;
  expect(await send(running.url, 1)).toBe(200);
  await slack.received(1);
  await running.process.stop('SIGTERM');
  serve = undefined;
  const summary = await runCli(cli.entry, ['summary', '--data-dir', scratch, '--date', '2026-03-14', '--dodo-api-url', apiUrl], { env });
  expect(summary.code).toBe(0);
  expect(summary.stdout).toContain(`${PRODUCT_NAME} (\`${PRODUCT}\`)`);
  expect(preview.stdout + preview.stderr + summary.stdout + summary.stderr).not.toContain(API_KEY);
});
