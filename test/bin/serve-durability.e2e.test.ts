/**
 * What `serve --data-dir` promises: an event answered 200 is on disk. Killed (SIGKILL) in the middle
 * of a burst, or stopped (SIGTERM) with a client that never finishes its request, the next start on
 * the same data dir delivers every accepted event, and Slack answers each one 200 exactly once.
 *
 * "Posted" here means the Slack stand-in answered 200: a request whose answer never reached serve
 * (it was killed while the stand-in held it) is not posted, and serve posts that event again.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { buildCli, cleanEnv, FakeSlack, FIXTURES_DIR, startServe, type BuiltCli, type ServeHandle } from './cli-harness';

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const signer = new Webhook(SECRET);
const template = JSON.parse(readFileSync(path.join(FIXTURES_DIR, 'payment.succeeded.json'), 'utf8')) as { data: Record<string, unknown> };

let cli: BuiltCli;
let scratch: string;
const running: ServeHandle[] = [];
const slacks: FakeSlack[] = [];

beforeAll(() => {
  cli = buildCli();
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-durability-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((serve) => serve.process.stop('SIGKILL')));
  await Promise.all(slacks.splice(0).map((slack) => slack.stop()));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

async function serve(dataDir: string, slackUrl: string, ...args: string[]): Promise<ServeHandle> {
  const handle = await startServe(cli.entry, ['--data-dir', dataDir, ...args], cleanEnv({ DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: slackUrl }));
  running.push(handle);
  return handle;
}

/** Posts a signed payment.succeeded whose payment_id is `paymentId`, as Dodo would; resolves with the status. */
function sendPayment(url: string, paymentId: string): Promise<number> {
  const body = JSON.stringify({ ...template, data: { ...template.data, payment_id: paymentId } });
  const webhookId = `msg_${paymentId}`;
  const timestamp = new Date();
  const signature = signer.sign(webhookId, timestamp, body);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': webhookId,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature,
      },
    });
    req.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Payment ids of the posts the stand-in answered 200 `ok`, in order. */
function postedPaymentIds(slack: FakeSlack): string[] {
  return slack.answered
    .filter((answer) => answer.status === 200)
    .map((answer) => (/pay_durable_\d+/.exec(answer.body)?.[0] ?? `unrecognised: ${answer.body.slice(0, 80)}`));
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('SIGKILL in the middle of a burst loses nothing that was answered 200, and nothing posts twice', async () => {
  const EVENTS = 40;
  const ANSWERED_BEFORE_KILL = 12;
  // The stand-in answers the first posts and holds the next: the kill lands while a post is in flight.
  const slack = new FakeSlack([...Array.from({ length: ANSWERED_BEFORE_KILL }, () => ({ status: 200, body: 'ok' })), { status: 200, body: 'ok', held: true }]);
  slacks.push(slack);
  const slackUrl = await slack.start();
  const dataDir = path.join(scratch, 'killed');
  const first = await serve(dataDir, slackUrl, '--rate', '50', '--burst', '5');

  const ids = Array.from({ length: EVENTS }, (_, index) => `pay_durable_${index}`);
  const statuses = await Promise.all(ids.map((id) => sendPayment(first.url, id)));
  expect(statuses).toEqual(ids.map(() => 200));
  await slack.received(ANSWERED_BEFORE_KILL + 1);
  await first.process.stop('SIGKILL');
  await new Promise((resolve) => setTimeout(resolve, 100)); // the stand-in sees the connection close
  slack.release(); // its answer would go to a dead connection: not posted
  expect(postedPaymentIds(slack)).toHaveLength(ANSWERED_BEFORE_KILL);

  const second = await serve(dataDir, slackUrl, '--rate', '50', '--burst', '5');
  expect(second.process.stdout).toMatch(new RegExp(`resuming ${EVENTS - ANSWERED_BEFORE_KILL} pending event\\(s\\)`));
  await waitUntil(() => postedPaymentIds(slack).length >= EVENTS, `${EVENTS} posts`);
  await new Promise((resolve) => setTimeout(resolve, 300)); // a duplicate would show up here
  expect([...postedPaymentIds(slack)].sort()).toEqual([...ids].sort());
});

test('SIGTERM with a client that never finishes its request: exits within --shutdown-timeout, the rest is pending on disk and delivered after a restart', async () => {
  const EVENTS = 5;
  const slack = new FakeSlack();
  slacks.push(slack);
  const slackUrl = await slack.start();
  const dataDir = path.join(scratch, 'stopped');
  // One post every 5 s: after the first, the next waits for its turn while the stop comes.
  const first = await serve(dataDir, slackUrl, '--rate', '0.2', '--shutdown-timeout', '2');
  const ids = Array.from({ length: EVENTS }, (_, index) => `pay_durable_${100 + index}`);
  for (const id of ids) expect(await sendPayment(first.url, id)).toBe(200);
  await slack.received(1);

  // Headers, then a body that never comes.
  const { port } = new URL(first.url);
  const stuck = connect(Number(port), '127.0.0.1');
  stuck.on('error', () => undefined);
  await new Promise<void>((resolve) => stuck.once('connect', () => resolve()));
  stuck.write('POST /webhooks/dodo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"type":');

  const signalled = Date.now();
  const code = await first.process.stop('SIGTERM');
  const tookMs = Date.now() - signalled;
  stuck.destroy();
  expect(code).toBe(0);
  expect(tookMs).toBeLessThan(2000 + 1500);
  expect(first.process.stdout).toMatch(new RegExp(`${EVENTS - 1} event\\(s\\) pending in ${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  expect(postedPaymentIds(slack)).toEqual([ids[0]]);

  const second = await serve(dataDir, slackUrl, '--rate', '50');
  expect(second.process.stdout).toMatch(new RegExp(`resuming ${EVENTS - 1} pending event\\(s\\)`));
  await waitUntil(() => postedPaymentIds(slack).length >= EVENTS, `${EVENTS} posts`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  expect([...postedPaymentIds(slack)].sort()).toEqual([...ids].sort());
});
