/**
 * Alerts through `dodo-slack serve`, end to end: signed webhooks in over HTTP, a Slack stand-in on
 * 127.0.0.1 out. The rules run every 0.5 s here (--alert-interval) so a case takes seconds; the
 * default is 30 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { postSignedWebhook } from '../support/signed-post';
import { buildCli, cleanEnv, FakeSlack, startServe, type BuiltCli, type ServeHandle } from './cli-harness';
import { dodoEvent } from '../support/summary-events';

jest.setTimeout(120_000);

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
let cli: BuiltCli;
let scratch: string;
const running: ServeHandle[] = [];
const slacks: FakeSlack[] = [];
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
let sequence = 0;

beforeAll(() => {
  cli = buildCli();
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-alerts-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((serve) => serve.process.stop('SIGKILL')));
  await Promise.all(slacks.splice(0).map((slack) => slack.stop()));
});
afterAll(() => {
  agent.destroy();
  rmSync(scratch, { recursive: true, force: true });
});

async function slack(): Promise<{ slack: FakeSlack; url: string }> {
  const fake = new FakeSlack();
  slacks.push(fake);
  return { slack: fake, url: await fake.start() };
}

async function serve(dataDir: string, slackUrl: string, ...args: string[]): Promise<ServeHandle> {
  return serveWith(['--data-dir', dataDir, '--rate', '100', '--alert-interval', '0.5', ...args], slackUrl);
}

async function serveWith(args: readonly string[], slackUrl: string): Promise<ServeHandle> {
  const handle = await startServe(cli.entry, args, cleanEnv({ DODO_WEBHOOK_SECRET: SECRET, SLACK_WEBHOOK_URL: slackUrl }));
  running.push(handle);
  return handle;
}

function send(url: string, type: string, data: Record<string, unknown> = {}): Promise<number> {
  sequence += 1;
  const body = JSON.stringify(dodoEvent(type, { timestamp: new Date().toISOString(), currency: 'USD', amount: 1000, data }));
  return postSignedWebhook(url, { webhookId: `msg_alert_${sequence}`, body, secret: SECRET, agent });
}

async function sendMix(url: string, mix: readonly [string, number, Record<string, unknown>?][]): Promise<void> {
  for (const [type, count, data] of mix) {
    for (let index = 0; index < count; index += 1) expect(await send(url, type, data)).toBe(200);
  }
}

/** Top-level texts of the messages Slack got that start with `prefix`. */
function texts(fake: FakeSlack, prefix: RegExp = /^(Alert|Resolved):/): string[] {
  return fake.requests.map((req) => (JSON.parse(req.body) as { text?: string }).text ?? '').filter((text) => prefix.test(text));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('30 payments succeeded and 20 failed: one failure alert, not repeated by later runs or a restart', async () => {
  const { slack: fake, url } = await slack();
  const dataDir = path.join(scratch, 'failures');
  const handle = await serve(dataDir, url, '--alerts');
  await sendMix(handle.url, [
    ['payment.succeeded', 30],
    ['payment.failed', 20, { error_code: 'card_declined' }],
  ]);
  await until(() => texts(fake).length > 0, 90_000);
  await pause(3000);
  expect(texts(fake)).toHaveLength(1);
  // An evaluation may run while the mix is still arriving: the alert opens as soon as the rule holds.
  expect(texts(fake)[0]).toMatch(/^Alert: payment failures: (\d+) of (\d+) payments failed in the last hour \(\d+ %\); no history yet, alerting above 20 %\. Top error codes: card_declined ×\d+\.$/);

  await handle.process.stop('SIGTERM');
  running.splice(running.indexOf(handle), 1);
  await serve(dataDir, url, '--alerts');
  await pause(3000);
  expect(texts(fake)).toHaveLength(1);
});

it('with the defaults (1 message a second, the rules every 30 s), the failure alert reaches Slack within 90 s', async () => {
  const { slack: fake, url } = await slack();
  const handle = await serveWith(['--data-dir', path.join(scratch, 'defaults'), '--alerts'], url);
  const started = Date.now();
  await sendMix(handle.url, [
    ['payment.succeeded', 30],
    ['payment.failed', 20],
  ]);
  await until(() => texts(fake).length > 0, 90_000);
  expect(Date.now() - started).toBeLessThan(90_000);
  expect(texts(fake)).toEqual([expect.stringMatching(/^Alert: payment failures: /)]);
});

it('50 payments succeeded and 1 failed: no alert', async () => {
  const { slack: fake, url } = await slack();
  const handle = await serve(path.join(scratch, 'quiet'), url, '--alerts');
  await sendMix(handle.url, [
    ['payment.succeeded', 50],
    ['payment.failed', 1],
  ]);
  await until(() => fake.requests.length >= 2, 30_000);
  await pause(4000);
  expect(texts(fake)).toEqual([]);
});

it('silence: nothing before the first webhook, an alert after --silence-after, resolved when webhooks arrive again', async () => {
  const { slack: fake, url } = await slack();
  const handle = await serve(path.join(scratch, 'silence'), url, '--silence-after', '2');
  await pause(3000);
  expect(texts(fake)).toEqual([]);
  expect(await send(handle.url, 'payment.succeeded')).toBe(200);
  await until(() => texts(fake).length === 1, 20_000);
  expect(texts(fake)[0]).toMatch(/^Alert: no webhooks for/);
  await pause(2000);
  expect(texts(fake)).toHaveLength(1);
  expect(await send(handle.url, 'payment.succeeded')).toBe(200);
  await until(() => texts(fake).length === 2, 20_000);
  expect(texts(fake)[1]).toMatch(/^Resolved: webhooks arrive again/);
});

it("a month's disputes at 1 in 20 payments: one dispute ratio alert with its counts", async () => {
  const { slack: fake, url } = await slack();
  const handle = await serve(path.join(scratch, 'disputes'), url, '--alerts', '--alerts-off', 'silence');
  await sendMix(handle.url, [
    ['payment.succeeded', 20],
    ['dispute.opened', 1],
  ]);
  await until(() => texts(fake).length > 0, 30_000);
  await pause(2000);
  expect(texts(fake)).toHaveLength(1);
  expect(texts(fake)[0]).toMatch(/^Alert: dispute ratio 5 % for \d{4}-\d{2}: 1 dispute\(s\) opened against 20 successful payment\(s\)/);
});
