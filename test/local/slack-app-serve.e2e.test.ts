/**
 * Slack app mode through `dodo-slack serve` (startLocalServer in process, real HTTP both ways):
 * signed webhooks in, a Slack Web API stand-in on 127.0.0.1 out (test/support/fake-slack-api.ts),
 * threads in serve's SQLite store. Signatures come from the `standardwebhooks` reference library.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { startLocalServer, type LocalServer } from '../../lambda/local/server';
import { openStore } from '../../lambda/local/store';
import { Defaults } from '../../lambda/shared/defaults';
import { testServerOptions } from '../support/local-server';
import { useFakeSlackApi } from '../support/fake-slack-api';
import { eventAt, PAYMENT_ID, PAYMENT_STORY, shownText } from '../support/slack-app-story';

jest.setTimeout(30_000);

const SIGNING_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const TOKEN = 'xoxb-test-0000-token';
const CHANNEL = 'C0TESTCHAN';

describe('serve in Slack app mode', () => {
  const api = useFakeSlackApi();
  let workDir: string;
  let output: string[];
  let server: LocalServer | undefined;
  let sent = 0;

  beforeEach(() => {
    workDir = mkdtempSync(join(tmpdir(), 'dodo-slack-app-'));
    output = [];
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    // The token never reaches what serve prints (progress lines, dead letters, logs).
    expect(output.join('')).not.toContain(TOKEN);
    rmSync(workDir, { recursive: true, force: true });
  });

  async function start(extra: Parameters<typeof testServerOptions>[3] = {}): Promise<LocalServer> {
    server = await startLocalServer(
      testServerOptions(SIGNING_SECRET, workDir, output, { slackBotToken: TOKEN, slackChannel: CHANNEL, slackApiUrl: api.url, verbose: false, ...extra }),
    );
    return server;
  }

  /** Sends one signed webhook and waits until serve has nothing pending. Returns its webhook-id. */
  async function send(body: string): Promise<string> {
    const id = `msg_app_${++sent}_${Date.now()}`;
    const timestamp = Math.floor(Date.now() / 1000);
    const response = await fetch(server!.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': new Webhook(SIGNING_SECRET).sign(id, new Date(timestamp * 1000), body),
      },
      body,
    });
    expect(response.status).toBe(200);
    await server!.idle();
    return id;
  }

  test('payment → refund → dispute opened → dispute won: one parent, the events as replies, the card ends at the outcome', async () => {
    await start();
    const ids: string[] = [];
    const callsPerEvent: number[] = [];
    for (const event of PAYMENT_STORY) {
      const before = api.calls.length;
      ids.push(await send(event.body));
      callsPerEvent.push(api.calls.length - before);
    }

    const parents = api.parents(CHANNEL);
    expect(parents).toHaveLength(1);
    const parent = parents[0];
    expect(parent.thread_ts).toBeUndefined();
    expect(parent.metadata?.event_payload).toMatchObject({ webhook_id: ids[0], role: 'parent', thread_key: `payment:${PAYMENT_ID}` });

    const replies = api.replies(parent.ts);
    expect(replies.map((reply) => reply.metadata?.event_payload.webhook_id)).toEqual(ids);
    expect(replies.every((reply) => reply.thread_ts === parent.ts)).toBe(true);
    expect(replies.map((reply) => reply.metadata?.event_payload.dodo_event_type)).toEqual(PAYMENT_STORY.map((event) => event.type));
    // Disputes are broadcast to the channel by default; the payment and its refund are not.
    expect(replies.map((reply) => reply.reply_broadcast === true)).toEqual([false, false, true, true]);

    // The card moved with the story and ends at the dispute's outcome, with the refund counted.
    const versions = parent.versions.map(shownText);
    expect(versions[0]).toContain('Payment succeeded');
    expect(versions.at(-1)).toContain('dispute won');
    expect(versions.at(-1)).toContain('refunded $10.00');
    expect(versions.some((text) => text.includes('dispute opened'))).toBe(true);

    // Every call carries the bot token as a Bearer header, and every post its metadata.
    expect(api.calls.every((call) => call.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const posts = api.calls.filter((call) => call.method === 'chat.postMessage');
    expect(posts.every((call) => typeof (call.args.metadata as { event_payload?: { webhook_id?: unknown } }).event_payload?.webhook_id === 'string')).toBe(true);

    // Slack calls per event: parent + reply for the first, update + reply for each later one.
    expect(callsPerEvent).toEqual([2, 2, 2, 2]);
    expect(api.count('chat.postMessage')).toBe(5);
    expect(api.count('chat.update')).toBe(3);
    expect(api.count('conversations.history') + api.count('conversations.replies')).toBe(0);
  });

  test('a dispute that arrives before its payment still gives one thread, and the card fills in', async () => {
    await start();
    const disputeId = await send(PAYMENT_STORY[2].body);
    const paymentId = await send(PAYMENT_STORY[0].body);
    const parents = api.parents(CHANNEL);
    expect(parents).toHaveLength(1);
    const parent = parents[0];
    expect(parent.metadata?.event_payload.webhook_id).toBe(disputeId);
    expect(api.replies(parent.ts).map((reply) => reply.metadata?.event_payload.webhook_id)).toEqual([disputeId, paymentId]);
    const card = shownText(parent);
    expect(card).toContain('Payment succeeded');
    expect(card).toContain('dispute opened');
  });

  test('the card never moves back: a late dispute.opened after dispute.won leaves it at won (it is still posted as a reply)', async () => {
    await start();
    await send(PAYMENT_STORY[0].body);
    await send(PAYMENT_STORY[3].body);
    const updatesBefore = api.count('chat.update');
    await send(PAYMENT_STORY[2].body);
    const parent = api.parents(CHANNEL)[0];
    expect(shownText(parent)).toContain('dispute won');
    expect(api.count('chat.update')).toBe(updatesBefore);
    expect(api.replies(parent.ts)).toHaveLength(3);
  });

  test('a post Slack records but answers after the timeout is in the channel once, and the event is delivered', async () => {
    await start();
    await send(PAYMENT_STORY[0].body);
    // The refund's reply: Slack keeps it, but answers after serve's Slack timeout.
    let slowed = false;
    api.respond = (call) => {
      if (call.method === 'chat.postMessage' && !slowed) {
        slowed = true;
        return { kind: 'record-then-slow', delayMs: Defaults.slackTimeoutMs + 1500 };
      }
      return { kind: 'normal' };
    };
    const before = api.calls.length;
    const id = await send(PAYMENT_STORY[1].body);
    expect(api.withWebhookId(id)).toHaveLength(1);
    expect(api.calls.slice(before).map((call) => call.method)).toEqual(['chat.update', 'chat.postMessage', 'conversations.replies']);
    const store = openStore(join(workDir, 'serve-data'), { readOnly: true });
    try {
      expect(store.events.count('delivered')).toBe(2);
      expect(store.events.deadLetters()).toHaveLength(0);
    } finally {
      store.close();
    }
  });

  test('a connection cut after Slack kept the post: found by its metadata, not posted again', async () => {
    await start();
    let cut = false;
    api.respond = (call) => {
      if (call.method === 'chat.postMessage' && !cut) {
        cut = true;
        return { kind: 'record-then-reset' };
      }
      return { kind: 'normal' };
    };
    const id = await send(eventAt('payout.success', '2026-03-31T06:00:02.000Z'));
    const parents = api.parents(CHANNEL);
    expect(parents).toHaveLength(1);
    expect(api.withWebhookId(id).map((m) => m.metadata?.event_payload.role)).toEqual(['parent', 'reply']);
    expect(api.count('conversations.history')).toBe(1);
  });

  test('ratelimited with Retry-After: retried after the pause, posted once', async () => {
    await start({ maxAttempts: 3 });
    let limited = false;
    api.respond = (call) => {
      if (call.method === 'chat.postMessage' && !limited) {
        limited = true;
        return { kind: 'answer', status: 429, body: { ok: false, error: 'ratelimited' }, headers: { 'retry-after': '1' } };
      }
      return { kind: 'normal' };
    };
    const started = Date.now();
    const id = await send(PAYMENT_STORY[0].body);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(api.withWebhookId(id).map((m) => m.metadata?.event_payload.role)).toEqual(['parent', 'reply']);
  });

  test.each(['not_in_channel', 'channel_not_found', 'is_archived', 'invalid_auth'])('%s is dead-lettered with the reason, without retries', async (error) => {
    await start({ maxAttempts: 3 });
    api.respond = () => ({ kind: 'answer', status: 200, body: { ok: false, error } });
    await send(PAYMENT_STORY[0].body);
    expect(api.count('chat.postMessage')).toBe(1);
    const store = openStore(join(workDir, 'serve-data'), { readOnly: true });
    try {
      const [dead] = store.events.deadLetters();
      expect(dead?.reason).toContain(error);
      expect(dead?.attempts).toBe(1);
      expect(dead?.lastSlackResponse).toBe(`chat.postMessage 200 ${error}`);
      expect(JSON.stringify(dead)).not.toContain(TOKEN);
    } finally {
      store.close();
    }
  });

  test('threads survive a restart: the next event after a restart joins the thread started before it', async () => {
    await start();
    await send(PAYMENT_STORY[0].body);
    await server!.close();
    server = undefined;
    await start();
    await send(PAYMENT_STORY[1].body);
    expect(api.parents(CHANNEL)).toHaveLength(1);
    expect(api.replies(api.parents(CHANNEL)[0].ts)).toHaveLength(2);
  });

  test('refuses at start a token that is not a bot token, a channel name, or a webhook URL beside a token (never quoting the token)', async () => {
    await expect(start({ slackBotToken: 'xoxp-user-token-123456789' })).rejects.toThrow(/xoxp- token; app mode needs the bot token/);
    await expect(start({ slackChannel: '#payments' })).rejects.toThrow(/channel ID such as C0123456789/);
    await expect(start({ slackWebhookUrl: 'http://127.0.0.1:9/services/T/B/x' })).rejects.toThrow(/not both/);
    await expect(start({ slackApiUrl: 'http://slack.example.com/api/' })).rejects.toThrow(/http only on 127.0.0.1/);
  });
});

