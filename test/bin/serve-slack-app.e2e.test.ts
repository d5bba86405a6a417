/**
 * The contract of app mode through the real CLI (`node bin/dodo-slack.js serve`, a child process):
 * SLACK_BOT_TOKEN and SLACK_CHANNEL (or flags) and --slack-api-url http://127.0.0.1:PORT/api/;
 * POST {url}chat.postMessage / chat.update with `Authorization: Bearer <token>`; every posted
 * message has metadata.event_payload.webhook_id; a parent has no thread_ts, a reply has thread_ts
 * = the parent's ts. Webhooks signed with the `standardwebhooks` reference library.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { buildCli, cleanEnv, startServe, type BuiltCli, type ServeHandle } from './cli-harness';
import { FakeSlackApi } from '../support/fake-slack-api';
import { PAYMENT_STORY, shownText } from '../support/slack-app-story';

jest.setTimeout(60_000);

const SECRET = `whsec_${randomBytes(24).toString('base64')}`;
const TOKEN = 'xoxb-test-0000-token';
const CHANNEL = 'C0TESTCHAN';

let cli: BuiltCli;
let scratch: string;
const api = new FakeSlackApi();
let handle: ServeHandle | undefined;

beforeAll(async () => {
  cli = buildCli();
  scratch = mkdtempSync(path.join(tmpdir(), 'dodo-slack-app-cli-'));
  await api.start();
});
beforeEach(() => api.reset());
afterEach(async () => {
  await handle?.process.stop('SIGTERM');
  // Nothing serve printed carries the token.
  expect(`${handle?.process.stdout}${handle?.process.stderr}`).not.toContain(TOKEN);
  handle = undefined;
});
afterAll(async () => {
  await api.stop();
  rmSync(scratch, { recursive: true, force: true });
});

let sent = 0;
async function post(url: string, body: string): Promise<string> {
  const id = `msg_cli_${++sent}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': new Webhook(SECRET).sign(id, new Date(timestamp * 1000), body) },
    body,
  });
  expect(response.status).toBe(200);
  return id;
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the Slack stand-in');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

test('SLACK_BOT_TOKEN + SLACK_CHANNEL + --slack-api-url: one parent, replies in its thread, the card updated to the outcome', async () => {
  handle = await startServe(cli.entry, ['--rate', '100', '--data-dir', path.join(scratch, 'env'), '--slack-api-url', api.url], cleanEnv({ DODO_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: TOKEN, SLACK_CHANNEL: CHANNEL }));
  await handle.process.waitFor(new RegExp(`posting to Slack channel ${CHANNEL} `));
  const ids: string[] = [];
  for (const [index, event] of PAYMENT_STORY.entries()) {
    ids.push(await post(handle.url, event.body));
    // One at a time, as Dodo sends a payment's events days apart.
    await until(() => api.messages.filter((m) => m.thread_ts !== undefined).length === index + 1);
  }
  await until(() => shownText(api.parents(CHANNEL)[0] ?? {}).includes('dispute won'));

  const posts = api.calls.filter((call) => call.method === 'chat.postMessage');
  const updates = api.calls.filter((call) => call.method === 'chat.update');
  expect(posts).toHaveLength(5);
  expect(updates).toHaveLength(3);
  expect([...posts, ...updates].every((call) => call.authorization === `Bearer ${TOKEN}`)).toBe(true);
  expect(posts.every((call) => typeof (call.args.metadata as { event_payload: { webhook_id: unknown } }).event_payload.webhook_id === 'string')).toBe(true);

  const [parent, ...others] = api.parents(CHANNEL);
  expect(others).toEqual([]);
  expect(parent.thread_ts).toBeUndefined();
  expect(api.replies(parent.ts).map((reply) => [reply.thread_ts, reply.metadata?.event_payload.webhook_id])).toEqual(ids.map((id) => [parent.ts, id]));
});

test('the flags work as the variables do, and a channel name is refused at start with exit 1', async () => {
  handle = await startServe(cli.entry, ['--rate', '100', '--data-dir', path.join(scratch, 'flags'), '--slack-api-url', api.url, '--slack-channel', CHANNEL, '--slack-bot-token', TOKEN], cleanEnv({ DODO_WEBHOOK_SECRET: SECRET }));
  const id = await post(handle.url, PAYMENT_STORY[0].body);
  await until(() => api.withWebhookId(id).length === 2);
  expect(api.withWebhookId(id).map((m) => m.metadata?.event_payload.role)).toEqual(['parent', 'reply']);

  const { spawnSync } = await import('node:child_process');
  const refused = spawnSync(process.execPath, [cli.entry, 'serve', '--port', '0', '--data-dir', path.join(scratch, 'bad'), '--slack-channel', '#payments'], {
    env: cleanEnv({ DODO_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: TOKEN }),
    encoding: 'utf8',
  });
  expect(refused.status).toBe(1);
  expect(refused.stderr).toMatch(/SLACK_CHANNEL must be a channel ID such as C0123456789/);
  expect(refused.stderr).not.toContain(TOKEN);
});

test('every chat.postMessage recorded but answered after the timeout (6 s, as in the issue): each message in the channel once, nothing dead-lettered', async () => {
  const dir = path.join(scratch, 'slow');
  handle = await startServe(cli.entry, ['--rate', '100', '--data-dir', dir, '--slack-api-url', api.url], cleanEnv({ DODO_WEBHOOK_SECRET: SECRET, SLACK_BOT_TOKEN: TOKEN, SLACK_CHANNEL: CHANNEL }));
  api.respond = (call) => (call.method === 'chat.postMessage' ? { kind: 'record-then-slow', delayMs: 6000 } : { kind: 'normal' });
  const id = await post(handle.url, PAYMENT_STORY[0].body);
  await handle.process.waitFor(new RegExp(`${id} payment\\.succeeded → delivered`), 30_000);
  expect(api.withWebhookId(id).map((m) => m.metadata?.event_payload.role)).toEqual(['parent', 'reply']);
  expect(api.calls.map((call) => call.method)).toEqual(['chat.postMessage', 'conversations.history', 'chat.postMessage', 'conversations.replies']);
  await handle.process.stop('SIGTERM');
  const { openStore } = await import('../../lambda/local/store');
  const store = openStore(dir, { readOnly: true });
  try {
    expect(store.events.deadLetters()).toEqual([]);
    expect(store.events.count('delivered')).toBe(1);
  } finally {
    store.close();
  }
});