describe('serve app-mode options', () => {
  const api = useFakeSlackApi();
  test('--reply-broadcast "" broadcasts nothing; --reply-broadcast without a token is refused', async () => {
    const workDir = mkdtempSync(join(tmpdir(), 'dodo-slack-app-opts-'));
    const output: string[] = [];
    try {
      await expect(startLocalServer(testServerOptions(SIGNING_SECRET, workDir, output, { replyBroadcast: [] }))).rejects.toThrow(/--reply-broadcast applies only in app mode/);
      const server = await startLocalServer(testServerOptions(SIGNING_SECRET, workDir, output, { slackBotToken: TOKEN, slackChannel: CHANNEL, slackApiUrl: api.url, replyBroadcast: [] }));
      try {
        const body = PAYMENT_STORY[2].body;
        const id = 'msg_no_broadcast';
        const timestamp = Math.floor(Date.now() / 1000);
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': new Webhook(SIGNING_SECRET).sign(id, new Date(timestamp * 1000), body) },
          body,
        });
        expect(response.status).toBe(200);
        await server.idle();
        expect(api.withWebhookId(id).map((m) => [m.metadata?.event_payload.role, m.reply_broadcast === true])).toEqual([['parent', false], ['reply', false]]);
      } finally {
        await server.close();
      }
    } finally {
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});
